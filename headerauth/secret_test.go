package headerauth_test

import (
	"bytes"
	"log"
	"os"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestSecretsNeverLogged sends right and wrong keys and loads bad key
// configurations, then looks for every secret and every guess in all that
// left the plugin: the logs of every level the host received, the host
// emulator's own log output, and the process's stdout and stderr (where
// the compiled plugin's stdout and stderr go).
func TestSecretsNeverLogged(t *testing.T) {
	const (
		keyAlice = "sk-live-6a1f0c9e2b7d"
		keyBob   = "sk-live-93d04be1c5aa"
		token    = "tok-51c8e0a7f3"
		guess    = "sk-live-000000000000"
		prefix   = "sk-live-6a1f"
	)
	secrets := []string{keyAlice, keyBob, token, guess, prefix} // prefix last: see redact
	config := `{"any_of": [
		{"header": "x-api-key", "keys": {"alice": "` + keyAlice + `", "bob": "` + keyBob + `"}, "strip": true, "identity_header": "x-consumer"},
		{"header": "x-token", "values": ["` + token + `"], "secret": true}]}`
	requests := []struct {
		headers [][2]string
		allowed bool
	}{
		{[][2]string{{"x-api-key", keyAlice}}, true},
		{[][2]string{{"x-token", token}}, true},
		{[][2]string{{"x-api-key", guess}}, false},
		{[][2]string{{"x-api-key", prefix}}, false},
		{[][2]string{{"x-api-key", token}, {"x-token", keyBob}}, false},
		{[][2]string{{"x-api-key", keyAlice}, {"x-api-key", keyBob}}, false},
	}
	badConfigs := []string{
		`{"header": "x-api-key", "keys": {"alice": "` + keyAlice + `", "bob": "` + keyAlice + `"}}`,
		`{"header": "x-api-key", "keys": {"alice": "` + keyAlice + `", "bob": 5}}`,
		`{"header": "x-api-key", "keys": {"alice": "` + keyAlice + `", "alice": "` + keyBob + `"}}`,
		`{"header": "x-api-key", "keys": {"alice": "` + keyAlice + `"}, "ignore_case": true}`,
		`{"header": "x-token", "values": ["` + token + `", ""], "secret": true}`,
		`{"header": "x-token", "values": ["` + token + `"], "secret": true, "extra": "` + token + `"}`,
	}

	out := captureOutput(t)
	var logs []string
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, mode := range []string{"enforce", "shadow"} {
			host, reset := wasmtest.Start(t, r.VM, pluginConfig(config, mode))
			for _, req := range requests {
				e := send(host, "GET", "/", req.headers)
				if passed := e.local == nil; passed != (req.allowed || mode == "shadow") {
					t.Errorf("%s: %q went upstream: %v", mode, headerNames(req.headers), passed)
				}
			}
			logs = append(logs, wasmtest.Logs(host)...)
			reset()
		}
		for i, bad := range badConfigs {
			host, reset := wasmtest.Emulator(r.VM, pluginConfig(bad, ""))
			if host.StartPlugin() != types.OnPluginStartStatusFailed {
				t.Errorf("bad config %d started", i)
			}
			if len(host.GetCriticalLogs()) != 1 {
				t.Errorf("bad config %d: %d critical lines, want 1", i, len(host.GetCriticalLogs()))
			}
			logs = append(logs, wasmtest.Logs(host)...)
			reset()
		}
	})
	printed := out.stop()

	// The checks look where the lines are, so they must have found them.
	for _, want := range []string{`header "x-api-key" does not carry a valid key`, `would deny`, `keys.bob: is the same key as keys.alice`} {
		if !wasmtest.AnyContains(logs, want) {
			t.Errorf("no log line contains %q: the collection missed the lines under test", want)
		}
	}
	if !strings.Contains(printed, "proxy_debug_log") {
		t.Errorf("the host emulator's own output was not captured")
	}
	for _, s := range secrets {
		for _, l := range logs {
			if strings.Contains(l, s) {
				t.Errorf("a secret appears in the log line %q", redact(l, secrets))
			}
		}
		if strings.Contains(printed, s) {
			t.Errorf("a secret appears in the process's output")
		}
	}
}

// redact hides every secret in s, so a failing test does not print them
// either. A secret that contains another comes first.
func redact(s string, secrets []string) string {
	for _, secret := range secrets {
		s = strings.ReplaceAll(s, secret, "<secret>")
	}
	return s
}

func headerNames(headers [][2]string) []string {
	var names []string
	for _, h := range headers {
		names = append(names, h[0])
	}
	return names
}

// capture redirects the process's stdout, stderr and the standard logger
// (which the host emulator prints every plugin log line with) until stop.
type capture struct {
	stdout, stderr *os.File
	logOut         *bytes.Buffer
	restore        func()
}

func captureOutput(t *testing.T) *capture {
	t.Helper()
	dir := t.TempDir()
	stdout, err1 := os.Create(dir + "/stdout")
	stderr, err2 := os.Create(dir + "/stderr")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	c := &capture{stdout: stdout, stderr: stderr, logOut: &bytes.Buffer{}}
	oldOut, oldErr, oldLog := os.Stdout, os.Stderr, log.Writer()
	os.Stdout, os.Stderr = stdout, stderr
	log.SetOutput(c.logOut)
	c.restore = func() { os.Stdout, os.Stderr = oldOut, oldErr; log.SetOutput(oldLog) }
	t.Cleanup(c.restore)
	return c
}

// stop restores the output and returns everything captured.
func (c *capture) stop() string {
	c.restore()
	var all strings.Builder
	for _, f := range []*os.File{c.stdout, c.stderr} {
		data, _ := os.ReadFile(f.Name())
		all.Write(data)
		f.Close()
	}
	all.Write(c.logOut.Bytes())
	return all.String()
}
