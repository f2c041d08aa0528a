// Command metrics is a plugin that counts requests by method and response
// code class, counts the requests its chain answered itself, and records
// the time each request spent in the chain. config.json is its plugin
// configuration; README.md shows the Envoy and Istio settings that turn the
// metric tags into Prometheus labels.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/metrics"
)

func main() {}

func init() { policy.Serve(plugin()) }

// plugin links the metrics filter; the configuration builds the chain.
func plugin() *policy.Plugin { return policy.Configured(metrics.Kind) }
