package headerauth_test

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// A bypass on a field of the JSON body lets a request skip the check only
// when every parser reads the field that way: a key given twice, in
// another case or a body that cannot be read does not bypass.
func TestBodyBypass(t *testing.T) {
	wasmtest.Both(t, "headerauth", native, func(t *testing.T, r wasmtest.Runner) {
		host, reset := wasmtest.Start(t, r.VM, pluginConfig(`{"header": "allow", "values": ["true"],
			"bypass": [{"methods": ["POST"], "body": [{"path": "kind", "equals": "ping"}]}]}`, ""))
		defer reset()
		post := func(body string) (held, final types.Action, status uint32) {
			id := host.InitializeHttpContext()
			held = host.CallOnRequestHeaders(id, [][2]string{{":method", "POST"}, {":path", "/rpc"}, {":authority", "a"}}, false)
			final = host.CallOnRequestBody(id, []byte(body), true)
			if reply := host.GetSentLocalResponse(id); reply != nil {
				status = reply.StatusCode
			}
			host.CompleteHttpContext(id)
			return held, final, status
		}
		for _, c := range []struct {
			name, body string
			want       uint32
		}{
			{"the field", `{"kind": "ping"}`, 0},
			{"another value", `{"kind": "query"}`, 403},
			{"a key given twice", `{"kind": "ping", "kind": "query"}`, 403},
			{"a key in another case", `{"kind": "ping", "Kind": "query"}`, 403},
			{"not JSON", `kind=ping`, 403},
		} {
			held, final, status := post(c.body)
			if status != c.want {
				t.Errorf("%s: status %d, want %d (0: let through)", c.name, status, c.want)
			}
			if held != types.ActionPause || c.want == 0 && final != types.ActionContinue {
				t.Errorf("%s: headers %v, body %v: want the headers held, then continue", c.name, held, final)
			}
		}
		// A request without a body is checked on its headers: the field
		// is absent, so it does not bypass.
		if e := send(host, "POST", "/rpc", nil); e.local == nil || e.local.StatusCode != 403 {
			t.Errorf("a POST without a body: %+v, want 403", e.local)
		}
	})
}
