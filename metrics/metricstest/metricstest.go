// Package metricstest helps tests of filters read their metrics the way a
// user will: it applies stats_tags regexes to a name as Envoy does and
// formats the Prometheus series, and, for a plugin run natively in the
// SDK's host emulator (proxytest), it reads a counter and counts the metric
// names the plugin has defined.
//
// A compiled plugin's metrics are read through the test kit instead:
// policytest.Plugin's Counter, Gauge, Histogram and Metrics read them by
// name and tags, and Plugin.Prometheus renders them as Envoy's
// /stats/prometheus does with the stats_tags of package metrics (Series
// gives one of those series by itself).
package metricstest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"

	"github.com/wasmpolicy/policy/metrics"
)

// Extract does to the stat name what Envoy does before its Prometheus
// output: it searches each regex of tags in the whole name (regexes see the
// original name, not what earlier ones left), takes the second capture group
// (the first if there is no second) as the tag's value, removes the first
// capture group from the name, then drops the custom namespace. It returns
// the metric name and the labels in the order of tags; if what is left is
// not a valid metric name (a tag no regex took), it returns them with an
// error. Go's regexp is RE2; the regexes the metrics package generates use
// only syntax that RE2 and the ECMAScript grammar of std::regex read alike.
func Extract(statName string, tags []metrics.StatsTag) (name string, labels []metrics.Tag, err error) {
	var cut [][2]int
	for _, t := range tags {
		re, err := regexp.Compile(t.Regex)
		if err != nil {
			return "", nil, fmt.Errorf("stats_tags %s: %v", t.TagName, err)
		}
		if re.NumSubexp() < 1 {
			return "", nil, fmt.Errorf("stats_tags %s: the regex has no capture group", t.TagName)
		}
		m := re.FindStringSubmatchIndex(statName)
		if m == nil || m[2] < 0 {
			continue
		}
		value := statName[m[2]:m[3]]
		if len(m) >= 6 && m[4] >= 0 {
			value = statName[m[4]:m[5]]
		}
		labels = append(labels, metrics.Tag{Key: t.TagName, Value: value})
		cut = append(cut, [2]int{m[2], m[3]})
	}
	var b strings.Builder
	for i := 0; i < len(statName); i++ {
		if !inside(cut, i) {
			b.WriteByte(statName[i])
		}
	}
	name = strings.TrimPrefix(b.String(), metrics.Namespace+".")
	if !metrics.ValidName(name) {
		return name, labels, fmt.Errorf("%q leaves %q, which is not a Prometheus metric name", statName, name)
	}
	return name, labels, nil
}

func inside(cut [][2]int, i int) bool {
	for _, c := range cut {
		if i >= c[0] && i < c[1] {
			return true
		}
	}
	return false
}

// Series is the Prometheus series Envoy exports for the metric the plugin
// defined as fullName, with the stats_tags tags: name{key="value",...}.
func Series(fullName string, tags []metrics.StatsTag) (string, error) {
	name, labels, err := Extract(metrics.Namespace+"."+fullName, tags)
	if err != nil {
		return "", err
	}
	if len(labels) == 0 {
		return name, nil
	}
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = fmt.Sprintf("%s=%q", l.Key, l.Value)
	}
	return name + "{" + strings.Join(parts, ",") + "}", nil
}

// Counter reads the counter fullName (tags encoded, as in
// "filter=.=a;.;policy_filter_requests_total") from the emulator as it
// holds it now, failing the test if the plugin never defined it; one
// defined but never incremented reads 0. Call host.Tick() first: counters
// reach the host when the plugin flushes. (This module's own emulator
// tests read counters through this function too.)
func Counter(t testing.TB, host proxytest.HostEmulator, fullName string) uint64 {
	t.Helper()
	v, err := host.GetCounterMetric(fullName)
	if err != nil {
		t.Fatalf("counter %s: %v", fullName, err)
	}
	return v
}

// NextMetricID defines a new, never used counter name in the current host
// emulator and returns the ID the emulator gave it. The SDK's emulator
// numbers metric names 0, 1, 2, ... in the order they are first defined, and
// a name defined again keeps its ID, so the result is the number of distinct
// names defined before the probe: the plugin's names plus earlier probes.
// Two calls return consecutive IDs exactly when nothing defined a new name
// in between. It works the same whether the plugin runs natively or
// compiled, because both define their metrics through the emulator.
//
// The probe's name is random (metricstest_probe_ and 128 random bits), so
// that it is new in any emulator without a count kept between tests; it
// may be called from parallel tests of different emulators.
func NextMetricID() uint32 {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("metricstest: " + err.Error())
	}
	return uint32(proxywasm.DefineCounterMetric("metricstest_probe_" + hex.EncodeToString(b[:])))
}
