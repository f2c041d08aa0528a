package main

import (
	"os"
	"strings"
	"testing"
)

// The llmbudget example's "Try it locally", through the runner in front of
// its built-in upstream: each request costs the usage its answer reports,
// plain or streamed; a streamed answer reaches the plugin event by event,
// without the usage event for a client that did not ask for it; and the
// README shows each answer as it comes.
func TestRunnerLLMBudget(t *testing.T) {
	readme, err := os.ReadFile("../../examples/llmbudget/README.md")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := startRunner(t, "llmbudget", "-upstream", "builtin", "-config", "../../examples/llmbudget/config.json")
	const (
		plain    = `{"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello"}]}`
		streamed = `{"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "Say hello"}]}`
		asked    = `{"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "Say hello"}]}`
	)
	const usageEvent = `data: {"choices":[],"id":"chatcmpl-builtin","model":"gpt-4o","object":"chat.completion.chunk","usage":{"completion_tokens":5,"prompt_tokens":2,"total_tokens":7}}`
	for i, c := range []struct {
		body, remaining string
		usage           bool // the answer carries the usage event
		shown           bool // the README shows the whole answer
	}{
		{plain, "10000", false, true},
		{streamed, "9993", false, true},
		{asked, "9986", true, false},
		{plain, "9979", false, true},
	} {
		resp, body := do(t, "POST", base+"/v1/chat/completions", c.body, "X-Api-Key", "team-a")
		if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Remaining") != c.remaining {
			t.Errorf("request %d: %d, remaining %q; want 200, %s", i, resp.StatusCode, resp.Header.Get("X-Ratelimit-Remaining"), c.remaining)
		}
		if got := strings.Contains(body, usageEvent); got != c.usage {
			t.Errorf("request %d: the usage event in the answer: %v, want %v:\n%s", i, got, c.usage, body)
		}
		shown := "X-Ratelimit-Remaining: " + c.remaining
		if i == 3 {
			shown = "finds " + c.remaining + " tokens left"
		}
		if !strings.Contains(string(readme), shown) {
			t.Errorf("the README does not show %q", shown)
		}
		if c.shown && !strings.Contains(string(readme), strings.TrimSpace(body)) {
			t.Errorf("the README does not show request %d's answer:\n%s", i, body)
		}
	}
}
