package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// TestMain lets a test run the command itself in a child process.
func TestMain(m *testing.M) {
	if os.Getenv("POLICYRUN_TEST_MAIN") == "1" {
		os.Args = append([]string{"policyrun"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// command runs the command in a child process and returns what it wrote
// to stdout and stderr, and its exit code.
func command(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "POLICYRUN_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return string(out), 0
}

func TestRunRefusesBadArguments(t *testing.T) {
	wasmtest.Image(t, "hostprobe")
	plugin := wasmtest.ImagePath("hostprobe")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-upstream", "builtin"}, "-plugin is required"},
		{[]string{"-plugin", plugin}, "-upstream is required"},
		{[]string{"-plugin", plugin, "-upstream", "ftp://x"}, `-upstream: "ftp://x" is not an http:// or https:// URL`},
		{[]string{"-plugin", plugin, "-upstream", "builtin", "-cluster", "nourl"}, "want NAME=URL"},
		{[]string{"-plugin", plugin, "-upstream", "builtin", "-log-level", "loud"}, `unknown level "loud"`},
		{[]string{"-plugin", plugin, "-upstream", "builtin", "-workers", "0"}, "-workers must be at least 1"},
		{[]string{"-plugin", plugin, "-upstream", "builtin", "-listen", "127.0.0.1:0", "-admin", "nowhere"}, "-admin: listen tcp: address nowhere"},
		{[]string{"-plugin", plugin, "-upstream", "builtin", "-listen", "127.0.0.1:0", "-config", writeFile(t, "refuse")},
			"the plugin refused to start (proxy_on_configure failed): hostprobe: configured to refuse"},
	} {
		err := run(context.Background(), c.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %q: %v, want an error containing %q", c.args, err, c.want)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help"} {
		out, code := command(t, arg)
		if code != 0 {
			t.Errorf("policyrun %s exited %d, want 0:\n%s", arg, code, out)
		}
		for _, want := range []string{"usage: policyrun -plugin FILE.wasm", `"builtin" (a backend that answers 200 itself, and chat completions with their usage)`, "-admin", "-v\t"} {
			if !strings.Contains(out, want) {
				t.Errorf("policyrun %s does not say %q:\n%s", arg, want, out)
			}
		}
	}
	if out, code := command(t, "-nosuchflag"); code != 1 || !strings.Contains(out, "flag provided but not defined: -nosuchflag") {
		t.Errorf("an unknown flag: exit %d\n%s", code, out)
	}
}

// A configuration the plugin refuses is reported once: the runner's error
// carries the plugin's reason, which is not printed again as a log line.
func TestRefusalPrintedOnce(t *testing.T) {
	for _, c := range []struct {
		image, config, reason string
	}{
		{"hostprobe", "refuse", "hostprobe: configured to refuse"},
		{"chain", `{"filters":[{"name":"ratelimit","config":{"requests_per_unit":2,"unit":"week"}}]}`,
			`config.unit: must be "second", "minute", "hour" or "day", not "week"`},
	} {
		wasmtest.Image(t, c.image)
		out, code := command(t, "-plugin", wasmtest.ImagePath(c.image), "-config", writeFile(t, c.config),
			"-upstream", "builtin", "-listen", "127.0.0.1:0", "-workers", "3")
		if code != 1 || strings.Count(out, c.reason) != 1 || !strings.Contains(out, "policyrun: the plugin refused to start (proxy_on_configure failed): ") {
			t.Errorf("%s: exit %d, want 1 and the reason %q once:\n%s", c.image, code, c.reason, out)
		}
	}
}

// -check starts the plugin with the configuration and says "ok", or why
// the plugin refused it, with exit status 0 or 1, serving nothing.
func TestCheck(t *testing.T) {
	good := "../../examples/ratelimit/config.json"
	bad := writeFile(t, `{"filters": [{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "week"}}]}`)
	yaml := writeFile(t, "filters:\n  - name: ratelimit\n")
	for _, c := range []struct {
		config string
		code   int
		want   string
	}{
		{good, 0, "ok\n"},
		{bad, 1, `config.unit: must be "second", "minute", "hour" or "day", not "week"`},
		{yaml, 1, "no WasmPlugin (apiVersion extensions.istio.io/v1alpha1) among its 1 YAML resources; -config takes the plugin configuration as JSON"},
		{writeFile(t, `{"filters": [}`), 1, "malformed JSON at offset 13"},
	} {
		out, code := command(t, "-check", "-plugin", wasmtest.ImagePath("ratelimit"), "-config", c.config)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("-check -config %s: exit %d, output %q; want %d and %q", c.config, code, out, c.code, c.want)
		}
	}
}
