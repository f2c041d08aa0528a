package main

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/internal/wasmtest"
)

func native() types.VMContext { return policy.Configured(headerauth.Kind) }

// body is the denial's body in config.json.
const body = "access forbidden: send the header allow: true\n"

// TestReadmeExchange runs the exchange README.md shows with config.json:
// without "allow: true" a request gets 403 and a short body; with it, the
// request goes on to the backend.
func TestReadmeExchange(t *testing.T) {
	config := wasmtest.ReadFile(t, "config.json")
	cases := []struct {
		name    string
		headers [][2]string
		status  uint32
	}{
		{"no header", nil, 403},
		{"allow: false", [][2]string{{"allow", "false"}}, 403},
		{"allow: true", [][2]string{{"allow", "true"}}, 200},
	}
	wasmtest.Both(t, "headerauth", native, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, config)
				defer reset()
				status, data := exchange(t, host, c.headers)
				if status != c.status || c.status == 403 && data != body {
					t.Errorf("got %d %q, want %d (with the body %q for a 403)", status, data, c.status, body)
				}
			})
		}
	})
}

// TestWholeConfiguration starts the image with the filter's own
// configuration as the whole plugin configuration, without "filters", and
// with the same check in the "filters" form: both answer 403 without the
// header and let "allow: true" through to the backend's 200.
func TestWholeConfiguration(t *testing.T) {
	configs := map[string]string{
		"filter configuration": `{"header": "allow", "values": ["true"]}`,
		"filters":              `{"filters": [{"name": "headerauth", "config": {"header": "allow", "values": ["true"]}}]}`,
		"filters, shadow mode": `{"filters": [{"name": "headerauth", "mode": "shadow", "config": {"header": "allow", "values": ["true"]}}]}`,
	}
	cases := []struct {
		name    string
		headers [][2]string
		status  uint32 // in enforce mode; shadow mode lets every request through
	}{
		{"no header", nil, 403},
		{"allow: false", [][2]string{{"allow", "false"}}, 403},
		{"allow: true", [][2]string{{"allow", "true"}}, 200},
	}
	wasmtest.Both(t, "headerauth", native, func(t *testing.T, r wasmtest.Runner) {
		for name, config := range configs {
			t.Run(name, func(t *testing.T) {
				host, reset := wasmtest.Start(t, r.VM, config)
				defer reset()
				for _, c := range cases {
					want := c.status
					if strings.Contains(config, "shadow") {
						want = 200
					}
					if status, data := exchange(t, host, c.headers); status != want {
						t.Errorf("%s: got %d %q, want %d", c.name, status, data, want)
					}
				}
			})
		}

		// An error in the filter's configuration is reported as the
		// filter's, naming the field from the top of the document.
		started, logs := wasmtest.TryStart(r.VM, `{"header": "allow", "bypass": [{"path": {"prefix": "/public/..;/"}}]}`)
		if started || len(logs) != 1 || !strings.HasPrefix(logs[0], "policy: invalid plugin configuration: headerauth") ||
			!strings.Contains(logs[0], `: bypass[0].path.prefix: must be in normal form, without "." or ".." segments and ";" parameters, not "/public/..;/"`) {
			t.Errorf("started %v, critical logs %q; want the bypass prefix refused", started, logs)
		}
	})
}

// exchange sends GET /productpage with headers and, if the chain lets it
// through, the backend's 200. It returns the status the client gets, with
// the body of a local reply.
func exchange(t *testing.T, host proxytest.HostEmulator, headers [][2]string) (uint32, string) {
	t.Helper()
	id := host.InitializeHttpContext()
	defer host.CompleteHttpContext(id)
	request := append([][2]string{{":method", "GET"}, {":path", "/productpage"}, {":authority", "bookinfo.example"}}, headers...)
	action := host.CallOnRequestHeaders(id, request, true)
	if local := host.GetSentLocalResponse(id); local != nil {
		return local.StatusCode, string(local.Data)
	}
	if action != types.ActionContinue {
		t.Fatalf("request action %v without a local reply", action)
	}
	if action := host.CallOnResponseHeaders(id, [][2]string{{":status", "200"}}, true); action != types.ActionContinue {
		t.Fatalf("response action %v", action)
	}
	if local := host.GetSentLocalResponse(id); local != nil {
		return local.StatusCode, string(local.Data)
	}
	if got := wasmtest.HeaderValues(host.GetCurrentResponseHeaders(id), ":status"); len(got) != 1 || got[0] != "200" {
		t.Fatalf("response :status %q, want the backend's 200", got)
	}
	return 200, ""
}

// TestReadmeConfigs starts the plugin with every JSON configuration in
// README.md, so the documentation cannot drift from the code; one of them
// is the filter's own configuration, without "filters".
func TestReadmeConfigs(t *testing.T) {
	configs := wasmtest.FencedBlocks(wasmtest.ReadFile(t, "README.md"), "json")
	whole := 0
	for _, c := range configs {
		if !strings.Contains(c, `"filters"`) {
			whole++
		}
	}
	if len(configs) < 3 || whole == 0 {
		t.Fatalf("found %d configurations in README.md, %d without \"filters\"; want at least 3, one without", len(configs), whole)
	}
	wasmtest.Both(t, "headerauth", native, func(t *testing.T, r wasmtest.Runner) {
		for i, config := range configs {
			if started, logs := wasmtest.TryStart(r.VM, config); !started {
				t.Errorf("README configuration %d does not start: %q", i, logs)
			}
		}
	})
}

// TestReadmeError checks the configuration error README.md shows: the
// plugin refuses to start with that one line.
func TestReadmeError(t *testing.T) {
	const want = `policy: invalid plugin configuration: filters[0] (headerauth): config.deny.status: must be an HTTP status code from 300 to 599, not 200`
	if !strings.Contains(wasmtest.ReadFile(t, "README.md"), "\n"+want+"\n") {
		t.Fatalf("README.md does not show the line %q", want)
	}
	config := `{"filters": [{"name": "headerauth", "config": {"header": "allow", "values": ["true"], "deny": {"status": 200}}}]}`
	wasmtest.Both(t, "headerauth", native, func(t *testing.T, r wasmtest.Runner) {
		if started, logs := wasmtest.TryStart(r.VM, config); started || len(logs) != 1 || logs[0] != want {
			t.Errorf("started %v, critical logs %q; want %q", started, logs, want)
		}
	})
}
