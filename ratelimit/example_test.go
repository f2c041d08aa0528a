package ratelimit_test

import (
	"time"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/match"
	"github.com/wasmpolicy/policy/ratelimit"
)

// A plugin built in Go: 100 requests a minute per API key, 5 a minute per
// client address on the login endpoint. Call policy.Serve from an init
// function of package main.
func ExampleFilter() {
	policy.Serve(policy.Static(ratelimit.Filter(ratelimit.Config{
		Limit: ratelimit.Limit{RequestsPerUnit: 100, Unit: ratelimit.Minute, Key: []string{"header:x-api-key"}},
		Rules: []ratelimit.Rule{{
			Match: match.Match{Methods: []string{"POST"}, Path: match.Path{Exact: "/login"}},
			Limit: ratelimit.Limit{TokensPerFill: 5, FillInterval: time.Minute, Key: []string{"source_ip"}},
		}},
		RateLimitHeaders: true,
	})))
}
