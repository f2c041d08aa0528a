// Command metricschain is the metrics package's test plugin: the request
// telemetry filter and the dispatcher's configurable test filter, built
// from the plugin configuration.
package main

import (
	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/internal/testfilters"
	"github.com/wasmpolicy/policy/metrics"
)

func main() {}

func init() { policy.Serve(policy.Configured(metrics.Kind, testfilters.Kind)) }
