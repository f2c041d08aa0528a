package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// Configurations an attacker (or a careless generator) could hand the
// plugin: each is refused, quickly, with one line naming the limit or the
// field, natively and in build/chain.wasm. None of them may start, run out
// of memory or overflow the stack.
func TestHostileConfigurations(t *testing.T) {
	entry := func(name, config string) string {
		return `{"filters": [{"name": "` + name + `", "config": ` + config + `}]}`
	}
	deepAnyOf := strings.Repeat(`{"any_of": [`, 82) + `{"header": "a"}` + strings.Repeat("]}", 82)
	cases := []struct{ name, config, want string }{
		{"a 1 MB configuration", entry("headermutate", `{"request": {"set": {"x-a": "`+strings.Repeat("a", 1<<20)+`"}}}`),
			"bytes; the limit is 524288 bytes"},
		{"a 10 MB header value", entry("headermutate", `{"response": {"set": {"x-a": "`+strings.Repeat("b", 10<<20)+`"}}}`),
			"bytes; the limit is 524288 bytes"},
		{"nesting 100 levels beyond the limit", entry("headerauth", deepAnyOf),
			"filters[0].config" + strings.Repeat(".any_of[0]", 30) + ".any_of: nests objects and arrays deeper than 64 levels"},
		{"a million-deep array", `{"filters": ` + strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000) + `}`,
			"bytes; the limit is 524288 bytes"},
		{"a deep array within the size limit", `{"filters": ` + strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000) + `}`,
			"filters" + strings.Repeat("[0]", 63) + ": nests objects and arrays deeper than 64 levels"},
		{"a key given twice", entry("ratelimit", `{"requests_per_unit": 2, "requests_per_unit": -5}`),
			"filters[0] (ratelimit): config.requests_per_unit: is given twice"},
		{"filters given twice", `{"filters": [{"name": "metrics"}], "filters": []}`, "filters: is given twice"},
		{"invalid UTF-8", entry("headermutate", "{\"response\": {\"set\": {\"x-a\": \"\xc3\x28\"}}}"), "is not valid UTF-8 (at offset 78)"},
		{"a fill interval that limits nothing", entry("ratelimit", `{"tokens_per_fill": 1, "fill_interval": "1ns"}`),
			"filters[0] (ratelimit): config.fill_interval: must be at least 50ms (as in Envoy's local rate limit), not 1ns"},
	}
	wasmtest.Both(t, "chain", func() types.VMContext { return Plugin() }, func(t *testing.T, r wasmtest.Runner) {
		for _, c := range cases {
			start := time.Now()
			started, logs := wasmtest.TryStart(r.VM, c.config)
			took := time.Since(start)
			want := "policy: invalid plugin configuration: " + c.want
			if strings.HasPrefix(c.want, "bytes;") {
				want = "policy: invalid plugin configuration: is " + strconv.Itoa(len(c.config)) + " " + c.want
			}
			if started || len(logs) != 1 || !strings.HasPrefix(logs[0], want) {
				t.Errorf("%s: started = %v, logs = %.300q\nwant one line with %q", c.name, started, logs, c.want)
			}
			// The refusal is decided before anything is decoded; a second
			// is generous even on a loaded machine.
			if took > time.Second {
				t.Errorf("%s: refused after %v", c.name, took)
			}
		}
	})
}
