package metrics

import (
	"github.com/tidwall/gjson"

	"github.com/wasmpolicy/policy/conf"
)

// Config configures the request telemetry filter. The zero Config is not
// the default: use DefaultConfig, or ParseConfig of "{}".
type Config struct {
	// ChainTime records the chain_time_microseconds histogram: the time
	// each request spent in the plugin's filters. It makes the chain read
	// the clock twice per phase. JSON "chain_time", true when absent.
	// False is a choice, to turn it off, not "unset": the zero Config
	// turns it off. DefaultConfig, which decoding starts from, sets it.
	ChainTime bool
}

// DefaultConfig is the configuration of {"name": "metrics"} with no config
// object.
func DefaultConfig() Config { return Config{ChainTime: true} }

// ParseConfig decodes the filter's JSON configuration:
//
//	{"chain_time": true}
//
// Unknown keys are errors; error paths are relative to the config object.
func ParseConfig(config gjson.Result) (Config, error) { return definition.Parse(config) }

func decode(o *conf.Object) Config {
	c := DefaultConfig()
	c.ChainTime = o.Bool("chain_time", c.ChainTime)
	return c
}
