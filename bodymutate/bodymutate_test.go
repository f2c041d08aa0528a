package bodymutate_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/stats"
)

// invalidBodies is the metric of unreadable bodies of a side.
func invalidBodies(side string) string {
	return stats.Name("policy_bodymutate_invalid_bodies_total", stats.Tag{Key: "filter", Value: "body"}, stats.Tag{Key: "side", Value: side})
}

const claims = `{"sub": "alice", "level": 3, "groups": ["dev", "ops"], "org": {"id": "o-1"}}`

// identity writes the caller's identity into the request body, as a
// gateway in front of a backend that reads it from there would.
const identity = `{"request": {
	"set": {"caller.id": "%CLAIM(sub)%", "caller.groups": "%CLAIM(groups)%", "caller.level": "%CLAIM(level)%",
	        "caller.agent": "%REQ(user-agent)%", "gateway": {"checked": true}},
	"remove": ["debug"]}}`

func post(contentType string, extra ...[2]string) [][2]string {
	h := [][2]string{{":method", "POST"}, {":path", "/orders"}, {":authority", "example.com"}}
	if contentType != "" {
		h = append(h, [2]string{"content-type", contentType})
	}
	return append(h, extra...)
}

// requestCase is a request with a body through [verified, bodymutate].
type requestCase struct {
	name    string
	config  string // bodymutate's; identity when empty
	claims  string // published by the step; none when empty
	headers [][2]string
	body    string

	want       string // the body forwarded; the sent one when empty
	denied     uint32 // the status of a local reply instead
	wantFields map[string][]string
	invalid    uint64 // bodymutate_invalid_bodies_total{side=request}
}

func TestRequestBodies(t *testing.T) {
	cases := []requestCase{
		{name: "identity set", claims: claims, headers: post("application/json", [2]string{"user-agent", `curl "8"`}),
			body: `{"item": "book", "debug": true}`,
			want: `{"item": "book", "caller":{"id":"alice","groups":["dev", "ops"],"level":3,"agent":"curl \"8\""},"gateway":{"checked": true}}`},
		{name: "a client's own identity is replaced", claims: claims, headers: post("application/json"),
			body:       `{"caller": {"id": "admin", "level": 9}}`,
			wantFields: map[string][]string{"caller.id": {`"alice"`}, "caller.level": {"3"}}},
		{name: "duplicate keys cannot outlast the set", claims: claims, headers: post("application/json"),
			body:       `{"caller": {"id": "me", "id": "admin"}}`,
			wantFields: map[string][]string{"caller.id": {`"alice"`}}},
		{name: "a key in another case is removed", claims: claims, headers: post("application/json"),
			body:       `{"caller": {"ID": "admin"}, "Debug": 1}`,
			wantFields: map[string][]string{"caller.id": {`"alice"`}, "debug": {"absent"}}},
		{name: "an escaped key is removed", claims: claims, headers: post("application/json"),
			body:       `{"caller": {"\u0069d": "admin"}, "d\u0065bug": 1}`,
			wantFields: map[string][]string{"caller.id": {`"alice"`}, "debug": {"absent"}}},
		{name: "duplicated parents leave no client value", claims: claims, headers: post("application/json"),
			body:       `{"caller": {"id": "me"}, "caller": {"id": "admin"}}`,
			wantFields: map[string][]string{"caller.id": {`"alice"`, "absent"}}},
		{name: "no token: the client's identity is removed", headers: post("application/json"),
			body: `{"caller": {"id": "admin", "groups": ["root"]}, "item": 1}`,
			want: `{"caller": {}, "item": 1,"gateway":{"checked": true}}`},
		{name: "mislabelled JSON is rewritten", claims: claims, headers: post("text/plain"),
			body:       `{"caller": {"id": "admin"}}`,
			wantFields: map[string][]string{"caller.id": {`"alice"`}}},
		{name: "no content-type, JSON array root", claims: claims, headers: post(""),
			body: `[1, 2]`, want: `[1, 2]`},
		{name: "a body that is not JSON and does not say so is left alone", claims: claims, headers: post("text/plain"),
			body: `caller.id=admin`},
		{name: "invalid JSON passes, counted", claims: claims, headers: post("application/json"),
			body: `{"caller": {"id": "admin"}`, invalid: 1},
		{name: "a duplicate-free but unreadable body passes, counted", claims: claims, headers: post("Application/JSON; charset=utf-8"),
			body: "\xef\xbb\xbf{\"caller\": {}}", invalid: 1},
		{name: "compressed JSON passes, counted", claims: claims, headers: post("application/json", [2]string{"content-encoding", "gzip"}),
			body: `{"caller": {"id": "admin"}}`, invalid: 1},
		{name: "invalid JSON denied", config: `{"request": {"set": {"a": "b"}}, "invalid_body": "deny"}`,
			headers: post("application/vnd.api+json"), body: `{"a": }`, denied: 400, invalid: 1},
		{name: "a +json type is JSON", config: `{"request": {"set": {"a": "b"}}}`,
			headers: post("application/problem+json"), body: `{"a": 1}`, want: `{"a":"b"}`},
		{name: "copy and remove rename a field", config: `{"request": {"copy": [{"from": "old", "to": "new.name"}], "remove": ["old"]}}`,
			headers: post("application/json"), body: `{"old": [1, {"x": "y"}], "z": 0}`, want: `{"z": 0,"new":{"name":[1, {"x": "y"}]}}`},
		{name: "a copy of a field the readings disagree on removes the target", config: `{"request": {"copy": [{"from": "a", "to": "b"}]}}`,
			headers: post("application/json"), body: `{"a": 1, "a": 2, "b": "mine"}`, want: `{"a": 1, "a": 2}`},
		{name: "a copy of a missing field removes the target", config: `{"request": {"copy": [{"from": "a", "to": "b"}]}}`,
			headers: post("application/json"), body: `{"b": "mine", "c": 1}`, want: `{"c": 1}`},
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { c.run(t, r) })
		}
	})
}

func (c requestCase) run(t *testing.T, r wasmtest.Runner) {
	config := c.config
	if config == "" {
		config = identity
	}
	step := entry("step", "verified", `{"phase": "request_headers"}`)
	if c.claims != "" {
		step = verified(c.claims)
	}
	host, reset := wasmtest.Start(t, r.VM, wasmtest.Chain(step, mutate(config)))
	defer reset()
	id := host.InitializeHttpContext()
	headers := append(c.headers, [2]string{"content-length", strconv.Itoa(len(c.body))})
	action := wasmtest.Send(host, id, headers, c.body)
	if c.denied != 0 {
		reply := host.GetSentLocalResponse(id)
		if reply == nil || reply.StatusCode != c.denied {
			t.Fatalf("local reply %+v, want %d", reply, c.denied)
		}
	} else {
		if action != types.ActionContinue {
			t.Fatalf("action %v, want continue", action)
		}
		got := string(host.GetCurrentRequestBody(id))
		want := c.want
		if want == "" && c.wantFields == nil {
			want = c.body
		}
		if want != "" && got != want {
			t.Errorf("forwarded body\n got  %s\n want %s", got, want)
		}
		for path, w := range c.wantFields {
			if g := readings(t, got, path); strings.Join(g, " ") != strings.Join(w, " ") {
				t.Errorf("readings of %s in %s: %v, want %v", path, got, g, w)
			}
		}
		if cl := header(host.GetCurrentRequestHeaders(id), "content-length"); cl != strconv.Itoa(len(got)) {
			t.Errorf("content-length %s, body of %d bytes", cl, len(got))
		}
	}
	if got := wasmtest.Counter(t, host, invalidBodies("request")); got != c.invalid {
		t.Errorf("invalid request bodies counted: %d, want %d", got, c.invalid)
	}
	host.CompleteHttpContext(id)
}
