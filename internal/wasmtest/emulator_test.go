package wasmtest

import (
	"slices"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
	"github.com/tidwall/gjson"
)

// echoVM is a plugin that logs its configuration and the property "who" at
// start, refuses the configuration "fail", and counts its ticks.
type echoVM struct{ types.DefaultVMContext }

func (*echoVM) NewPluginContext(uint32) types.PluginContext { return &echoPlugin{} }

type echoPlugin struct {
	types.DefaultPluginContext
	ticks proxywasm.MetricCounter
}

func (p *echoPlugin) OnPluginStart(int) types.OnPluginStartStatus {
	config, _ := proxywasm.GetPluginConfiguration()
	who, _ := proxywasm.GetProperty([]string{"who"})
	proxywasm.LogInfof("config %s", config)
	proxywasm.LogWarnf("who %s", who)
	if string(config) == "fail" {
		proxywasm.LogCritical("refused")
		return types.OnPluginStartStatusFailed
	}
	p.ticks = proxywasm.DefineCounterMetric("ticks")
	return types.OnPluginStartStatusOK
}

func (p *echoPlugin) OnTick() { p.ticks.Increment(1) }

func TestStartPassesConfigAndProperties(t *testing.T) {
	host, reset := Start(t, &echoVM{}, "cfg", Property{Path: []string{"who"}, Value: []byte("alice")})
	defer reset()
	logs := Logs(host)
	if !AnyContains(logs, "config cfg") || !AnyContains(logs, "who alice") || AnyContains(logs, "refused") {
		t.Errorf("logs %q, want the configuration and the property", logs)
	}
	if got := ReadCounter(t, host, "ticks"); got != 0 {
		t.Errorf("ticks before any tick = %d, want 0", got)
	}
	if got := Counter(t, host, "ticks"); got != 1 {
		t.Errorf("ticks after Counter = %d, want 1: Counter ticks once", got)
	}
}

func TestTryStart(t *testing.T) {
	if started, critical := TryStart(&echoVM{}, "fail"); started || !slices.Equal(critical, []string{"refused"}) {
		t.Errorf("\"fail\": started %v, critical logs %q; want refused", started, critical)
	}
	if started, critical := TryStart(&echoVM{}, "cfg"); !started || critical != nil {
		t.Errorf("\"cfg\": started %v, critical logs %q; want started without one", started, critical)
	}
}

func TestEmulatorLeavesTheStartToTheTest(t *testing.T) {
	host, reset := Emulator(&echoVM{}, "fail")
	defer reset()
	if host.StartPlugin() != types.OnPluginStartStatusFailed {
		t.Fatal("the configuration \"fail\" started")
	}
	if logs := host.GetCriticalLogs(); !slices.Equal(logs, []string{"refused"}) {
		t.Errorf("critical logs %q, want [refused]", logs)
	}
}

func TestFilterConfig(t *testing.T) {
	for mode, want := range map[string]string{"": "enforce", "shadow": "shadow"} {
		doc := FilterConfig("ratelimit", mode, `{"requests_per_unit": 2}`)
		f := gjson.Get(doc, "filters")
		if !gjson.Valid(doc) || len(f.Array()) != 1 || f.Get("0.name").String() != "ratelimit" ||
			f.Get("0.mode").String() != want || f.Get("0.config.requests_per_unit").Int() != 2 {
			t.Errorf("FilterConfig(mode %q) = %s", mode, doc)
		}
	}
	if got := Chain(`{"name":"a"}`, `{"name":"b"}`); got != `{"filters":[{"name":"a"},{"name":"b"}]}` {
		t.Errorf("Chain = %s", got)
	}
}

func TestHeaderValues(t *testing.T) {
	headers := [][2]string{{"x-a", "1"}, {"x-b", "2"}, {"X-A", "3"}}
	if got := HeaderValues(headers, "x-a"); !slices.Equal(got, []string{"1", "3"}) {
		t.Errorf("x-a = %q, want both spellings in order", got)
	}
	if got := HeaderValues(headers, "x-c"); got != nil {
		t.Errorf("x-c = %q, want nil", got)
	}
}
