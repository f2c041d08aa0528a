package main

import (
	"context"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/host"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/stats"
)

// The two entries serve their answers: the plain one reaches the client
// unchanged, and the streamed one asks the upstream for the usage and
// reaches the client without the usage event; the filter reads the usage
// each reports (the tokens counted once a tick has written the plugin's
// metrics).
func TestTokenPluginsServeTheirAnswers(t *testing.T) {
	ctx := context.Background()
	ps, err := loadPlugins(wasmtest.Root())
	if err != nil {
		t.Fatal(err)
	}
	entries, err := tokenPlugins(find(ps, llmBudgetName))
	if err != nil {
		t.Fatal(err)
	}
	want := [2]string{tokenAnswer, strings.Repeat(tokenEvent, tokenEvents) + tokenDone}
	charged := [2]uint64{2 * 7, 2 * 202} // two requests each
	reported := stats.Name("policy_ratelimit_cost_tokens_total", stats.Tag{Key: "filter", Value: "token-budget"},
		stats.Tag{Key: "model", Value: "gpt-4o"}, stats.Tag{Key: "result", Value: "reported"})
	for i, p := range entries {
		r, err := newRunner(ctx, p, host.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.close(ctx)
		var forwarded string
		r.up = func(ctx context.Context, req *host.Request) (*host.Response, error) {
			forwarded = string(req.Body)
			return p.answer(), nil
		}
		for n := range 2 { // the answer is the same the second time: nothing of it was changed in place
			resp, err := r.serve(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != want[i] {
				t.Errorf("%s, request %d: the client got %d bytes ending %q, want %d ending %q", p, n+1,
					len(resp.Body), resp.Body[max(0, len(resp.Body)-80):], len(want[i]), want[i][len(want[i])-80:])
			}
		}
		asked := strings.Contains(forwarded, `"stream_options":{"include_usage":true}`)
		if i == 0 && (asked || forwarded != string(tokenRequest(false))) {
			t.Errorf("%s: the upstream got %s, want the request unchanged", p, forwarded)
		}
		if i == 1 && !asked {
			t.Errorf("%s: the upstream got %s, want it asked for the usage", p, forwarded)
		}
		r.vm.Tick(ctx)
		if m, _ := r.host.Metric(reported); m.Value != charged[i] {
			t.Errorf("%s: %d tokens reported, want %d", p, m.Value, charged[i])
		}
	}
}

// The report's section gives the time per event, the ratio and the
// memory.
func TestTokensSection(t *testing.T) {
	r := sampleResults()
	r.tokens = tokens{plain: 0.04, streamed: 2,
		stream: bodyCost{allocs: allocStats{mallocs: 800, bytes: 120000}, memory: []memoryPoint{{100_000, 9 << 20}, {1_000_000, 9 << 20}}}}
	md := r.markdown("x.svg")
	for _, want := range []string{"## Token budgets",
		"| plain answer | 0.040 | | 1.00 | | |",
		"| streamed answer, 200 events | 2.000 | 10.00 | 50.00 | 800 (120000) | 9.00 MiB after 100,000, 9.00 MiB after 1,000,000 |",
		"The stream is not held: the filter passes each event on as it comes"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(sampleResults().markdown("x.svg"), "## Token budgets") {
		t.Error("a run without the measure has its section")
	}
}
