package bodymutate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/match"
	"github.com/wasmpolicy/policy/stats"
)

// shadowed is a bodymutate entry in shadow mode.
func shadowed(config string) string {
	return fmt.Sprintf(`{"name":"bodymutate","id":"body","mode":"shadow","config":%s}`, config)
}

// decisions is the chain's count of the filter's decisions of one kind.
func decisions(decision string) string {
	return stats.Name("policy_filter_decisions_total", stats.Tag{Key: "filter", Value: "body"}, stats.Tag{Key: "decision", Value: decision})
}

// In shadow mode an unreadable body that "invalid_body": "deny" would
// answer goes on unchanged, with no local reply: it is counted as an
// invalid body and as a shadow denial, and the log says that it was let
// through. A readable body is still rewritten.
func TestShadowModeLetsAnInvalidBodyThrough(t *testing.T) {
	config := shadowed(`{"request": {"set": {"a": "b"}}, "response": {"remove": ["c"]}, "invalid_body": "deny"}`)
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(config))
		defer reset()

		// An unreadable request body.
		id := host.InitializeHttpContext()
		body := `{"a": "mine"`
		if got := wasmtest.Send(host, id, post("application/json", [2]string{"content-length", strconv.Itoa(len(body))}), body); got != types.ActionContinue {
			t.Fatalf("request: %v, want continue", got)
		}
		if reply := host.GetSentLocalResponse(id); reply != nil {
			t.Fatalf("local reply %+v, want none", reply)
		}
		if got := string(host.GetCurrentRequestBody(id)); got != body {
			t.Errorf("forwarded body %s, want it unchanged: %s", got, body)
		}
		if cl := header(host.GetCurrentRequestHeaders(id), "content-length"); cl != strconv.Itoa(len(body)) {
			t.Errorf("content-length %s, want %d", cl, len(body))
		}
		warned := false
		for _, l := range host.GetWarnLogs() {
			if strings.Contains(l, "policy: filter body: a request body") {
				warned = true
				if want := "would be answered with 400 (invalid_body deny), but shadow mode lets it through"; !strings.HasSuffix(l, want) {
					t.Errorf("log %q does not end with %q", l, want)
				}
			}
		}
		if !warned {
			t.Errorf("no warning of the invalid request body in %q", host.GetWarnLogs())
		}
		host.CompleteHttpContext(id)
		if got := wasmtest.Counter(t, host, invalidBodies("request")); got != 1 {
			t.Errorf("invalid request bodies counted: %d, want 1", got)
		}
		if got := wasmtest.Counter(t, host, decisions("shadow_denied")); got != 1 {
			t.Errorf("shadow denials counted: %d, want 1", got)
		}

		// An unreadable response body.
		id = host.InitializeHttpContext()
		wasmtest.Send(host, id, post("application/json"), `{"a": "b"}`)
		host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}, {"content-type", "application/json"}}, false)
		if got := host.CallOnResponseBody(id, []byte(`<html>`), true); got != types.ActionContinue {
			t.Fatalf("response body: %v, want continue", got)
		}
		if reply := host.GetSentLocalResponse(id); reply != nil {
			t.Fatalf("local reply %+v, want none", reply)
		}
		if got := string(host.GetCurrentResponseBody(id)); got != `<html>` {
			t.Errorf("response body %s, want it unchanged", got)
		}
		host.CompleteHttpContext(id)
		if got := wasmtest.Counter(t, host, invalidBodies("response")); got != 1 {
			t.Errorf("invalid response bodies counted: %d, want 1", got)
		}

		// A readable request body.
		id = host.InitializeHttpContext()
		wasmtest.Send(host, id, post("application/json"), `{"a": "mine"}`)
		if got, want := string(host.GetCurrentRequestBody(id)), `{"a":"b"}`; got != want {
			t.Errorf("readable body forwarded as %s, want %s", got, want)
		}
		host.CompleteHttpContext(id)
		if got := wasmtest.Counter(t, host, decisions("shadow_denied")); got != 2 {
			t.Errorf("shadow denials counted: %d, want 2 (the two invalid bodies)", got)
		}
		if got := wasmtest.Counter(t, host, decisions("denied")); got != 0 {
			t.Errorf("denials counted: %d, want 0", got)
		}
	})
}

// A value taken from a request header is written as a JSON string, however
// the header is written: quotes, backslashes, control characters and
// U+2028 are escaped and invalid UTF-8 is replaced with U+FFFD, so the body
// still parses, its reading of the field is the header's text, and the
// header cannot add members of its own.
func TestHeaderValuesAreEncoded(t *testing.T) {
	values := []string{
		`x", "admin": true, "y": "`,
		`"}, "admin": true, "caller": {"agent": "`,
		`\", "admin": true, "\`,
		`back\slash \u0061 \"`,
		"line\r\nbreak",
		"nul\x00byte and \x01\x1f\x7f",
		"invalid \xff\xfe utf-8 \xc3 and \xed\xa0\x80",
		"line\u2028separator\u2029paragraph",
		"</script><!--",
		`{"admin": true}`,
	}
	config := mutate(`{"request": {"set": {"caller.agent": "%REQ(x-v)%", "caller.tag": "<%REQ(x-v)%>"}}}`)
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(config))
		defer reset()
		for _, v := range values {
			t.Run(strconv.Quote(v), func(t *testing.T) {
				id := host.InitializeHttpContext()
				defer host.CompleteHttpContext(id)
				body := `{"item": 1}`
				wasmtest.Send(host, id, post("application/json", [2]string{"x-v", v}, [2]string{"content-length", strconv.Itoa(len(body))}), body)
				got := host.GetCurrentRequestBody(id)
				if _, err := match.ParseJSON(got); err != nil {
					t.Fatalf("forwarded body %q does not parse: %v", got, err)
				}
				text := string([]rune(v)) // each invalid byte replaced by U+FFFD
				for path, want := range map[string]string{"caller.agent": text, "caller.tag": "<" + text + ">"} {
					if g := readings(t, string(got), path); strings.Join(g, " ") != strconv.Quote(want) {
						t.Errorf("readings of %s in %q: %v, want %q", path, got, g, want)
					}
				}
				if g := readings(t, string(got), "admin"); strings.Join(g, " ") != "absent" {
					t.Errorf("readings of admin in %q: %v, want absent", got, g)
				}
				var doc map[string]any
				if err := json.Unmarshal(got, &doc); err != nil {
					t.Fatalf("encoding/json: %v", err)
				}
				if keys := sortedKeys(doc); keys != "[caller item]" {
					t.Errorf("members %s in %q, want [caller item]", keys, got)
				}
				caller, _ := doc["caller"].(map[string]any)
				if keys := sortedKeys(caller); keys != "[agent tag]" {
					t.Errorf("caller's members %s in %q, want [agent tag]", keys, got)
				}
				if bytes.ContainsAny(got, "\u2028\u2029\r\n\x00") {
					t.Errorf("forwarded body %q holds U+2028, U+2029, CR, LF or NUL unescaped", got)
				}
				if cl := header(host.GetCurrentRequestHeaders(id), "content-length"); cl != strconv.Itoa(len(got)) {
					t.Errorf("content-length %s, body of %d bytes", cl, len(got))
				}
			})
		}
	})
}

func sortedKeys[V any](m map[string]V) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return fmt.Sprint(keys)
}
