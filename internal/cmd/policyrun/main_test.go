package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

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
		{[]string{"-plugin", plugin, "-upstream", "builtin", "-listen", "127.0.0.1:0", "-config", writeFile(t, "refuse")},
			"the plugin refused to start (proxy_on_configure failed): hostprobe: configured to refuse"},
	} {
		err := run(context.Background(), c.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %q: %v, want an error containing %q", c.args, err, c.want)
		}
	}
}
