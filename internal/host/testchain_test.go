package host

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/tinygo"
)

// The dispatcher (the root package) through this host: build/testchain.wasm
// runs the chain of configurable "step" filters in the configuration next to
// its source; each request step appends its id to the request's x-trace, the
// response step to the response's.
const testchainConfig = "../testdata/testchain/config.json"

func TestDispatcherThroughHost(t *testing.T) {
	var callouts []string
	h, l := newHost(t, "testchain", Config{
		PluginConfig: readFile(t, testchainConfig),
		HTTPCall: func(_ context.Context, c Callout) (*CalloutResponse, error) {
			callouts = append(callouts, c.Cluster+" "+value(c.Headers, ":path"))
			return &CalloutResponse{Headers: [][2]string{{":status", "200"}}}, nil
		},
	})
	vm := newVM(t, h)
	withBody := func(r *Request) *Request { r.Body = []byte("hello"); return r }
	for _, c := range []struct {
		name      string
		req       *Request
		status    int
		body      string
		upTrace   string // the upstream's x-trace; "" if it must not be reached
		upBody    string // the upstream's x-body
		respTrace string
	}{
		{"allowed", get("/"), 200, "upstream body", "a,deny,wait,boom", "", "r"},
		{"with a body", withBody(get("/")), 200, "upstream body", "a,deny,wait,boom", "b:hello", "r"},
		{"denied", get("/", [2]string{"x-deny", "1"}), 403, "denied by deny", "", "", "r"},
		{"paused for a callout", withBody(get("/", [2]string{"x-pause", "1"})), 200, "upstream body", "a,deny,wait,boom", "b:hello", "r"},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := &upstream{}
			resp := serve(t, vm, c.req, up.serve)
			if resp.Status != c.status || string(resp.Body) != c.body {
				t.Errorf("got %d %q, want %d %q", resp.Status, resp.Body, c.status, c.body)
			}
			if got := value(resp.Headers, "x-trace"); got != c.respTrace {
				t.Errorf("response x-trace %q, want %q (a local reply goes through the response phase)", got, c.respTrace)
			}
			if c.upTrace == "" {
				if len(up.seen) != 0 {
					t.Errorf("the upstream was reached")
				}
				return
			}
			seen := up.last(t)
			if got := value(seen.Headers, "x-trace"); got != c.upTrace {
				t.Errorf("upstream x-trace %q, want %q", got, c.upTrace)
			}
			if got := value(seen.Headers, "x-body"); got != c.upBody {
				t.Errorf("upstream x-body %q, want %q", got, c.upBody)
			}
		})
	}
	if strings.Join(callouts, ";") != "callout /wait" {
		t.Errorf("callouts %q, want one to cluster callout for step wait", callouts)
	}
	// The chain's counters reach the host when the plugin flushes, on a tick.
	metrics := func(t *testing.T, want map[string]uint64) {
		t.Helper()
		if err := vm.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		for name, want := range want {
			if m, ok := h.Metric(name); !ok || m.Value != want {
				t.Errorf("%s = %+v (defined: %v), want %d", name, m, ok, want)
			}
		}
	}
	metrics(t, map[string]uint64{
		"filter=.=deny;.;decision=.=denied;.;policy_filter_decisions_total": 1,
		"filter=.=a;.;policy_filter_requests_total":                         4,
	})
	t.Run("panicking filter", func(t *testing.T) {
		tinygo.SkipIfCannot(t)
		up := &upstream{}
		resp := serve(t, vm, get("/", [2]string{"x-panic", "1"}), up.serve)
		if resp.Status != 500 || string(resp.Body) != "internal error in policy filter\n" || len(up.seen) != 0 {
			t.Errorf("got %d %q (upstream reached %d times), want 500 from the dispatcher", resp.Status, resp.Body, len(up.seen))
		}
		if got := value(resp.Headers, "x-trace"); got != "r" {
			t.Errorf("response x-trace %q, want r (a local reply goes through the response phase)", got)
		}
		if vm.Err() != nil {
			t.Errorf("the VM failed: %v (a filter's panic is recovered by the dispatcher)", vm.Err())
		}
		if _, ok := l.find("filter boom (step) panicked"); !ok {
			t.Error("the dispatcher's report of the panic was not logged")
		}
		metrics(t, map[string]uint64{
			"filter=.=boom;.;decision=.=error;.;policy_filter_decisions_total": 1,
			"filter=.=a;.;policy_filter_requests_total":                        5,
		})
	})
}

// Bodies through this host, as Envoy runs them: the dispatcher holds the
// headers until the body is complete, a replaced body reaches the upstream
// with its content-length, a request body over body_limit is answered with
// 413, and a response body a filter replaces reaches the client with its
// own.
func TestBodiesThroughHost(t *testing.T) {
	h, _ := newHost(t, "testchain", Config{PluginConfig: []byte(`{"body_limit": 16, "filters": [
		{"name": "step", "id": "req", "config": {"phase": "request_body", "set_body": "replaced!"}},
		{"name": "step", "id": "resp", "config": {"phase": "response_body", "set_body": "{\"ok\":true}"}}]}`)})
	vm := newVM(t, h)
	post := func(body string) *Request {
		r := get("/items", [2]string{"content-length", strconv.Itoa(len(body))})
		r.Headers[0][1], r.Body = "POST", []byte(body)
		return r
	}

	up := &upstream{resp: Response{Status: 200, Headers: [][2]string{{"content-length", "13"}}, Body: []byte("upstream body")}}
	resp := serve(t, vm, post("hello"), up.serve)
	seen := up.last(t)
	if string(seen.Body) != "replaced!" || value(seen.Headers, "content-length") != "9" {
		t.Errorf("the upstream got %q with content-length %q, want the replaced body and 9", seen.Body, value(seen.Headers, "content-length"))
	}
	if resp.Status != 200 || string(resp.Body) != `{"ok":true}` || value(resp.Headers, "content-length") != "11" {
		t.Errorf("the client got %d %q with content-length %q, want 200, the replaced response body and 11", resp.Status, resp.Body, value(resp.Headers, "content-length"))
	}

	up = &upstream{}
	resp = serve(t, vm, post("12345678901234567"), up.serve)
	if resp.Status != 413 || string(resp.Body) != "request body too large\n" || len(up.seen) != 0 {
		t.Errorf("a 17-byte body over a limit of 16: %d %q (upstream reached %d times), want 413 from the dispatcher", resp.Status, resp.Body, len(up.seen))
	}
}

// A response body in pieces (Response.Chunks) reaches the plugin piece by
// piece, as Envoy streams it: a stream filter sees each one as it comes
// (and its changes are passed on), while a chain that holds the body sees
// the pieces accumulate, whole at the end.
func TestStreamedResponseBody(t *testing.T) {
	for _, c := range []struct {
		name, step string
		want       string
	}{
		{"streamed", `{"phase": "response_stream"}`, "data: 1\n|sdata: 2\n|s|s:end"},
		{"held", `{"phase": "response_body", "set_body": "whole"}`, "whole"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, _ := newHost(t, "testchain", Config{PluginConfig: []byte(`{"filters": [{"name": "step", "id": "s", "config": ` + c.step + `}]}`)})
			vm := newVM(t, h)
			var seen string
			resp := serve(t, vm, get("/"), func(context.Context, *Request) (*Response, error) {
				return &Response{Status: 200, Chunks: [][]byte{[]byte("data: 1\n"), []byte("data: 2\n"), nil}}, nil
			})
			if string(resp.Body) != c.want {
				t.Errorf("the client got %q, want %q", resp.Body, c.want)
			}
			if c.name == "held" {
				seen = value(resp.Headers, "x-body")
				if seen != "s:data: 1\ndata: 2\n" {
					t.Errorf("the body filter saw %q, want the pieces joined", seen)
				}
			}
		})
	}
}
