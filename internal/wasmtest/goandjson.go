package wasmtest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/policytest"
)

// GoAndJSON checks that a filter built in Go behaves as the same filter
// configured from JSON, as a filter's defaults must: a Config that leaves
// a field zero gets the default that JSON without the field gets. It
// starts goVM, whose chain is built in Go and takes no configuration,
// then jsonVM with the plugin configuration config, each natively
// (policytest.Native) with opts and on the plugin's clock (opts'
// StartTime, moved by Plugin.Advance), and runs check on each. check
// asserts what the defaults give the requests it runs, so that a default
// both ways lack fails too, and returns what it saw of them (Describe),
// which must be the same both ways.
func GoAndJSON(t *testing.T, goVM, jsonVM *policy.Plugin, config string, check func(t *testing.T, p *policytest.Plugin) []string, opts ...policytest.Option) {
	t.Helper()
	var seen [2][]string
	for i, run := range []struct {
		name, config string
		vm           *policy.Plugin
	}{{"go", "", goVM}, {"json", config, jsonVM}} {
		t.Run(run.name, func(t *testing.T) {
			p := policytest.Native(t, run.vm, run.config, opts...)
			seen[i] = check(t, p)
		})
	}
	if t.Failed() {
		return
	}
	if got, want := strings.Join(seen[0], "\n"), strings.Join(seen[1], "\n"); got != want {
		t.Errorf("built in Go, the filter gave\n%s\nconfigured from JSON,\n%s", got, want)
	}
}

// Describe is what came of a request, in one line: the status, headers
// and body the client got and, if the request went upstream, the headers
// and body the upstream got.
func Describe(res *policytest.Result) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(res.Status))
	writeHeaders(&b, res.Headers)
	b.WriteString(" " + strconv.Quote(res.Body))
	if f := res.Forwarded; f != nil {
		b.WriteString(" | upstream got")
		writeHeaders(&b, f.Headers)
		b.WriteString(" " + strconv.Quote(f.Body))
	}
	return b.String()
}

func writeHeaders(b *strings.Builder, headers [][2]string) {
	for _, h := range headers {
		b.WriteString(" " + h[0] + ": " + strconv.Quote(h[1]))
	}
}
