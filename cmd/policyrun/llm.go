package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The built-in upstream's chat completions: an OpenAI-compatible answer,
// always the same, whose usage counts words as tokens, so that a token
// budget in front of it can be tried locally. A request with "stream":
// true is answered with Server-Sent Events, one word each, and, when it
// asks with "stream_options": {"include_usage": true}, an event with the
// usage before [DONE], as the API does.

// reply is the answer's text.
const reply = "Hello from the built-in upstream."

type chatRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Content string `json:"content"`
	} `json:"messages"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

func chatCompletion(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &req); err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error": {"message": %q}}`, "the body is not a chat completion request: "+err.Error())
		return
	}
	if req.Model == "" {
		req.Model = "builtin"
	}
	prompt := 0
	for _, m := range req.Messages {
		prompt += len(strings.Fields(m.Content))
	}
	words := strings.Fields(reply)
	usage := map[string]int{"prompt_tokens": prompt, "completion_tokens": len(words), "total_tokens": prompt + len(words)}
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-builtin", "object": "chat.completion", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "message": map[string]string{"role": "assistant", "content": reply}, "finish_reason": "stop"}},
			"usage":   usage,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	flusher, _ := w.(http.Flusher)
	event := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	chunk := func(choices []any) map[string]any {
		c := map[string]any{"id": "chatcmpl-builtin", "object": "chat.completion.chunk", "model": req.Model, "choices": choices}
		if req.StreamOptions.IncludeUsage {
			c["usage"] = nil
		}
		return c
	}
	for i, word := range words {
		if i > 0 {
			word = " " + word
		}
		event(chunk([]any{map[string]any{"index": 0, "delta": map[string]string{"content": word}}}))
	}
	if req.StreamOptions.IncludeUsage {
		last := chunk([]any{})
		last["usage"] = usage
		event(last)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}
