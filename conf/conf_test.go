package conf

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

func TestParseReportsWhereJSONBreaks(t *testing.T) {
	const yaml = ": this looks like YAML, and the plugin configuration is JSON" +
		" (in a WasmPlugin, pluginConfig is written in YAML and reaches the plugin as JSON; a file for the local runner or the test kit must be JSON)"
	for doc, want := range map[string]string{
		`{"a": 1,}`:                       "malformed JSON at offset 8 (line 1, column 9)",
		`{"a": [1, 2}`:                    "malformed JSON at offset 11 (line 1, column 12)",
		`{"a": "x`:                        "malformed JSON at offset 8 (line 1, column 9)",
		`[1, 2]`:                          "must be a JSON object",
		`{"a": {"b": tru}}`:               "malformed JSON at offset 12 (line 1, column 13)",
		"{\n  \"a\": 1\n  \"b\": 2}":      "malformed JSON at offset 13 (line 3, column 3)",
		"filters:\n  - name: ratelimit\n": "malformed JSON at offset 0 (line 1, column 1)" + yaml,
		"# the plugin\n{}":                "malformed JSON at offset 0 (line 1, column 1)" + yaml,
		"---\nfilters: []":                "malformed JSON at offset 0 (line 1, column 1)" + yaml,
		"{\"a\": x}":                      "malformed JSON at offset 6 (line 1, column 7)", // not YAML-like: no hint
	} {
		_, err := Parse([]byte(doc))
		if err == nil || err.Error() != want {
			t.Errorf("Parse(%s) = %v, want %q", doc, err, want)
		}
	}
}

func TestGetters(t *testing.T) {
	o, err := Parse([]byte(`{"s": "x", "n": 3, "f": 1.5, "b": true, "d": "250ms",
		"l": ["a", "b"], "m": {"k": "v"}, "o": {"x": 1}, "a": [{"y": 2}], "dot.key": "lit"}`))
	if err != nil {
		t.Fatal(err)
	}
	if o.String("s", "") != "x" || o.Int("n", 0) != 3 || o.Float("f", 0) != 1.5 || !o.Bool("b", false) ||
		o.Duration("d", 0) != 250*time.Millisecond || len(o.Strings("l")) != 2 || o.StringMap("m")[0] != [2]string{"k", "v"} ||
		o.String("dot.key", "") != "lit" || o.String("missing", "def") != "def" {
		t.Fatal("a getter returned the wrong value")
	}
	if m := o.Members("o"); len(m) != 1 || m[0].Key != "x" || m[0].Value.Raw != "1" {
		t.Fatalf("Members = %v", m)
	}
	sub := o.Object("o")
	if sub.Int("x", 0) != 1 || sub.Err() != nil {
		t.Fatal("nested object")
	}
	items := o.Objects("a")
	if len(items) != 1 || items[0].Int("y", 0) != 2 || items[0].Path() != "a[0]" {
		t.Fatal("array of objects")
	}
	if err := o.Err(); err != nil {
		t.Fatalf("Err = %v", err)
	}
}

func TestErrorsNameThePath(t *testing.T) {
	cases := []struct {
		doc  string
		read func(o *Object)
		want string
	}{
		{`{"n": "3"}`, func(o *Object) { o.Int("n", 0) }, "n: must be a number, not a string"},
		{`{"n": 1.5}`, func(o *Object) { o.Int("n", 0) }, "n: must be a whole number, not 1.5"},
		{`{"d": "soon"}`, func(o *Object) { o.Duration("d", 0) }, `d: must be a duration such as "200ms" or "1s", not "soon"`},
		{`{"l": ["a", 1]}`, func(o *Object) { o.Strings("l") }, "l[1]: must be a string, not a number"},
		{`{}`, func(o *Object) { o.RequiredString("name") }, "name: is required"},
		{`{"name": ""}`, func(o *Object) { o.RequiredString("name") }, "name: must not be empty"},
		{`{"a": [{"y": "2"}]}`, func(o *Object) {
			o.Check(o.Objects("a")[0].Err())
			o.Objects("a")[0].Int("y", 0)
			o.Check(o.Objects("a")[0].Err())
		}, ""},
		{`{"o": {"x": true}}`, func(o *Object) { s := o.Object("o"); s.Int("x", 0); o.Check(s.Err()) }, "o.x: must be a number, not a boolean"},
		{`{"m": [1]}`, func(o *Object) { o.Members("m") }, "m: must be an object, not an array"},
		{`{"m": {"a": 1, "a": 2}}`, func(o *Object) { o.Members("m") }, `m.a: is given twice`},
		{`{"nme": "x", "n": "bad"}`, func(o *Object) { o.String("name", ""); o.Int("n", 0) }, "nme: unknown field (known fields: n, name)"},
	}
	for _, c := range cases {
		o, err := Parse([]byte(c.doc))
		if err != nil {
			t.Fatal(err)
		}
		c.read(o)
		err = o.Err()
		if c.want == "" {
			continue
		}
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: Err = %v, want %q", c.doc, err, c.want)
		}
	}
}

func TestWithin(t *testing.T) {
	if got := Within("config", Errorf("rules[2].burst", "must be > 0")).Error(); got != "config.rules[2].burst: must be > 0" {
		t.Errorf("Within = %q", got)
	}
	if got := Within("rules", Errorf("[1]", "bad")).Error(); got != "rules[1]: bad" {
		t.Errorf("Within = %q", got)
	}
	if got := Within("config", errors.New("plain")).Error(); got != "config: plain" {
		t.Errorf("Within = %q", got)
	}
	if Within("config", nil) != nil {
		t.Error("Within(nil) is not nil")
	}
}

func TestErrCoversNestedObjects(t *testing.T) {
	o, err := Parse([]byte(`{"rules": [{"match": {"pth": "/x"}}], "deny": {"status": 403, "bdy": ""}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range o.Objects("rules") {
		r.Object("match").String("path", "")
	}
	o.Object("deny").Int("status", 0)
	// The nested decoders' Err is never called: the root's covers them.
	if err := o.Err(); err == nil || err.Error() != "rules[0].match.pth: unknown field (known fields: path)" {
		t.Errorf("Err = %v", err)
	}
}

func TestDuplicateKeysAreRefused(t *testing.T) {
	o, err := Parse([]byte(`{"requests_per_unit": 2, "requests_per_unit": -5}`))
	if err != nil {
		t.Fatal(err)
	}
	o.Int("requests_per_unit", 0)
	if err := o.Err(); err == nil || err.Error() != "requests_per_unit: is given twice" {
		t.Errorf("Err = %v", err)
	}
}

func TestLimits(t *testing.T) {
	deep := []byte(strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1))
	if _, err := Parse(deep); err == nil || !strings.Contains(err.Error(), "deeper than 64 levels") {
		t.Errorf("Parse(too deep) = %v", err)
	}
	ok := []byte(strings.Repeat(`{"a":`, MaxDepth) + "1" + strings.Repeat("}", MaxDepth))
	if _, err := Parse(ok); err != nil {
		t.Errorf("Parse(%d deep) = %v", MaxDepth, err)
	}
	big := []byte(`{"a": "` + strings.Repeat("x", MaxSize) + `"}`)
	if _, err := Parse(big); err == nil || !strings.Contains(err.Error(), "the limit is 524288 bytes") {
		t.Errorf("Parse(too big) = %v", err)
	}
}

func TestOneOfMovedValue(t *testing.T) {
	o, _ := Parse([]byte(`{"mode": "maybe"}`))
	if got := o.OneOf("mode", "open", "open", "closed"); got != "open" {
		t.Errorf("OneOf = %q", got)
	}
	if err := o.Err(); err == nil || err.Error() != `mode: must be "open" or "closed", not "maybe"` {
		t.Errorf("OneOf: Err = %v", err)
	}
	o, _ = Parse([]byte(`{"status": 429, "raw": [1, {"x": 2}]}`))
	o.Moved("status", "deny.status")
	if !o.Value("raw").IsArray() {
		t.Error("Value lost the array")
	}
	if err := o.Err(); err == nil || err.Error() != "status: moved: write it as deny.status" {
		t.Errorf("Moved: Err = %v", err)
	}
}

func TestDepthLimitNamesThePath(t *testing.T) {
	doc := `{"filters": [{"name": "headerauth", "config": ` + strings.Repeat(`{"any_of": [`, 40) + `{}` + strings.Repeat("]}", 40) + `}]}`
	_, err := Parse([]byte(doc))
	var e *Error
	if !errors.As(err, &e) || !strings.HasPrefix(e.Path, "filters[0].config.any_of[0].any_of[0].") || !strings.Contains(e.Reason, "deeper than 64 levels") {
		t.Fatalf("Parse = %v", err)
	}
	if e.Path != "filters[0].config"+strings.Repeat(".any_of[0]", 30)+".any_of" {
		t.Errorf("path = %q", e.Path)
	}
}

func TestInvalidUTF8(t *testing.T) {
	_, err := Parse([]byte("{\"header\": \"a\xffb\"}"))
	if err == nil || err.Error() != "is not valid UTF-8 (at offset 13)" {
		t.Errorf("Parse = %v", err)
	}
	if _, err := Parse([]byte(`{"name": "你好", "value": "六翁"}`)); err != nil {
		t.Errorf("Parse(UTF-8) = %v", err)
	}
}

// FuzzParse checks that Parse never panics, refuses what is too deep or too
// large with a message naming the limit, and accepts only documents that
// decode: every key of an accepted object can be read.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"a": 1}`, `{"a": 1, "a": 2}`, `{"filters": [{"name": "x", "config": {"k": [1, {"b": null}]}}]}`,
		strings.Repeat("[", 70) + strings.Repeat("]", 70), `{"a": "\ud800"}`, "{\"a\": \"\xff\"}", `{"a": "x\"}`, `{"a": {"b": tru}}`,
		`{"a":` + strings.Repeat(`{"b":`, 64) + "1" + strings.Repeat("}", 65),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		o, err := Parse(doc)
		if err != nil {
			if strings.Contains(err.Error(), "deeper than") && !strings.Contains(err.Error(), "64 levels") {
				t.Fatalf("depth error without the limit: %v", err)
			}
			return
		}
		o.Raw().ForEach(func(k, _ gjson.Result) bool {
			o.Value(k.String())
			return true
		})
		if err := o.Err(); err != nil && !strings.Contains(err.Error(), "is given twice") {
			t.Fatalf("%q: every key read, yet Err = %v", doc, err)
		}
	})
}
