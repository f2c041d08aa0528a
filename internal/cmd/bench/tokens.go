package main

import (
	"context"
	"strconv"

	"github.com/tidwall/sjson"

	"github.com/wasmpolicy/policy/internal/host"
)

// What a token budget costs: the llmbudget example's image serving an
// OpenAI-style chat completion, once answered plain (a JSON body whose
// usage the filter reads at its end) and once streamed (Server-Sent
// Events the filter reads one by one as they pass, asking for the usage
// event and taking it out again), taking turns; the allocations per
// request of the streamed answer in wasm; and the linear memory of a VM
// serving it, at 10,000 and 100,000 answers.

// tokenEvents is how many content events the streamed answer has before
// its usage event.
const tokenEvents = 200

// tokenMemoryRequests is how many streamed answers the memory measure
// serves at most: 100,000 of them are 20 million events, and a million
// would take most of an hour.
const tokenMemoryRequests = 100_000

// tokenRequest is the chat completion request's body: streamed when
// stream is set.
func tokenRequest(stream bool) []byte {
	s := ""
	if stream {
		s = `"stream": true, `
	}
	return []byte(`{"model": "gpt-4o", ` + s + `"messages": [{"role": "user", "content": "Say hello"}]}`)
}

// tokenAnswer is the plain answer's body: a chat.completion with its usage.
const tokenAnswer = `{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the upstream."},"finish_reason":"stop"}],` +
	`"usage":{"prompt_tokens":2,"completion_tokens":5,"total_tokens":7}}`

// The streamed answer's events: a content event, repeated tokenEvents
// times, the usage event (which the filter asks for, and removes for a
// client that did not), and the end.
const (
	tokenEvent      = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" word\"}}],\"usage\":null}\n\n"
	tokenUsageEvent = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":200,\"total_tokens\":202}}\n\n"
	tokenDone       = "data: [DONE]\n\n"
)

// tokenResponses are the upstream's two answers: the plain one, whole,
// and the streamed one as the upstream sends it, an event a piece, then
// an empty piece that ends the stream (no content-length: its length is
// not known ahead).
var tokenResponses = [2]*host.Response{
	{Status: 200, Headers: [][2]string{
		{"content-type", "application/json"}, {"content-length", strconv.Itoa(len(tokenAnswer))}, {"server", "upstream"},
	}, Body: []byte(tokenAnswer), Details: "via_upstream"},
	{Status: 200, Headers: [][2]string{
		{"content-type", "text/event-stream"}, {"cache-control", "no-cache"}, {"server", "upstream"},
	}, Chunks: streamChunks(), Details: "via_upstream"},
}

// streamChunks are the streamed answer's pieces: each event, then the
// empty piece that ends the stream.
func streamChunks() [][]byte {
	var out [][]byte
	for range tokenEvents {
		out = append(out, []byte(tokenEvent))
	}
	return append(out, []byte(tokenUsageEvent), []byte(tokenDone), nil)
}

// tokenLabels name the two entries.
var tokenLabels = [2]string{"plain answer", "streamed answer, " + strconv.Itoa(tokenEvents) + " events"}

// tokenFill is the budget the measure configures: the most tokens a fill
// may hold (10^12), so that no run spends it and every request is
// admitted.
const tokenFill = 1_000_000_000_000

// tokenPlugins are the two entries on the llmbudget image: its benchmark
// configuration (config.json with the default cost 0, which no answer here
// is charged, as both report their usage) with a budget of tokenFill
// tokens an hour, which is never spent, so every request is admitted;
// a POST of the chat completion with an API key, plain and streamed; and
// the upstream's answer to each.
func tokenPlugins(llm plugin) ([2]plugin, error) {
	config, err := sjson.SetBytes(llm.config, "filters.0.config.tokens_per_fill", tokenFill)
	if err != nil {
		return [2]plugin{}, err
	}
	var out [2]plugin
	for i, label := range tokenLabels {
		p := llm
		p.label, p.config, p.body, p.response = label, config, tokenRequest(i == 1), tokenResponses[i]
		p.headers = postJSON("/v1/chat/completions", [2]string{"content-length", strconv.Itoa(len(p.body))}, [2]string{"x-api-key", "bench"})
		out[i] = p
	}
	return out, nil
}

// tokens is the measure's result.
type tokens struct {
	plain, streamed float64 // ms per request, medians over the rounds
	stream          bodyCost
}

// measureTokens takes the measure on the llmbudget image.
func measureTokens(ctx context.Context, llm plugin, checkpoints []int) (tokens, error) {
	ps, err := tokenPlugins(llm)
	if err != nil {
		return tokens{}, err
	}
	samples, err := slowTurns(ctx, ps[:])
	if err != nil {
		return tokens{}, err
	}
	out := tokens{plain: median(samples[0]), streamed: median(samples[1])}
	if out.stream, err = measureCost(ctx, ps[1], checkpoints); err != nil {
		return tokens{}, err
	}
	return out, nil
}

// writeTokens is the report's section on it.
func (r *results) writeTokens(w writer) {
	if r.tokens.plain == 0 {
		return
	}
	t := r.tokens
	w("## Token budgets\n\n")
	w("The llmbudget example's image (a budget of tokens per API key and model, charged by the usage each answer reports) with a budget that is never spent, ")
	w("serving a POST of an OpenAI-style chat completion: once answered plain, a JSON body whose usage the filter reads once it is complete, ")
	w("and once streamed, %d content events, the usage event and the end, a piece each, which the filter reads one by one as they pass. ", tokenEvents)
	w("For the streamed request the filter adds `\"stream_options\": {\"include_usage\": true}` to the request body, ")
	w("and removes the usage event from what the client gets, since the client did not ask for it. ")
	w("The two take turns in %d rounds of %d requests.\n\n", hostileRounds, hostileBatch)
	w("| Entry | Time (ms) | Per event (µs) | × the plain answer | Allocations per request (bytes) | Linear memory |\n|---|---:|---:|---:|---:|---|\n")
	w("| %s | %.3f | | 1.00 | | |\n", tokenLabels[0], t.plain)
	w("| %s | %.3f | %.2f | %.2f | %s (%s) | %s |\n", tokenLabels[1], t.streamed, t.streamed*1000/tokenEvents, t.streamed/t.plain,
		num(t.stream.allocs.mallocs), num(t.stream.allocs.bytes), memoryRange(t.stream.memory))
	w("\nThe stream is not held: the filter passes each event on as it comes (the ratelimit package's tests check that each of its response body callbacks continues, compiled and natively), ")
	w("and the usage event is removed. Linear memory is one VM's after the last two of its checkpoints (at most %s streamed answers, %s events): flat when the two agree.\n\n",
		count(tokenMemoryRequests), count(tokenMemoryRequests*tokenEvents))
}
