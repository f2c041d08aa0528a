package match_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/match"
)

func str(s string) match.JSONValue          { return match.JSONValue{Kind: match.JSONString, Text: s} }
func num(s string) match.JSONValue          { return match.JSONValue{Kind: match.JSONNumber, Text: s} }
func absent() match.JSONValue               { return match.JSONValue{Kind: match.JSONAbsent} }
func kind(k match.JSONKind) match.JSONValue { return match.JSONValue{Kind: k} }

// The documents an attacker writes to make a field read one way by the
// policy and another by the backend, and what each reading gives.
func TestJSONReadings(t *testing.T) {
	for _, c := range []struct {
		name, doc, path string
		want            []match.JSONValue // nil: unreadable
	}{
		{"plain", `{"role": "user"}`, "role", []match.JSONValue{str("user")}},
		{"nested, through an array", `{"a": [{"b": 1}, {"b": 2.50}]}`, "a.1.b", []match.JSONValue{num("2.5")}},
		{"missing", `{"a": 1}`, "role", []match.JSONValue{absent()}},
		{"through a string", `{"a": "x"}`, "a.b", []match.JSONValue{absent()}},
		{"index out of range", `{"a": [1]}`, "a.1", []match.JSONValue{absent()}},
		{"index with a leading zero", `{"a": [1, 2]}`, "a.01", []match.JSONValue{absent()}},
		{"a digit key of an object", `{"a": {"0": "x"}}`, "a.0", []match.JSONValue{str("x")}},
		{"kinds", `{"a": null, "b": true, "c": [], "d": {}}`, "b", []match.JSONValue{{Kind: match.JSONBool, Text: "true"}}},
		{"an object", `{"a": {"b": 1}}`, "a", []match.JSONValue{kind(match.JSONObject)}},
		{"null", `{"a": null}`, "a", []match.JSONValue{kind(match.JSONNull)}},

		// A key given twice: gjson reads the first, encoding/json the last.
		{"duplicate key", `{"role": "user", "role": "admin"}`, "role", []match.JSONValue{str("user"), str("admin")}},
		{"duplicate key, same value", `{"role": "admin", "role": "admin"}`, "role", []match.JSONValue{str("admin")}},
		{"duplicate key on the way", `{"a": {"role": "user"}, "a": {"role": "admin"}}`, "a.role", []match.JSONValue{str("user"), str("admin")}},
		{"duplicate, the second missing the field", `{"a": {"role": "user"}, "a": {}}`, "a.role", []match.JSONValue{str("user"), absent()}},
		// Case: encoding/json into a struct matches keys case-insensitively.
		{"a key in another case", `{"Role": "admin"}`, "role", []match.JSONValue{absent(), str("admin")}},
		{"exact, then another case", `{"role": "user", "ROLE": "admin"}`, "role", []match.JSONValue{str("user"), str("admin")}},
		{"Kelvin sign folds to k", `{"\u212Aey": "x"}`, "key", []match.JSONValue{absent(), str("x")}},
		// Escapes in keys and values are decoded by every parser.
		{"escaped key", `{"r\u006fle": "adm\u0069n"}`, "role", []match.JSONValue{str("admin")}},
		{"escaped surrogate pair", `{"a": "\ud83d\ude00"}`, "a", []match.JSONValue{str("😀")}},
		{"numbers compare as values", `{"a": 1.0e0}`, "a", []match.JSONValue{num("1")}},
		{"a tiny number reads as 0", `{"a": 1e-400}`, "a", []match.JSONValue{num("0")}},
		{"2^53", `{"a": 9007199254740992}`, "a", []match.JSONValue{num("9.007199254740992e+15")}},
		{"white space around", " \t\r\n{\"a\": 1}\n ", "a", []match.JSONValue{num("1")}},

		// What parsers disagree on cannot be read.
		{"byte order mark", "\xEF\xBB\xBF{\"a\": 1}", "a", nil},
		{"trailing data", `{"a": 1} {"a": 2}`, "a", nil},
		{"trailing comma", `{"a": 1,}`, "a", nil},
		{"invalid UTF-8 in a value", "{\"a\": \"\xff\"}", "a", nil},
		{"invalid UTF-8 in a key", "{\"\xc3\": 1}", "a", nil},
		{"overlong UTF-8", "{\"a\": \"\xc0\xaf\"}", "a", nil},
		{"escaped lone high surrogate", `{"a": "\ud800"}`, "a", nil},
		{"escaped lone low surrogate", `{"a": "\udc00x"}`, "a", nil},
		{"high surrogate and a letter", `{"a": "\ud800\u0061"}`, "a", nil},
		{"raw control character", "{\"a\": \"x\ny\"}", "a", nil},
		{"NUL", "{\"a\": \"\x00\"}", "a", nil},
		{"single quotes", `{'a': 1}`, "a", nil},
		{"comment", `{"a": 1 /* c */}`, "a", nil},
		{"a number overflowing float64", `{"a": 1e400}`, "a", nil},
		{"an integer beyond 2^53", `{"a": 9007199254740993}`, "a", nil},
		{"a negative integer beyond 2^53", `{"a": -9007199254740993}`, "a", nil},
		{"leading zero", `{"a": 01}`, "a", nil},
		{"NaN", `{"a": NaN}`, "a", nil},
		{"plus sign", `{"a": +1}`, "a", nil},
		{"hex escape", `{"a": "\x41"}`, "a", nil},
		{"not JSON", `role=admin`, "role", nil},
		{"empty", ``, "a", nil},
		{"nested 65 deep", strings.Repeat("[", 65) + strings.Repeat("]", 65), "0", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, err := match.ParseJSON([]byte(c.doc))
			got, ok := body.Readings(strings.Split(c.path, "."))
			if c.want == nil {
				if ok || body.Readable() || err == nil {
					t.Errorf("read as %v (error %v), want unreadable", got, err)
				}
				return
			}
			if !ok || err != nil {
				t.Fatalf("unreadable: %v", err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("readings %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("readings %v, want %v", got, c.want)
				}
			}
		})
	}
	// 64 levels are still read.
	deep := strings.Repeat(`{"a":`, 64) + "1" + strings.Repeat("}", 64)
	body, err := match.ParseJSON([]byte(deep))
	if got, ok := body.Readings(strings.Split(strings.TrimSuffix(strings.Repeat("a.", 64), "."), ".")); !ok || len(got) != 1 || got[0] != num("1") {
		t.Errorf("64 levels: %v %v (%v)", got, ok, err)
	}
}

// A backend that decodes into a struct reads the folded way: the reading
// this module calls folded is what encoding/json gives such a backend.
func TestJSONFoldedIsEncodingJSONIntoAStruct(t *testing.T) {
	for _, doc := range []string{
		`{"role": "user", "ROLE": "admin"}`, `{"Role": "admin", "role": "user"}`,
		`{"r\u006fle": "x"}`, `{"ROLE": "a", "rOlE": "b"}`,
	} {
		var v struct{ Role string }
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		body, _ := match.ParseJSON([]byte(doc))
		got, _ := body.Readings([]string{"role"})
		if !containsReading(got, str(v.Role)) {
			t.Errorf("%s: encoding/json into a struct reads %q; the readings are %v", doc, v.Role, got)
		}
	}
}

func containsReading(vs []match.JSONValue, v match.JSONValue) bool {
	for _, w := range vs {
		if w == v {
			return true
		}
	}
	return false
}

// FuzzJSONReadings checks the readings against two real parsers: for a body
// this module reads, and a path through it, gjson's value and
// encoding/json's (into a map) are among the readings, and a body
// encoding/json refuses is unreadable.
func FuzzJSONReadings(f *testing.F) {
	for _, seed := range []string{
		`{"role": "user", "role": "admin"}`, `{"a": [{"b": 1}, {"b": "x"}]}`, `{"Role": 1}`,
		`{"r\u006fle": "\ud83d\ude00"}`, `[1, 2.5e3, -0, true, null]`, `{"a": {"a": {"a": "deep"}}}`,
	} {
		f.Add(seed, "role")
		f.Add(seed, "a.0.b")
	}
	f.Fuzz(func(t *testing.T, doc, path string) {
		body, err := match.ParseJSON([]byte(doc))
		var any any
		stdErr := json.Unmarshal([]byte(doc), &any)
		if err == nil && stdErr != nil {
			t.Fatalf("read %q, which encoding/json refuses: %v", doc, stdErr)
		}
		if err != nil {
			return
		}
		if !gjson.Valid(doc) {
			t.Fatalf("read %q, which gjson calls invalid", doc)
		}
		elems := strings.Split(path, ".")
		got, ok := body.Readings(elems)
		if !ok || len(got) == 0 || len(got) > 3 {
			t.Fatalf("%q at %q: readings %v, %v", doc, path, got, ok)
		}
		if v := stdValue(any, elems); !containsReading(got, v) {
			t.Errorf("%q at %q: encoding/json reads %v; the readings are %v", doc, path, v, got)
		}
		if !plainPath(path) {
			return // gjson gives such paths a syntax of its own
		}
		if root := strings.TrimLeft(doc, " \t\r\n"); root[0] != '{' && root[0] != '[' {
			return // gjson reads a path through a bare string or number in ways of its own
		}
		if v := gjsonValue(gjson.Get(doc, path)); !containsReading(got, v) {
			t.Errorf("%q at %q: gjson reads %v; the readings are %v", doc, path, v, got)
		}
	})
}

// stdValue walks encoding/json's decoding (maps and slices) as a reading.
func stdValue(v any, path []string) match.JSONValue {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				return absent()
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) || strconv.Itoa(i) != p {
				return absent()
			}
			v = x[i]
		default:
			return absent()
		}
	}
	switch x := v.(type) {
	case nil:
		return kind(match.JSONNull)
	case bool:
		return match.JSONValue{Kind: match.JSONBool, Text: strconv.FormatBool(x)}
	case float64:
		return num(strconv.FormatFloat(x, 'g', -1, 64))
	case string:
		return str(x)
	case []any:
		return kind(match.JSONArray)
	}
	return kind(match.JSONObject)
}

// plainPath reports whether gjson reads path as plain keys and indexes:
// no character its path syntax gives a meaning to, no empty element.
func plainPath(path string) bool {
	if path == "" || strings.ContainsAny(path, `*?#@|!=<>%\{}[]()"':,`+"`") {
		return false
	}
	for _, e := range strings.Split(path, ".") {
		if e == "" || len(e) > 1 && e[0] == '0' && strings.Trim(e, "0123456789") == "" {
			return false // gjson takes "01" for the index 1
		}
	}
	return true
}

func gjsonValue(r gjson.Result) match.JSONValue {
	switch r.Type {
	case gjson.Null:
		if !r.Exists() {
			return absent()
		}
		return kind(match.JSONNull)
	case gjson.False, gjson.True:
		return match.JSONValue{Kind: match.JSONBool, Text: strconv.FormatBool(r.Bool())}
	case gjson.Number:
		return num(strconv.FormatFloat(r.Float(), 'g', -1, 64))
	case gjson.String:
		return str(r.Str)
	}
	if r.IsArray() {
		return kind(match.JSONArray)
	}
	return kind(match.JSONObject)
}
