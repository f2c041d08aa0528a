// Package prometheus writes a host's metrics in the Prometheus text format
// as an Envoy configured the way the metrics package documents would: its
// stats_tags turn the tags encoded in the names into labels. The local
// runner's admin listener and the test kit both render metrics with it.
package prometheus

import (
	"io"

	"github.com/wasmpolicy/policy/internal/host"
	"github.com/wasmpolicy/policy/metrics"
)

// Write writes ms to w, labelled by StatsTags(ms).
func Write(w io.Writer, ms []host.Metric) error {
	tags, err := StatsTags(ms)
	if err != nil {
		return err
	}
	return host.WritePrometheus(w, ms, tags)
}

// StatsTags are the stats_tags of the library's keys (metrics.Keys), then
// of every other key the metrics' names carry, in order.
func StatsTags(ms []host.Metric) ([]host.StatsTag, error) {
	keys := metrics.Keys()
	known := map[string]bool{}
	for _, k := range keys {
		known[k] = true
	}
	for _, k := range host.TagKeys(ms) {
		if !known[k] && metrics.ValidName(k) {
			known[k] = true
			keys = append(keys, k)
		}
	}
	tags, err := metrics.StatsTags(keys...)
	if err != nil {
		return nil, err
	}
	out := make([]host.StatsTag, len(tags))
	for i, t := range tags {
		out[i] = host.StatsTag{Name: t.TagName, Regex: t.Regex}
	}
	return out, nil
}
