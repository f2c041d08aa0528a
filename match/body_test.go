package match_test

import (
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/conf"
	"github.com/wasmpolicy/policy/match"
)

// Body conditions: a rule that restricts (Possibly) applies if any reading
// of the field meets it, or the body cannot be read; a rule that permits
// (Certainly) only if every reading does.
func TestBodyConditions(t *testing.T) {
	post := func(body string, headers ...[2]string) *match.Request {
		var r match.Request
		r.Reset(&request{headers: append([][2]string{{":method", "POST"}, {":path", "/"}, {":authority", "a"}}, headers...)})
		r.SetBody([]byte(body))
		return &r
	}
	for _, c := range []struct {
		match, body         string
		headers             [][2]string
		possibly, certainly bool
	}{
		{`{"body": [{"path": "role", "equals": "admin"}]}`, `{"role": "admin"}`, nil, true, true},
		{`{"body": [{"path": "role", "equals": "admin"}]}`, `{"role": "user"}`, nil, false, false},
		// A key given twice, in two cases, escaped: some parser reads admin.
		{`{"body": [{"path": "role", "equals": "admin"}]}`, `{"role": "user", "role": "admin"}`, nil, true, false},
		{`{"body": [{"path": "role", "equals": "admin"}]}`, `{"role": "user", "Role": "admin"}`, nil, true, false},
		{`{"body": [{"path": "role", "equals": "admin"}]}`, `{"r\u006fle": "\u0061dmin"}`, nil, true, true},
		// What cannot be read safely possibly matches every condition and
		// certainly none.
		{`{"body": [{"path": "role", "equals": "admin"}]}`, `{"role": "user"} x`, nil, true, false},
		{`{"body": [{"path": "role", "absent": true}]}`, "\xEF\xBB\xBF{}", nil, true, false},
		{`{"body": [{"path": "role", "equals": "admin"}]}`, `{"role": "user"}`, [][2]string{{"content-encoding", "gzip"}}, true, false},
		{`{"body": [{"path": "role", "equals": "admin"}]}`, `{"role": "admin"}`, [][2]string{{"content-encoding", "Identity"}}, true, true},
		// No body: every field is absent.
		{`{"body": [{"path": "role", "absent": true}]}`, ``, nil, true, true},
		{`{"body": [{"path": "role", "present": true}]}`, ``, nil, false, false},
		{`{"body": [{"path": "role", "present": true}]}`, `{"role": null}`, nil, true, true},
		// Numbers by value, kinds kept apart.
		{`{"body": [{"path": "n", "equals": 1}]}`, `{"n": 1.0e0}`, nil, true, true},
		{`{"body": [{"path": "n", "equals": 1}]}`, `{"n": "1"}`, nil, false, false},
		{`{"body": [{"path": "n", "in": [1, 2, "x"]}]}`, `{"n": "x"}`, nil, true, true},
		{`{"body": [{"path": "ok", "equals": true}]}`, `{"ok": true}`, nil, true, true},
		{`{"body": [{"path": "model", "prefix": "gpt-4"}]}`, `{"model": "gpt-4o"}`, nil, true, true},
		{`{"body": [{"path": "model", "prefix": "gpt-4"}]}`, `{"model": ["gpt-4o"]}`, nil, false, false},
		{`{"body": [{"path": "items.1.sku", "equals": "x"}]}`, `{"items": [{"sku": "a"}, {"sku": "x"}]}`, nil, true, true},
		// Every condition must hold, with the others of the match.
		{`{"methods": ["GET"], "body": [{"path": "role", "equals": "admin"}]}`, `{"role": "admin"}`, nil, false, false},
		{`{"body": [{"path": "role", "equals": "admin"}, {"path": "org", "absent": true}]}`, `{"role": "admin", "org": 1}`, nil, false, false},
	} {
		m := compile(t, c.match)
		if !m.ReadsBody() {
			t.Errorf("%s: ReadsBody is false", c.match)
		}
		if got := m.Possibly(post(c.body, c.headers...)); got != c.possibly {
			t.Errorf("%s on %q %v: Possibly = %v, want %v", c.match, c.body, c.headers, got, c.possibly)
		}
		if got := m.Certainly(post(c.body, c.headers...)); got != c.certainly {
			t.Errorf("%s on %q %v: Certainly = %v, want %v", c.match, c.body, c.headers, got, c.certainly)
		}
	}
}

// Before the body is there, a body condition cannot be decided: it
// possibly matches and certainly does not. A content-encoding set later is
// seen.
func TestBodyNotYetSet(t *testing.T) {
	m := compile(t, `{"body": [{"path": "role", "absent": true}]}`)
	var r match.Request
	src := &request{headers: [][2]string{{":method", "POST"}, {":path", "/"}}}
	r.Reset(src)
	if !m.Possibly(&r) || m.Certainly(&r) {
		t.Errorf("an unset body: Possibly %v, Certainly %v, want true, false", m.Possibly(&r), m.Certainly(&r))
	}
	r.SetBody([]byte(`{}`))
	if !m.Certainly(&r) {
		t.Error("a body without the field does not certainly match absent")
	}
	src.headers = append(src.headers, [2]string{"content-encoding", "br"})
	r.Changed("content-encoding")
	if m.Certainly(&r) {
		t.Error("a compressed body certainly matches")
	}
	if compile(t, `{"methods": ["GET"]}`).ReadsBody() {
		t.Error("a match without body conditions reads the body")
	}
}

func TestBodyConditionErrors(t *testing.T) {
	for doc, want := range map[string]string{
		`{"body": []}`:              "body: must list at least one condition",
		`{"body": [{"path": "a"}]}`: "body[0]: set exactly one of present, absent, equals, in and prefix",
		`{"body": [{"path": "a", "equals": 1, "prefix": "x"}]}`: "body[0]: set exactly one of present, absent, equals, in and prefix",
		`{"body": [{"path": "a.#.b", "present": true}]}`:        `body[0].path: must be object keys and array indexes separated by '.'`,
		`{"body": [{"path": "a|@reverse", "present": true}]}`:   "gjson's modifiers, queries and wildcards are not field paths",
		`{"body": [{"path": "a..b", "present": true}]}`:         `body[0].path: has an empty element in "a..b"`,
		`{"body": [{"path": "a", "equals": null}]}`:             "body[0].equals: must be a string, a number or a boolean, not null",
		`{"body": [{"path": "a", "equals": {"x": 1}}]}`:         "body[0].equals: must be a string, a number or a boolean",
		`{"body": [{"path": "a", "in": []}]}`:                   "body[0].in: must be a non-empty array",
		`{"body": [{"path": "a", "in": [[1]]}]}`:                "body[0].in[0]: must be a string, a number or a boolean",
		`{"body": [{"path": "a", "equals": 9007199254740993}]}`: "body[0].equals: 9007199254740993: an integer beyond ±2^53",
		`{"body": [{"path": "a", "present": false}]}`:           `body[0].present: must be true`,
		`{"body": [{"equals": "x"}]}`:                           "body[0].path: is required",
	} {
		o, err := conf.Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		spec := match.DecodeWithBody(o)
		err = o.Err()
		if err == nil {
			_, err = match.Compile(spec)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", doc, err, want)
		}
	}
}

// Decode, for filters that decide before the body is there, does not read
// "body": the field is unknown, and the configuration is refused.
func TestDecodeLeavesBodyToFiltersThatReadIt(t *testing.T) {
	o, err := conf.Parse([]byte(`{"body": [{"path": "role", "equals": "admin"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := match.Decode(o); m.Body != nil {
		t.Errorf("Decode read the body conditions: %+v", m.Body)
	}
	if err := o.Err(); err == nil || !strings.Contains(err.Error(), "body: unknown field") {
		t.Errorf("error %v, want body as an unknown field", err)
	}
}
