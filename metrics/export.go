package metrics

import (
	"errors"
	"strings"

	"github.com/wasmpolicy/policy/internal/text"
)

// Namespace is Envoy's custom stat namespace for the metrics Wasm plugins
// define: the proxy knows a metric as "wasmcustom." + its name, and its
// Prometheus output drops the namespace (and adds no "envoy_" prefix).
const Namespace = "wasmcustom"

// StatsTag is one entry of Envoy's stats_config.stats_tags: Envoy searches
// the regex in every stat name, removes the first capture group from the
// name and makes the second the value of the tag TagName.
type StatsTag struct {
	TagName string
	Regex   string
}

// TagRegex is the stats_tags regex for key:
//
//	[.;](key=\.=([^;]*);\.;)
//
// The tag must start right after the namespace's '.' or the previous tag's
// ';', so the regex for a key that ends another key ("code" and
// "response_code") cannot match inside it; the value stops at the first
// ';', which values cannot contain. The leading character is outside the
// first group and stays in the name for the next regex.
func TagRegex(key string) string { return `[.;](` + key + `=\.=([^;]*);\.;)` }

// StatsTags returns the stats_tags entries that turn keys into labels.
func StatsTags(keys ...string) ([]StatsTag, error) {
	if err := checkKeys(keys); err != nil {
		return nil, err
	}
	out := make([]StatsTag, len(keys))
	for i, k := range keys {
		out[i] = StatsTag{TagName: k, Regex: TagRegex(k)}
	}
	return out, nil
}

// EnvoyStatsConfig returns the stats_config section of an Envoy bootstrap
// that turns keys into labels, as YAML. Envoy's default tags stay on.
func EnvoyStatsConfig(keys ...string) (string, error) {
	tags, err := StatsTags(keys...)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("stats_config:\n  stats_tags:\n")
	for _, t := range tags {
		b.WriteString("  - tag_name: " + t.TagName + "\n    regex: '" + t.Regex + "'\n")
	}
	return b.String(), nil
}

// InclusionRegex matches the stat names of every metric whose name starts
// with prefix + "_", whatever its tags, for Istio's proxyStatsMatcher (a
// whole-name match). With no prefix it matches every Wasm metric.
func InclusionRegex(prefix string) string {
	if prefix == "" {
		return Namespace + `\..*`
	}
	return Namespace + `\.(?:[^;]*;\.;)*` + prefix + `_.*`
}

// IstioProxyConfig returns the Istio ProxyConfig settings, as YAML, that
// keep the metrics named prefix_* and turn keys into labels: the body of a
// proxy.istio.io/config annotation. Istio builds its own stats_tags regex
// for each extraStatTags key, (key=\.=(.*?);\.;), which is not anchored, so
// no key may end another key or one of Istio's own tag keys (a key "code"
// would also match inside Istio's response_code tag).
func IstioProxyConfig(prefix string, keys ...string) (string, error) {
	if prefix != "" && !ValidName(prefix) {
		return "", text.Errorf("metrics prefix %q: must be a letter or '_' followed by letters, digits and '_'", prefix)
	}
	if err := checkKeys(keys); err != nil {
		return "", err
	}
	if err := checkSuffixes(keys); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("extraStatTags:\n")
	for _, k := range keys {
		b.WriteString("- " + k + "\n")
	}
	b.WriteString("proxyStatsMatcher:\n  inclusionRegexps:\n  - '" + InclusionRegex(prefix) + "'\n")
	return b.String(), nil
}

// IstioMeshConfig returns IstioProxyConfig under meshConfig.defaultConfig,
// for an IstioOperator or the istio ConfigMap: it applies to every proxy
// of the mesh, from its next restart.
func IstioMeshConfig(prefix string, keys ...string) (string, error) {
	body, err := IstioProxyConfig(prefix, keys...)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("meshConfig:\n  defaultConfig:\n")
	for _, line := range strings.SplitAfter(body, "\n") {
		if line != "" {
			b.WriteString("    " + line)
		}
	}
	return b.String(), nil
}

func checkKeys(keys []string) error {
	if len(keys) == 0 {
		return errors.New("no tag keys")
	}
	for i, k := range keys {
		if !ValidName(k) {
			return text.Errorf("tag key %q: must be a letter or '_' followed by letters, digits and '_'", k)
		}
		for _, prev := range keys[:i] {
			if prev == k {
				return text.Errorf("tag key %q is listed twice", k)
			}
		}
	}
	return nil
}

// istioKeys are the tag keys Istio's proxies extract from their own
// metrics with unanchored regexes.
var istioKeys = []string{
	"reporter", "source_namespace", "source_workload", "source_workload_namespace", "source_principal",
	"source_app", "source_version", "source_cluster", "source_canonical_service", "source_canonical_revision",
	"destination_namespace", "destination_workload", "destination_workload_namespace", "destination_principal",
	"destination_app", "destination_version", "destination_service", "destination_service_name",
	"destination_service_namespace", "destination_port", "destination_cluster", "destination_canonical_service",
	"destination_canonical_revision", "request_protocol", "request_operation", "request_host", "response_code",
	"response_flags", "grpc_response_status", "connection_security_policy", "permissive_response_code",
	"permissive_response_policyid",
}

// checkSuffixes rejects keys one of whose unanchored regexes would match
// inside another tag.
func checkSuffixes(keys []string) error {
	for _, k := range keys {
		for _, other := range append(append([]string(nil), keys...), istioKeys...) {
			if other == k {
				continue
			}
			if strings.HasSuffix(other, k) {
				return text.Errorf("tag key %q ends the tag key %q: Istio's regex for %q would also match inside every %s tag; rename it", k, other, k, other)
			}
			if strings.HasSuffix(k, other) {
				return text.Errorf("tag key %q ends with the tag key %q: Istio's regex for %q would also match inside every %s tag; rename it", k, other, other, k)
			}
		}
	}
	return nil
}
