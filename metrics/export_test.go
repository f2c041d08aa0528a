package metrics_test

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/metrics"
	"github.com/wasmpolicy/policy/metrics/metricstest"
)

func TestEnvoyStatsConfig(t *testing.T) {
	got, err := metrics.EnvoyStatsConfig(metrics.Keys()...)
	if err != nil {
		t.Fatal(err)
	}
	want := `stats_config:
  stats_tags:
  - tag_name: filter
    regex: '[.;](filter=\.=([^;]*);\.;)'
  - tag_name: decision
    regex: '[.;](decision=\.=([^;]*);\.;)'
  - tag_name: method
    regex: '[.;](method=\.=([^;]*);\.;)'
  - tag_name: code_class
    regex: '[.;](code_class=\.=([^;]*);\.;)'
  - tag_name: side
    regex: '[.;](side=\.=([^;]*);\.;)'
`
	if got != want {
		t.Errorf("EnvoyStatsConfig =\n%s\nwant\n%s", got, want)
	}
}

func TestIstioConfig(t *testing.T) {
	got, err := metrics.IstioMeshConfig("policy", metrics.Keys()...)
	if err != nil {
		t.Fatal(err)
	}
	want := `meshConfig:
  defaultConfig:
    extraStatTags:
    - filter
    - decision
    - method
    - code_class
    - side
    proxyStatsMatcher:
      inclusionRegexps:
      - 'wasmcustom\.(?:[^;]*;\.;)*policy_.*'
`
	if got != want {
		t.Errorf("IstioMeshConfig =\n%s\nwant\n%s", got, want)
	}
	// Istio matches inclusion regexes against the whole stat name.
	include := regexp.MustCompile(`^(?:` + metrics.InclusionRegex("policy") + `)$`)
	for name, want := range map[string]bool{
		"wasmcustom.policy_requests_total":                                          true,
		"wasmcustom.filter=.=a;.;decision=.=denied;.;policy_filter_decisions_total": true,
		"wasmcustom.filter=.=a;.;other_requests_total":                              false,
		"wasmcustom.filter=.=policy_x;.;other_total":                                false, // the prefix in a value is not the name
	} {
		if include.MatchString(name) != want {
			t.Errorf("inclusion regex on %s: %v, want %v", name, !want, want)
		}
	}
}

func TestKeysThatWouldBeAmbiguousAreRejected(t *testing.T) {
	for _, keys := range [][]string{nil, {"a-b"}, {"9x"}, {"filter", "filter"}, {""}} {
		if _, err := metrics.StatsTags(keys...); err == nil {
			t.Errorf("StatsTags(%q) accepted", keys)
		}
	}
	for _, c := range []struct {
		keys []string
		want string
	}{
		{[]string{"filter", "code"}, `tag key "code" ends the tag key "response_code"`},
		{[]string{"my_reporter"}, `tag key "my_reporter" ends with the tag key "reporter"`},
		{[]string{"class", "code_class"}, `tag key "class" ends the tag key "code_class"`},
	} {
		_, err := metrics.IstioProxyConfig("policy", c.keys...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("IstioProxyConfig(%q) = %v, want an error containing %q", c.keys, err, c.want)
		}
	}
	if _, err := metrics.IstioProxyConfig("9lives", "filter"); err == nil {
		t.Error("an invalid prefix was accepted")
	}

	// Why: Istio's regex for "class" finds the first "class=.=", which is
	// inside code_class; the anchored regexes of StatsTags do not.
	name := "wasmcustom.code_class=.=2xx;.;class=.=gold;.;x_total"
	anchored, err := metrics.StatsTags("class", "code_class")
	if err != nil {
		t.Fatal(err)
	}
	if _, labels, err := metricstest.Extract(name, anchored); err != nil || labels[0].Value != "gold" || labels[1].Value != "2xx" {
		t.Errorf("anchored regexes: %v, %v", labels, err)
	}
	left, labels, err := metricstest.Extract(name, istioStyle("class", "code_class"))
	if err == nil || len(labels) != 2 || labels[0].Value != "2xx" || left != "class=.=gold;.;x_total" {
		t.Errorf("Istio's unanchored regexes gave %s %v, %v; the test's premise is wrong", left, labels, err)
	}
}

// istioStyle is the stats_tags entry Istio generates for each
// extraStatTags key.
func istioStyle(keys ...string) []metrics.StatsTag {
	out := make([]metrics.StatsTag, len(keys))
	for i, k := range keys {
		out[i] = metrics.StatsTag{TagName: k, Regex: `(` + k + `=\.=(.*?);\.;)`}
	}
	return out
}

// istioBuiltins are tag extractors Istio's bootstrap configures for its own
// and Envoy's metrics (those Go's RE2 can compile): none may touch the
// plugin's names.
var istioBuiltins = []string{
	`^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.)`,
	`^tcp\.((.*?)\.)\w+?$`,
	`(response_code=\.=(.+?);\.;)|_rq(_(\.d{3}))$`,
	`_rq(_(\dxx))$`,
	`^http\.(((?:[_.[:digit:]]*|[_\[\]aAbBcCdDeEfF[:digit:]]*))\.)`,
	`^listener\.(((?:[_.[:digit:]]*|[_\[\]aAbBcCdDeEfF[:digit:]]*))\.)`,
	`^mongo\.(.+?)\.(collection|cmd|cx_|op_|delays_|decoding_)(.*?)$`,
	`(reporter=\.=(.*?);\.;)`,
	`(source_workload=\.=(.*?);\.;)`,
	`(destination_service=\.=(.*?);\.;)`,
	`(cache\.(.+?)\.)`,
	`(component\.(.+?)\.)`,
	`(tag\.(.+?);\.)`,
	`(wasm_filter\.(.+?)\.)`,
}

// TestTagRegexesRecoverLabels starts the plugin with a chain of the metrics
// filter and two steps, checks that the names it emitted are exactly the
// expected ones, and parses each with the generated stats_tags regexes, and
// with the ones Istio generates from extraStatTags: every name yields its
// prefixed name and exactly its tags as labels.
func TestTagRegexesRecoverLabels(t *testing.T) {
	anchored, err := metrics.StatsTags(metrics.Keys()...)
	if err != nil {
		t.Fatal(err)
	}
	var builtins []*regexp.Regexp
	for _, b := range istioBuiltins {
		builtins = append(builtins, regexp.MustCompile(b))
	}
	wasmtest.Both(t, image, native, func(t *testing.T, r wasmtest.Runner) {
		for _, prefix := range []string{"policy", "edge_v2"} {
			host, reset := wasmtest.Start(t, r.VM, chain(`,"metrics_prefix":"`+prefix+`"`, metricsFilter, step("a", `{}`), step("team-b/check", `{}`)))
			all := expected("a", "team-b/check")
			checkDefined(t, host, prefix, all)
			reset()
			for _, d := range all {
				stat := metrics.Namespace + "." + d.full(prefix)
				for _, tags := range [][]metrics.StatsTag{anchored, istioStyle(metrics.Keys()...)} {
					name, labels, err := metricstest.Extract(stat, tags)
					if err != nil {
						t.Errorf("%s: %v", stat, err)
						continue
					}
					if want := prefix + "_" + d.name; name != want || !reflect.DeepEqual(labels, d.tags) {
						t.Errorf("%s with %s\n got %s %v\nwant %s %v", stat, tags[0].Regex, name, labels, want, d.tags)
					}
				}
				for _, b := range builtins {
					if b.MatchString(stat) {
						t.Errorf("Istio's extractor %s matches %s", b, stat)
					}
				}
			}
		}
	})
}
