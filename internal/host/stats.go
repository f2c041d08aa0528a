package host

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// StatNamespace is the custom stat namespace Envoy files the metrics of a
// Wasm plugin under: the proxy knows a metric the plugin defined as name as
// "wasmcustom." + name.
const StatNamespace = "wasmcustom"

// StatsTag is one entry of Envoy's stats_config.stats_tags: Envoy searches
// Regex in every stat name, removes its first capture group from the name
// and makes its second (or, without one, its first) the value of the label
// Name.
type StatsTag struct {
	Name, Regex string
}

// A compiled stats_tags entry.
type tagRegex struct {
	name string
	re   *regexp.Regexp
}

func compileTags(tags []StatsTag) ([]tagRegex, error) {
	out := make([]tagRegex, len(tags))
	for i, t := range tags {
		re, err := regexp.Compile(t.Regex)
		if err != nil {
			return nil, fmt.Errorf("stats_tags %s: %v", t.Name, err)
		}
		if re.NumSubexp() < 1 {
			return nil, fmt.Errorf("stats_tags %s: the regex has no capture group", t.Name)
		}
		out[i] = tagRegex{t.Name, re}
	}
	return out, nil
}

// extract does to a stat name what Envoy's tag extraction does: each regex
// is searched in the whole name, in order, and what their first groups
// matched is cut from it. It returns the tag-extracted name and the labels
// in the order of tags.
func extract(statName string, tags []tagRegex) (string, [][2]string) {
	var labels [][2]string
	var cut [][2]int
	for _, t := range tags {
		m := t.re.FindStringSubmatchIndex(statName)
		if m == nil || m[2] < 0 {
			continue
		}
		value := statName[m[2]:m[3]]
		if len(m) >= 6 && m[4] >= 0 {
			value = statName[m[4]:m[5]]
		}
		labels = append(labels, [2]string{t.name, value})
		cut = append(cut, [2]int{m[2], m[3]})
	}
	var b strings.Builder
	for i := 0; i < len(statName); i++ {
		inside := false
		for _, c := range cut {
			inside = inside || i >= c[0] && i < c[1]
		}
		if !inside {
			b.WriteByte(statName[i])
		}
	}
	return b.String(), labels
}

// promName replaces every character Prometheus does not allow in a name
// with '_', as Envoy does.
func promName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// PrometheusSeries is the series Envoy's /stats/prometheus shows for the
// metric the plugin defined as name, with stats_tags tags: the family's
// name and the labels. ok is false if Envoy leaves the metric out (what is
// left of the name after the tags are cut starts with a digit, or is
// empty).
func PrometheusSeries(name string, tags []StatsTag) (family string, labels [][2]string, ok bool, err error) {
	compiled, err := compileTags(tags)
	if err != nil {
		return "", nil, false, err
	}
	family, labels, ok = series(name, compiled)
	return family, labels, ok, nil
}

func series(name string, tags []tagRegex) (string, [][2]string, bool) {
	extracted, labels := extract(StatNamespace+"."+name, tags)
	family := promName(strings.TrimPrefix(extracted, StatNamespace+"."))
	if family == "" || family[0] >= '0' && family[0] <= '9' {
		return "", nil, false
	}
	for i := range labels {
		labels[i][0] = promName(labels[i][0])
	}
	return family, labels, true
}

// WritePrometheus writes ms in the Prometheus text format as Envoy's admin
// endpoint /stats/prometheus does, with the stats_tags tags turning tags
// into labels: counters, then gauges, then histograms (with Envoy's default
// buckets); each family once, under a # TYPE line, families sorted by name
// and series by their stat name; the namespace removed and no "envoy_"
// prefix added.
func WritePrometheus(w io.Writer, ms []Metric, tags []StatsTag) error {
	compiled, err := compileTags(tags)
	if err != nil {
		return err
	}
	type member struct {
		m      Metric
		labels [][2]string
	}
	bw := bufio.NewWriter(w)
	for _, t := range []MetricType{Counter, Gauge, Histogram} {
		families := map[string][]member{}
		for _, m := range ms {
			if m.Type != t {
				continue
			}
			if family, labels, ok := series(m.Name, compiled); ok {
				families[family] = append(families[family], member{m, labels})
			}
		}
		names := make([]string, 0, len(families))
		for name := range families {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			members := families[name]
			sort.Slice(members, func(i, j int) bool { return statNameLess(members[i].m.Name, members[j].m.Name) })
			fmt.Fprintf(bw, "# TYPE %s %s\n", name, t)
			for _, x := range members {
				labels := formatLabels(x.labels)
				if t != Histogram {
					fmt.Fprintf(bw, "%s{%s} %d\n", name, labels, x.m.Value)
					continue
				}
				prefix := labels
				if prefix != "" {
					prefix += ","
				}
				for i, bound := range HistogramBuckets {
					var n uint64
					if x.m.Buckets != nil {
						n = x.m.Buckets[i]
					}
					fmt.Fprintf(bw, "%s_bucket{%sle=\"%s\"} %d\n", name, prefix, strconv.FormatFloat(bound, 'f', -1, 64), n)
				}
				fmt.Fprintf(bw, "%s_bucket{%sle=\"+Inf\"} %d\n", name, prefix, x.m.Count)
				fmt.Fprintf(bw, "%s_sum{%s} %d\n", name, labels, x.m.Sum)
				fmt.Fprintf(bw, "%s_count{%s} %d\n", name, labels, x.m.Count)
			}
			bw.WriteString("\n")
		}
	}
	return bw.Flush()
}

func formatLabels(labels [][2]string) string {
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = l[0] + `="` + l[1] + `"`
	}
	return strings.Join(parts, ",")
}

// statNameLess orders stat names as Envoy's symbol table does: by their
// '.'-separated segments.
func statNameLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}

// WriteStats writes ms as Envoy's admin endpoint /stats does, one
// "name: value" line per metric sorted by name, the name being the one the
// proxy knows (StatNamespace + "." + the plugin's name); a histogram shows
// its sample count and sum.
func WriteStats(w io.Writer, ms []Metric) error {
	sorted := append([]Metric(nil), ms...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	bw := bufio.NewWriter(w)
	for _, m := range sorted {
		if m.Type == Histogram {
			fmt.Fprintf(bw, "%s.%s: count=%d sum=%d\n", StatNamespace, m.Name, m.Count, m.Sum)
		} else {
			fmt.Fprintf(bw, "%s.%s: %d\n", StatNamespace, m.Name, m.Value)
		}
	}
	return bw.Flush()
}

// TagKeys lists the tag keys encoded in the metric names of ms the way
// Istio encodes them (key=.=value;.;name), in the order first seen.
func TagKeys(ms []Metric) []string {
	var keys []string
	seen := map[string]bool{}
	for _, m := range ms {
		rest := m.Name
		for {
			tag, after, ok := strings.Cut(rest, ";.;")
			if !ok {
				break
			}
			rest = after
			if key, _, ok := strings.Cut(tag, "=.="); ok && !seen[key] {
				seen[key] = true
				keys = append(keys, key)
			}
		}
	}
	return keys
}
