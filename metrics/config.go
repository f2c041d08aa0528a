package metrics

import (
	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/conf"
)

// Config configures the request telemetry filter. The zero Config is the
// default, what {"name": "metrics"} without a config object gets.
type Config struct {
	// NoChainTime leaves out the chain_time_microseconds histogram (the
	// time each request spent in the plugin's filters), which makes the
	// chain read the clock twice per phase. JSON "chain_time": false; the
	// histogram is recorded by default.
	NoChainTime bool
}

// DefaultConfig is the default configuration, the zero Config.
func DefaultConfig() Config { return Config{} }

// ParseConfig decodes the filter's JSON configuration:
//
//	{"chain_time": true}
//
// Unknown keys are errors; error paths are relative to the config object.
func ParseConfig(config gjson.Result) (Config, error) { return definition.Parse(config) }

func decode(o *conf.Object) Config {
	return Config{NoChainTime: !o.Bool("chain_time", true)}
}
