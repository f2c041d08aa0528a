package bodymutate_test

import (
	"io"
	"log"
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/match"
)

// Run with
//
//	go test ./bodymutate -run '^$' -fuzz FuzzRewrite

// rewriteConfig sets a field from a header, copies it, and removes another.
const rewriteConfig = `{"request": {"set": {"a.b": "%REQ(x-v)%"}, "copy": [{"from": "a.b", "to": "c"}], "remove": ["d"]}}`

// rewriteSeeds are bodies that reach the edits' edge cases: duplicate,
// differently cased and escaped keys, parents that are not objects, arrays,
// scalars, nesting, and bodies that are not JSON or that match.ParseJSON
// refuses.
var rewriteSeeds = []struct {
	body, value string
	labelled    bool // content-type application/json; text/plain otherwise
}{
	{`{"a": {"b": "mine"}, "d": 1}`, "alice", true},
	{`{"a": {"b": 1, "b": 2}, "d": 1, "d": 2, "D": 3}`, `x", "admin": true, "y": "`, true},
	{`{"a": {"b": 1}, "a": {"b": 2}, "d": {"d": 1}}`, "bob", true},
	{`{"A": {"B": 1}, "\u0061": {"\u0062": 2}, "\u0044": 0}`, "line\r\nbreak\x00", true},
	{`{"a": [1, {"b": 2}], "d": []}`, "v", true},
	{`{"a": "text [with] {brackets}", "d": null}`, "v", true},
	{`{"a": 3, "c": "mine"}`, "", true},
	{`[{"a": {"b": 1}}, {"d": 2}]`, "v", false},
	{`"just a string"`, "v", true},
	{`1e400`, "v", true},
	{` {"a" : { } } `, "\xff\xfe\u2028", false},
	{`{"a": {"b": ` + strings.Repeat("[", 62) + strings.Repeat("]", 62) + `}}`, "v", true}, // as deep as a body may be
	{`{"a": {"b": ` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}}`, "v", true}, // one level deeper
	{`{"a": {"b": 1}`, "v", true},
	{"\xef\xbb\xbf{\"d\": 1}", "v", true},
	{`{"a": {"b": 9007199254740993}}`, "v", true},
	{`{"d": 1, "a": {"b": 1}}`, "v", false},
	{`a=1&d=2`, "v", false},
}

// FuzzRewrite runs the chain on any request body under any header value:
// the filter either leaves the body as it is (when it is not JSON to
// rewrite), or forwards a body that match.ParseJSON accepts in which every
// reading of "d" is absent and every reading of "a.b" is the header's value
// (invalid UTF-8 replaced by U+FFFD) or absent, never a value of the
// client's; "c", copied from "a.b" before the set, holds what every
// reading of the sent "a.b" agreed on, or is absent. content-length is the
// forwarded body's length.
func FuzzRewrite(f *testing.F) {
	for _, s := range rewriteSeeds {
		f.Add(s.body, s.value, s.labelled)
	}
	// One host for the whole run (the emulator is process-global and the
	// fuzz function runs one input at a time), restarted now and then: the
	// emulator keeps every stream it has seen.
	var host proxytest.HostEmulator
	reset, streams := func() {}, 0
	defer func() { reset() }()
	logs := log.Writer()
	log.SetOutput(io.Discard) // the emulator prints every log line
	defer log.SetOutput(logs)
	dPath, _ := match.ParseFieldPath("d")
	abPath, _ := match.ParseFieldPath("a.b")
	cPath, _ := match.ParseFieldPath("c")

	f.Fuzz(func(t *testing.T, body, value string, labelled bool) {
		if body == "" || len(body) > policy.DefaultBodyLimit {
			return // no body phase; a body over the limit is refused unread
		}
		if streams%5000 == 0 {
			reset()
			host, reset = wasmtest.Start(t, native(), wasmtest.Chain(mutate(rewriteConfig)))
		}
		streams++
		contentType := "text/plain"
		if labelled {
			contentType = "application/json"
		}
		id := host.InitializeHttpContext()
		defer host.CompleteHttpContext(id)
		headers := post(contentType, [2]string{"x-v", value}, [2]string{"content-length", strconv.Itoa(len(body))})
		if action := wasmtest.Send(host, id, headers, body); action != types.ActionContinue {
			t.Fatalf("action %v, want continue", action)
		}
		if reply := host.GetSentLocalResponse(id); reply != nil {
			t.Fatalf("local reply %d %q", reply.StatusCode, reply.Data)
		}
		got := host.GetCurrentRequestBody(id)
		if cl := header(host.GetCurrentRequestHeaders(id), "content-length"); cl != strconv.Itoa(len(got)) {
			t.Fatalf("content-length %s, body of %d bytes", cl, len(got))
		}
		sent, err := match.ParseJSON([]byte(body))
		if err != nil || !labelled && !isObjectOrArray(body) {
			if string(got) != body {
				t.Fatalf("a body that is not JSON to rewrite was changed:\n sent %q\n got  %q", body, got)
			}
			return
		}
		doc, err := match.ParseJSON(got)
		if err != nil {
			t.Fatalf("forwarded body %q does not parse: %v (sent %q)", got, err, body)
		}
		ds, _ := doc.Readings(dPath)
		for _, r := range ds {
			if r.Kind != match.JSONAbsent {
				t.Fatalf("a reading of d in %q is %v, want absent (sent %q)", got, r, body)
			}
		}
		want := match.JSONValue{Kind: match.JSONString, Text: string([]rune(value))} // invalid UTF-8 as U+FFFD
		abs, _ := doc.Readings(abPath)
		for _, r := range abs {
			if r.Kind != match.JSONAbsent && r != want {
				t.Fatalf("a reading of a.b in %q is %v, want %q or absent (sent %q)", got, r, want.Text, body)
			}
		}
		// The copy ran first, on the body as sent: c is what every reading
		// of the sent a.b agreed on, or absent.
		sentAB, _ := sent.Readings(abPath)
		cs, _ := doc.Readings(cPath)
		for _, r := range cs {
			if r.Kind == match.JSONAbsent {
				continue
			}
			for _, s := range sentAB {
				if s != r {
					t.Fatalf("a reading of c in %q is %v; the sent a.b reads %v (sent %q)", got, r, sentAB, body)
				}
			}
		}
	})
}

// isObjectOrArray reports whether a JSON document is an object or an array.
func isObjectOrArray(doc string) bool {
	for _, c := range []byte(doc) {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c == '{' || c == '['
	}
	return false
}
