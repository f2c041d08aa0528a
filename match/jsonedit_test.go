package match_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/match"
)

// mustReadings reads path in doc, which must pass ParseJSON.
func mustReadings(t testing.TB, doc []byte, path []string) []match.JSONValue {
	t.Helper()
	body, err := match.ParseJSON(doc)
	if err != nil {
		t.Fatalf("%s does not pass ParseJSON: %v", doc, err)
	}
	got, ok := body.Readings(path)
	if !ok {
		t.Fatalf("%s: unreadable", doc)
	}
	return got
}

func sameValues(a, b []match.JSONValue) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// rawValue is the value raw JSON text reads as.
func rawValue(t testing.TB, raw string) match.JSONValue {
	t.Helper()
	return mustReadings(t, []byte(raw), nil)[0]
}

func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// A field an attacker hides behind a duplicate, another case or escapes is
// removed all the same, and the commas left are right wherever it was.
func TestRemoveField(t *testing.T) {
	for _, c := range []struct {
		name, doc, path, want string
		stays                 bool // the path still reads: its last element indexes an array
	}{
		{"only member", `{"role":"admin"}`, "role", `{}`, false},
		{"first member", `{"role":"admin","id":1}`, "role", `{"id":1}`, false},
		{"middle member", `{"a":1,"role":"x","b":2}`, "role", `{"a":1,"b":2}`, false},
		{"last member", `{"a":1,"role":"x"}`, "role", `{"a":1}`, false},
		{"white space, middle", "{\n  \"a\" : 1 ,\n  \"role\" : \"x\" ,\n  \"b\" : 2\n}\n", "role", "{\n  \"a\" : 1 ,\n  \"b\" : 2\n}\n", false},
		{"white space, first", "\t{ \"role\" : [1, 2] ,\r\n\"b\":2}", "role", "\t{ \"b\":2}", false},
		{"white space, last", "{ \"a\" : 1 , \"role\" : 2 }", "role", "{ \"a\" : 1 }", false},
		{"white space, only", " { \"role\" : { \"x\" : 1 } } ", "role", " {  } ", false},
		{"duplicate key", `{"role":"user","role":"admin"}`, "role", `{}`, false},
		{"duplicates around another", `{"role":1,"a":2,"role":3}`, "role", `{"a":2}`, false},
		{"duplicates, another last", `{"role":1,"role":3,"a":2}`, "role", `{"a":2}`, false},
		{"duplicates, another first", `{"a":2,"role":1,"role":3}`, "role", `{"a":2}`, false},
		{"kept, removed, kept, removed, removed", `{"a":0, "role":1, "b":2, "Role":3 ,"ROLE":4 }`, "role", `{"a":0, "b":2 }`, false},
		{"three duplicates, spaced", `{ "role" : 1 , "role" : 2 , "role" : 3 }`, "role", `{  }`, false},
		{"other cases", `{"Role":1,"ROLE":2,"rOlE":3,"x":0}`, "role", `{"x":0}`, false},
		{"escaped key", `{"r\u006fle":"admin","x":1}`, "role", `{"x":1}`, false},
		{"escaped key in another case", `{"x":1,"\u0052OLE":"admin"}`, "role", `{"x":1}`, false},
		{"Kelvin sign, escaped", `{"\u212Aey":1}`, "key", `{}`, false},
		{"Kelvin sign, raw", "{\"\u212Aey\":1,\"b\":2}", "key", `{"b":2}`, false},
		{"a key that only looks like it", `{"ro\"le":1,"rol":2,"roles":3}`, "role", `{"ro\"le":1,"rol":2,"roles":3}`, false},
		{"inside a string", `{"s":"},{\"role\":1","role":2}`, "role", `{"s":"},{\"role\":1"}`, false},
		{"duplicated parents", `{"user":{"id":1},"user":{"id":2}}`, "user.id", `{"user":{},"user":{}}`, false},
		{"parents in other cases", `{"user":{"id":1,"n":"a"},"USER":{"ID":2}}`, "user.id", `{"user":{"n":"a"},"USER":{}}`, false},
		{"a duplicated parent that is a number", `{"a":1,"a":{"b":2,"c":3}}`, "a.b", `{"a":1,"a":{"c":3}}`, false},
		{"through an array", `{"items":[{"secret":1,"a":2},{"secret":3}]}`, "items.0.secret", `{"items":[{"a":2},{"secret":3}]}`, false},
		{"through the last element", `{"items":[{"secret":1}, {"secret":3, "b":[]} ] , "z":0}`, "items.1.secret", `{"items":[{"secret":1}, {"b":[]} ] , "z":0}`, false},
		{"through an array at the root", `[0, {"role":1}]`, "1.role", `[0, {}]`, false},
		{"an index out of range", `{"items":[{"secret":1}]}`, "items.1.secret", `{"items":[{"secret":1}]}`, false},
		{"an array element is not removed", `{"a":[1,2]}`, "a.0", `{"a":[1,2]}`, true},
		{"a digit key of an object", `{"a":{"0":1,"1":2}}`, "a.0", `{"a":{"1":2}}`, false},
		{"a whole object", `{"user":{"role":"x"},"z":1}`, "user", `{"z":1}`, false},
		{"deep", `{"a":{"b":{"c":1,"d":2}},"c":3}`, "a.b.c", `{"a":{"b":{"d":2}},"c":3}`, false},
		{"absent", `{"a":1}`, "b", `{"a":1}`, false},
		{"through a string", `{"a":"x"}`, "a.b", `{"a":"x"}`, false},
		{"empty object", `{}`, "a", `{}`, false},
		{"empty parent", `{"a":{}}`, "a.b", `{"a":{}}`, false},
		{"root an array", `[1,2]`, "a", `[1,2]`, false},
		{"root a string", `"role"`, "role", `"role"`, false},
		{"root a number", ` 1 `, "a", ` 1 `, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path, err := match.ParseFieldPath(c.path)
			if err != nil {
				t.Fatal(err)
			}
			doc := []byte(c.doc)
			got := match.RemoveField(doc, path)
			if string(got) != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
			if string(doc) != c.doc {
				t.Fatalf("the document changed: %s", doc)
			}
			if c.want == c.doc && !sameSlice(got, doc) {
				t.Errorf("nothing removed, but a new slice")
			}
			readings := mustReadings(t, got, path)
			if !c.stays && !sameValues(readings, []match.JSONValue{absent()}) {
				t.Errorf("readings after %v, want absent", readings)
			}
		})
	}
}

// Many duplicates cost one pass, and are all removed.
func TestRemoveFieldManyDuplicates(t *testing.T) {
	const n = 20000
	var b strings.Builder
	b.WriteString(`{"keep":0`)
	for i := 0; i < n; i++ {
		b.WriteString(`,"role":` + strconv.Itoa(i) + `,"Role":{"a":[1]}`)
	}
	b.WriteString(`}`)
	got := match.RemoveField([]byte(b.String()), []string{"role"})
	if string(got) != `{"keep":0}` {
		t.Fatalf("got %.100s", got)
	}
}

// Nothing to remove, nothing allocated.
func TestRemoveFieldAllocations(t *testing.T) {
	doc := []byte(`{"user":{"id":1,"name":"x"},"items":[{"a":1},{"b":2}],"user":{"name":"y"}}`)
	for _, p := range []string{"user.role", "items.1.c", "x", "items.0"} {
		path := strings.Split(p, ".")
		if n := testing.AllocsPerRun(100, func() { match.RemoveField(doc, path) }); n != 0 {
			t.Errorf("%s: %v allocations", p, n)
		}
	}
	body, _ := match.ParseJSON(doc)
	path := []string{"items", "1", "b"}
	if n := testing.AllocsPerRun(100, func() { body.FieldRaw(path) }); n != 0 {
		t.Errorf("FieldRaw: %v allocations", n)
	}
}

// After SetField every reading gives the value set, or, where the parents
// themselves are duplicated, nothing: never a value the document had.
func TestSetField(t *testing.T) {
	type values = []match.JSONValue
	for _, c := range []struct {
		name, doc, path, raw, want string
		readings                   values // nil: raw's value only
	}{
		{"replace", `{"role":"user"}`, "role", `"admin"`, `{"role":"admin"}`, nil},
		{"replace, moved to the end", `{"a":1,"role":"user","b":2}`, "role", `"admin"`, `{"a":1,"b":2,"role":"admin"}`, nil},
		{"duplicate key", `{"role":"user","role":"admin"}`, "role", `"guest"`, `{"role":"guest"}`, nil},
		{"another case", `{"Role":"admin","x":1}`, "role", `"user"`, `{"x":1,"role":"user"}`, nil},
		{"escaped key", `{"r\u006fle":"admin"}`, "role", `"user"`, `{"role":"user"}`, nil},
		{"a new key beside another case of its parent", `{"User":{"x":1}}`, "user.id", `7`, `{"User":{"x":1},"user":{"id":7}}`, nil},
		{"duplicated parents", `{"user":{"id":1},"user":{"id":2}}`, "user.id", `3`, `{"user":{"id":3},"user":{}}`,
			values{num("3"), absent()}},
		{"parents in other cases", `{"user":{"id":1},"User":{"id":2}}`, "user.id", `3`, `{"user":{"id":3},"User":{}}`,
			values{num("3"), absent()}},
		{"a duplicated parent that is a string", `{"a":"x","a":{"b":1}}`, "a.b", `2`, `{"a":{"b":2},"a":{}}`,
			values{num("2"), absent()}},
		{"through an array", `{"items":[{"secret":1},{"secret":2}]}`, "items.1.secret", `"x"`, `{"items":[{"secret":1},{"secret":"x"}]}`, nil},
		{"an array element", `{"a":[1,2]}`, "a.1", `5`, `{"a":[1,5]}`, nil},
		{"an array element at the root", `[1, 2]`, "0", `{"x":[]}`, `[{"x":[]}, 2]`, nil},
		{"a digit key of an object", `{"a":{"0":"x"}}`, "a.0", `"y"`, `{"a":{"0":"y"}}`, nil},
		{"a digit key created in an object", `{"a":{}}`, "a.0", `"y"`, `{"a":{"0":"y"}}`, nil},
		{"a digit key created with its parent", `{}`, "a.0.1", `1`, `{"a":{"0":{"1":1}}}`, nil},
		{"parents created", `{}`, "a.b.c", `true`, `{"a":{"b":{"c":true}}}`, nil},
		{"parents created beside others", `{"x":1}`, "a.b", `null`, `{"x":1,"a":{"b":null}}`, nil},
		{"parent a string", `{"user":"bob"}`, "user.id", `1`, `{"user":{"id":1}}`, nil},
		{"parent null", `{"user":null}`, "user.id", `1`, `{"user":{"id":1}}`, nil},
		{"parent a number", `{"user":1}`, "user.0", `1`, `{"user":{"0":1}}`, nil},
		{"a string", `{"a":1}`, "b", `"x\"y"`, `{"a":1,"b":"x\"y"}`, nil},
		{"a number", `{"a":1}`, "a", `-2.5e3`, `{"a":-2.5e3}`, nil},
		{"an object", `{"a":1}`, "b", `{"x":[1,2]}`, `{"a":1,"b":{"x":[1,2]}}`, nil},
		{"an array", `{"a":1}`, "a", `[1,"two",null]`, `{"a":[1,"two",null]}`, nil},
		{"an object replacing an object", `{"a":{"b":{"c":1}}}`, "a.b", `{"d":2}`, `{"a":{"b":{"d":2}}}`, nil},
		{"white space", "{\n  \"role\" : \"user\" ,\n  \"b\" : 2\n}\n", "role", `"admin"`, "{\n  \"b\" : 2\n,\"role\":\"admin\"}", nil},
		{"white space, nested", "{ \"a\" : { \"b\" : 1 } }", "a.b", `2`, "{ \"a\" : {  \"b\":2} }", nil},
		{"empty object", `{}`, "role", `"x"`, `{"role":"x"}`, nil},
		{"empty object with space", `{ }`, "role", `"x"`, `{ "role":"x"}`, nil},
		{"root a string", `"x"`, "role", `1`, `{"role":1}`, nil},
		{"root a string holding a bracket", ` "[0" `, "0", `1`, `{"0":1}`, nil},
		{"parent a string holding brackets", `{"a":"[0]"}`, "a.0", `1`, `{"a":{"0":1}}`, nil},
		{"root null", ` null `, "a.b", `1`, `{"a":{"b":1}}`, nil},
		{"root an array", `[{"a":1}]`, "0.a", `2`, `[{"a":2}]`, nil},
		{"an element deep", strings.Repeat(`{"a":`, 63) + `1` + strings.Repeat(`}`, 63), strings.TrimSuffix(strings.Repeat("a.", 64), "."), `2`,
			strings.Repeat(`{"a":`, 63) + `{"a":2}` + strings.Repeat(`}`, 63), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			path, err := match.ParseFieldPath(c.path)
			if err != nil {
				t.Fatal(err)
			}
			doc := []byte(c.doc)
			got, err := match.SetField(doc, path, []byte(c.raw))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
			if string(doc) != c.doc {
				t.Fatalf("the document changed: %s", doc)
			}
			want := c.readings
			if want == nil {
				want = values{rawValue(t, c.raw)}
			}
			if readings := mustReadings(t, got, path); !sameValues(readings, want) {
				t.Errorf("readings %v, want %v", readings, want)
			}
		})
	}
}

// Keys that gjson's path syntax gives a meaning to are keys all the same.
func TestSetFieldKeysSjsonReadsOtherwise(t *testing.T) {
	for _, c := range []struct {
		doc  string
		path []string
		want string
	}{
		{`{"a.b":1,"a":{"b":2}}`, []string{"a.b"}, `{"a":{"b":2},"a.b":3}`},
		{`{"a":{"b":2}}`, []string{"a.b"}, `{"a":{"b":2},"a.b":3}`},
		{`{":a":1}`, []string{":a"}, `{":a":3}`},
		{`{"a:b":1}`, []string{"a:b"}, `{"a:b":3}`},
		{`{"@this":1}`, []string{"@this"}, `{"@this":3}`},
		{`{}`, []string{"@this"}, `{"@this":3}`},
		{`[1]`, []string{"0", "#"}, `[{"#":3}]`},
		{`{"*":1,"a":2}`, []string{"*"}, `{"a":2,"*":3}`},
		{`{"a":{"?":1}}`, []string{"a", "?"}, `{"a":{"?":3}}`},
		{`{}`, []string{"!true"}, `{"!true":3}`},
		{`{}`, []string{"[a,b]"}, `{"[a,b]":3}`},
		{`{}`, []string{"{a}"}, `{"{a}":3}`},
		{`{}`, []string{"a|b"}, `{"a|b":3}`},
		{`{}`, []string{`a\b`}, `{"a\\b":3}`},
		{`{}`, []string{`"`}, `{"\"":3}`},
		{`{}`, []string{"-1"}, `{"-1":3}`},
		{`{}`, []string{"a b"}, `{"a b":3}`},
		{`{}`, []string{"a\nb"}, `{"a\nb":3}`},
		{`{}`, []string{"é<&>"}, `{"é\u003c\u0026\u003e":3}`},
		{`{"..":1}`, []string{".."}, `{"..":3}`},
	} {
		got, err := match.SetField([]byte(c.doc), c.path, []byte("3"))
		if err != nil || string(got) != c.want {
			t.Errorf("%s %q: got %s, %v; want %s", c.doc, c.path, got, err, c.want)
			continue
		}
		if readings := mustReadings(t, got, c.path); !sameValues(readings, []match.JSONValue{num("3")}) {
			t.Errorf("%s %q: readings %v", got, c.path, readings)
		}
	}
}

// What cannot be set leaves the document as it is.
func TestSetFieldRefused(t *testing.T) {
	deep := strings.Split(strings.TrimSuffix(strings.Repeat("a.", 64), "."), ".")
	for _, c := range []struct {
		name, doc string
		path      []string
		raw       string
	}{
		{"a key into an array", `{"user":[1]}`, []string{"user", "id"}, `1`},
		{"a key into the root array", `[1]`, []string{"role"}, `1`},
		{"an index beyond the end", `{"a":[1,2]}`, []string{"a", "2"}, `1`},
		{"an index far beyond the end", `{"a":[]}`, []string{"a", "999999999"}, `1`},
		{"an index with a leading zero", `{"a":[1,2]}`, []string{"a", "01"}, `1`},
		{"a negative index", `{"a":[1,2]}`, []string{"a", "-1"}, `1`},
		{"no path", `{}`, nil, `1`},
		{"an empty element", `{}`, []string{"a", ""}, `1`},
		{"an element not UTF-8", `{}`, []string{"a\xff"}, `1`},
		{"a value not JSON", `{}`, []string{"a"}, `{`},
		{"a value ParseJSON refuses", `{}`, []string{"a"}, `9007199254740993`},
		{"two values", `{}`, []string{"a"}, `1 2`},
		{"too deep", `{}`, deep, `{}`},
		{"too deep in the value", `{}`, []string{"a"}, strings.Repeat("[", 64) + strings.Repeat("]", 64)},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := []byte(c.doc)
			got, err := match.SetField(doc, c.path, []byte(c.raw))
			if err == nil || !sameSlice(got, doc) || string(doc) != c.doc {
				t.Errorf("got %s, %v; want the document unchanged, and an error", got, err)
			}
		})
	}
	// As deep as a body may be is still set.
	if got, err := match.SetField([]byte(`{}`), deep, []byte(`1`)); err != nil {
		t.Error(err)
	} else {
		mustReadings(t, got, deep)
	}
}

func TestFieldRaw(t *testing.T) {
	for _, c := range []struct {
		doc, path, want string
		ok              bool
	}{
		{`{"a":1}`, "a", `1`, true},
		{`{"a": {"b": [1, 2]} }`, "a", `{"b": [1, 2]}`, true},
		{`{"a": {"b": [1, "x\"y"]} }`, "a.b.1", `"x\"y"`, true},
		{`{"r\u006fle":"x"}`, "role", `"x"`, true},
		{`{"a":1,"a":1}`, "a", `1`, true},
		{`{"a":{"b":2},"A":{"b":2}}`, "a.b", `2`, true},
		{`{"a":1,"a":1.0}`, "a", ``, false},
		{`{"a":1,"A":2}`, "a", ``, false},
		{`{"A":1}`, "a", ``, false},
		{`{"a":1,"a":{}}`, "a", ``, false},
		{`{"a":{"b":1},"a":{}}`, "a.b", ``, false},
		{`{"a":1}`, "b", ``, false},
		{`[1, 2]`, "1", `2`, true},
		{`{"a":[1]}`, "a.01", ``, false},
		{`{"a": null}`, "a", `null`, true},
	} {
		body, err := match.ParseJSON([]byte(c.doc))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := body.FieldRaw(strings.Split(c.path, "."))
		if ok != c.ok || string(got) != c.want {
			t.Errorf("%s at %s: %s, %v; want %s, %v", c.doc, c.path, got, ok, c.want, c.ok)
		}
	}
	unreadable, _ := match.ParseJSON([]byte(`{"a":1,}`))
	for _, body := range []match.JSONBody{unreadable, {}} {
		if got, ok := body.FieldRaw([]string{"a"}); ok || got != nil {
			t.Errorf("an unreadable body: %s, %v", got, ok)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`a"b\c/d`, `"a\"b\\c/d"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"<&>", `"<&>"`},
		{"é😀\uFFFD", "\"é😀\uFFFD\""},
		{"a\xffb", "\"a\uFFFDb\""},
		{"\xed\xa0\x80", "\"\uFFFD\uFFFD\uFFFD\""}, // an encoded surrogate
		{"\xc3", "\"\uFFFD\""},
		{"\u2028x\u2029", `"\u2028x\u2029"`},
	} {
		got := match.AppendJSONString([]byte("x"), c.in)
		if string(got) != "x"+c.want {
			t.Errorf("%q: %s, want %s", c.in, got[1:], c.want)
		}
		checkJSONString(t, c.in, got[1:])
	}
}

// checkJSONString checks that b, written for s, passes ParseJSON and that
// encoding/json reads s back, each invalid byte read as U+FFFD.
func checkJSONString(t *testing.T, s string, b []byte) {
	t.Helper()
	if _, err := match.ParseJSON(b); err != nil {
		t.Fatalf("%q written as %s: %v", s, b, err)
	}
	var back string
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%q written as %s: %v", s, b, err)
	}
	want := make([]rune, 0, len(s))
	for _, r := range s {
		want = append(want, r)
	}
	if back != string(want) {
		t.Fatalf("%q written as %s reads back as %q", s, b, back)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"\\\n\x00\x7f", "\xff\xed\xa0\x80\u2028é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := match.AppendJSONString(nil, s)
		if utf8.ValidString(s) && !strings.ContainsAny(s, "\"\\\u2028\u2029") && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 }) &&
			string(b) != `"`+s+`"` {
			t.Fatalf("%q written as %s", s, b)
		}
		checkJSONString(t, s, b)
	})
}

// fieldShape follows path in doc independently of the walk RemoveField
// takes, with gjson: every member whose key equals an element or folds to
// it, and the element of an array an index names. It returns how many
// members the last element names in the objects it reaches, how many
// arrays it reaches, and whether some parent had more than one candidate.
func fieldShape(doc []byte, path []string) (members, arrays int, ambiguous bool) {
	level := []gjson.Result{gjson.ParseBytes(doc)}
	for i, name := range path {
		last := i == len(path)-1
		var next []gjson.Result
		for _, v := range level {
			switch {
			case v.IsObject():
				v.ForEach(func(k, val gjson.Result) bool {
					if k.Str == name || strings.EqualFold(k.Str, name) {
						next = append(next, val)
						if last {
							members++
						}
					}
					return true
				})
			case v.IsArray():
				if last {
					arrays++
				} else if e, ok := arrayElement(v, name); ok {
					next = append(next, e)
				}
			}
		}
		if !last && len(next) > 1 {
			ambiguous = true
		}
		level = next
	}
	return members, arrays, ambiguous
}

func arrayElement(v gjson.Result, name string) (gjson.Result, bool) {
	i, err := strconv.Atoi(name)
	elems := v.Array()
	if err != nil || strconv.Itoa(i) != name || i < 0 || i >= len(elems) {
		return gjson.Result{}, false
	}
	return elems[i], true
}

// badIndex reports whether the first member of each name (gjson's reading)
// leads to an array that the next element is not an index of.
func badIndex(doc []byte, path []string) bool {
	v := gjson.ParseBytes(doc)
	for _, name := range path {
		switch {
		case v.IsObject():
			found := false
			v.ForEach(func(k, val gjson.Result) bool {
				if k.Str == name {
					v, found = val, true
				}
				return !found
			})
			if !found {
				return false
			}
		case v.IsArray():
			e, ok := arrayElement(v, name)
			if !ok {
				return true
			}
			v = e
		default:
			return false
		}
	}
	return false
}

// FuzzJSONEdits checks the edits under every reading: after RemoveField no
// reading finds the field and no member it named is left; after SetField
// every reading gives the value set, or, where parents are duplicated or
// differently cased, nothing; both results pass ParseJSON.
func FuzzJSONEdits(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"role": "user", "role": "admin"}`, "role"},
		{`{"Role": 1, "ROLE": 2, "x": 0}`, "role"},
		{`{"r\u006fle": "admin"}`, "role"},
		{`{"user": {"id": 1}, "user": {"id": 2}}`, "user.id"},
		{`{"user": {"id": 1}, "USER": {"Id": 2}, "user": "x"}`, "user.id"},
		{`{"items": [{"secret": 1}, {"secret": 2}]}`, "items.0.secret"},
		{`{"items": [{"secret": 1}]}`, "items.1.secret"},
		{`{"a": [1, 2]}`, "a.0"},
		{`{"a": [1, 2]}`, "a.01"},
		{`{"a": {"0": 1}}`, "a.0"},
		{"{\n \"a\" : 1 ,\n \"b\" : 2 \n}\n", "b"},
		{`{ }`, "a.b.c"},
		{`"role"`, "role"},
		{`[{"a": 1}, {"A": 2}]`, "1.a"},
		{`{"a": "x", "a": {"b": 1}}`, "a.b"},
		{`{"\u212Aey": 1}`, "key"},
		{`{"a": null}`, "a.0"},
		{`{"\u0041": {"b": [1, {"c": 2}]}, "a": {"B": 3}}`, "a.b.1.c"},
		{`{"user": {"id": 1}, "User": [1], "user": {"id": 2, "ID": 3}}`, "user.id"},
		{`{"a": "[0", "b": "{\"c\": 1}"}`, "a.0"},
		{`[[{"k": 1, "\u212a": 2}]]`, "0.0.k"},
	} {
		f.Add(seed[0], seed[1])
	}
	raws := []string{`"set"`, `-7.5`, `{"x":[true]}`, `[null,{}]`}
	f.Fuzz(func(t *testing.T, doc, pathText string) {
		if _, err := match.ParseJSON([]byte(doc)); err != nil {
			return
		}
		path, err := match.ParseFieldPath(pathText)
		if err != nil {
			return
		}
		docBytes := []byte(doc)
		members, arrays, ambiguous := fieldShape(docBytes, path)

		removed := match.RemoveField(docBytes, path)
		if doc != string(docBytes) {
			t.Fatalf("RemoveField changed its input")
		}
		if (members == 0) != sameSlice(removed, docBytes) {
			t.Fatalf("%s at %s: %d members named, got %s", doc, pathText, members, removed)
		}
		readings := mustReadings(t, removed, path)
		if m, _, _ := fieldShape(removed, path); m != 0 {
			t.Fatalf("%s at %s: %s still has %d members named", doc, pathText, removed, m)
		}
		if arrays == 0 && !sameValues(readings, []match.JSONValue{absent()}) {
			t.Fatalf("%s at %s: %s reads %v", doc, pathText, removed, readings)
		}

		for _, raw := range raws {
			set, err := match.SetField(docBytes, path, []byte(raw))
			if err != nil {
				if !sameSlice(set, docBytes) {
					t.Fatalf("%s at %s: error %v, but a new document", doc, pathText, err)
				}
				if !badIndex(docBytes, path) && len(path)+strings.Count(raw, "[")+strings.Count(raw, "{") <= match.MaxJSONDepth &&
					utf8.ValidString(pathText) {
					t.Fatalf("%s at %s = %s: %v", doc, pathText, raw, err)
				}
				continue
			}
			if doc != string(docBytes) {
				t.Fatalf("SetField changed its input")
			}
			want := rawValue(t, raw)
			readings := mustReadings(t, set, path)
			for _, v := range readings {
				if v != want && (v != absent() || !ambiguous) {
					t.Fatalf("%s at %s = %s: %s reads %v", doc, pathText, raw, set, readings)
				}
			}
			if !ambiguous {
				body, _ := match.ParseJSON(set)
				if got, ok := body.FieldRaw(path); !ok || string(got) != raw {
					t.Fatalf("%s at %s = %s: %s gives %s, %v", doc, pathText, raw, set, got, ok)
				}
			}
		}
	})
}

// AddMember removes every member any reading takes for the key and adds
// the key at the end of the object.
func TestAddMember(t *testing.T) {
	for _, c := range []struct {
		doc, key, raw, want string
		ok                  bool
	}{
		{`{}`, "a", `1`, `{"a":1}`, true},
		{` { } `, "a", `1`, ` { "a":1} `, true},
		{`{"b": 2}`, "a", `true`, `{"b": 2,"a":true}`, true},
		{`{"a": 0, "b": 2, "A": 3, "\u0061": 4}`, "a", `{"x":1}`, `{"b": 2,"a":{"x":1}}`, true},
		{"{\"b\": 2}\n", "k\"q", `null`, "{\"b\": 2,\"k\\\"q\":null}\n", true},
		{`[1]`, "a", `1`, `[1]`, false},
		{`"s"`, "a", `1`, `"s"`, false},
	} {
		got, ok := match.AddMember([]byte(c.doc), c.key, []byte(c.raw))
		if string(got) != c.want || ok != c.ok {
			t.Errorf("AddMember(%s, %q, %s) = %s, %v; want %s, %v", c.doc, c.key, c.raw, got, ok, c.want, c.ok)
		}
		if ok {
			j, err := match.ParseJSON(got)
			if err != nil {
				t.Errorf("AddMember(%s) = %s, which does not parse: %v", c.doc, got, err)
				continue
			}
			if vs, _ := j.Readings([]string{c.key}); len(vs) != 1 || vs[0].Kind == match.JSONAbsent {
				t.Errorf("AddMember(%s): readings of %q %v, want one", c.doc, c.key, vs)
			}
		}
	}
}
