package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// wasmPluginYAML is a WasmPlugin manifest with the given metadata and the
// given lines of spec (indented under spec:).
func wasmPluginYAML(metadata string, spec ...string) string {
	return "apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: " + metadata +
		"\nspec:\n  url: oci://registry.example.com/plugin:1\n" + indent(spec) + "\n"
}

func indent(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// pluginConfigOf reads the one WasmPlugin of a manifest and returns the
// plugin configuration -check starts the plugin with.
func pluginConfigOf(t *testing.T, manifest string) (string, error) {
	t.Helper()
	m, err := readWasmPlugins([]byte(manifest))
	if err != nil {
		return "", err
	}
	if len(m.plugins) != 1 {
		t.Fatalf("%d WasmPlugins in\n%s", len(m.plugins), manifest)
	}
	return string(m.plugins[0].config), m.plugins[0].err
}

// The plugin gets pluginConfig as Istio hands it over: kubectl's YAML 1.1
// reading, then a google.protobuf.Struct (numbers are doubles) marshalled
// to JSON with sorted keys.
func TestPluginConfigAsIstioHandsIt(t *testing.T) {
	for _, c := range []struct {
		yaml, want string
	}{
		{`{unit: second, requests_per_unit: 10}`, `{"requests_per_unit":10,"unit":"second"}`},
		{`{a: 10.0, b: 1e3, c: 0x1F, d: 1_000, e: .5}`, `{"a":10,"b":1000,"c":31,"d":1000,"e":0.5}`},
		{`{big: 9007199254740993, huge: 1e21, tiny: 0.0000001}`, `{"big":9007199254740992,"huge":1e+21,"tiny":1e-7}`},
		{`{octal: 010, quoted: '010'}`, `{"octal":8,"quoted":"010"}`},
		// YAML 1.1 booleans, as values and as keys; quoted, strings.
		{`{a: yes, b: no, c: on, d: Off, e: y, f: N, g: True}`, `{"a":true,"b":false,"c":true,"d":false,"e":true,"f":false,"g":true}`},
		{`{on: 1, n: 2, "y": 3}`, `{"false":2,"true":1,"y":3}`},
		{`{a: "yes", b: 'off', c: oN}`, `{"a":"yes","b":"off","c":"oN"}`},
		{`{a: ~, b: null, c: 2024-01-02, d: [1, two, {e: []}]}`, `{"a":null,"b":null,"c":"2024-01-02","d":[1,"two",{"e":[]}]}`},
	} {
		got, err := pluginConfigOf(t, wasmPluginYAML("{name: p}", "pluginConfig: "+c.yaml))
		if err != nil || got != c.want {
			t.Errorf("pluginConfig: %s\ngot  %s, %v\nwant %s", c.yaml, got, err, c.want)
		}
	}

	// Istio hands a plugin without pluginConfig, or with an empty one, no
	// configuration at all.
	for _, spec := range []string{"phase: AUTHN", "pluginConfig:", "pluginConfig: {}", "pluginConfig: null"} {
		got, err := pluginConfigOf(t, wasmPluginYAML("{name: p}", spec))
		if err != nil || got != "" {
			t.Errorf("spec %q: configuration %q, %v; want none", spec, got, err)
		}
	}
	if _, err := pluginConfigOf(t, wasmPluginYAML("{name: p}", "pluginConfig: [1]")); err == nil ||
		err.Error() != "spec.pluginConfig is [1], not a mapping (Istio takes a google.protobuf.Struct)" {
		t.Errorf("a list as pluginConfig: %v", err)
	}
	v1 := strings.Replace(wasmPluginYAML("{name: p}"), "v1alpha1", "v1", 1)
	if _, err := pluginConfigOf(t, v1); err == nil ||
		err.Error() != "apiVersion extensions.istio.io/v1: Istio serves WasmPlugin as extensions.istio.io/v1alpha1" {
		t.Errorf("apiVersion extensions.istio.io/v1: %v", err)
	}
}

// Everything -check reads but WasmPlugins of Istio is skipped, and a
// WasmPlugin is named by its namespace and name.
func TestReadWasmPluginsSkipsOtherKinds(t *testing.T) {
	stream := "# a comment only\n---\n" +
		"apiVersion: v1\nkind: Service\nmetadata: {name: httpbin}\n---\n" +
		strings.Replace(wasmPluginYAML("{name: other}"), "extensions.istio.io", "extensions.example.com", 1) + "---\n" +
		"- a list\n---\n" +
		wasmPluginYAML("{name: a, namespace: prod}") + "--- # the next one\n" +
		wasmPluginYAML("{name: b}") + "---\n" +
		wasmPluginYAML("{}") + "---\n"
	m, err := readWasmPlugins([]byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, p := range m.plugins {
		labels = append(labels, p.label)
	}
	if want := []string{"prod/a", "b", "at line 30 (no metadata.name)"}; !reflect.DeepEqual(labels, want) || m.resources != 5 {
		t.Errorf("WasmPlugins %q of %d resources, want %q of 5", labels, m.resources, want)
	}
}

// Each example's WasmPlugin manifest checks ok against the example's image,
// and its pluginConfig reaches the plugin as the example's config.json.
func TestCheckExampleWasmPlugins(t *testing.T) {
	files, err := filepath.Glob("../../examples/*/wasmplugin.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples/*/wasmplugin.yaml: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(filepath.Dir(file))
		t.Run(name, func(t *testing.T) {
			manifest, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			m, err := readWasmPlugins(manifest)
			if err != nil || len(m.plugins) != 1 || m.plugins[0].err != nil {
				t.Fatalf("%s: %+v, %v; want one WasmPlugin", file, m, err)
			}
			config, err := os.ReadFile(filepath.Join(filepath.Dir(file), "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(m.plugins[0].config, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(config, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the plugin gets a pluginConfig that is not config.json:\n%s", m.plugins[0].config)
			}

			wasmtest.Image(t, name)
			var out bytes.Buffer
			err = run(context.Background(), []string{"-check", "-plugin", wasmtest.ImagePath(name), "-config", file}, &out, &out)
			line := regexp.QuoteMeta("WasmPlugin ") + `(\S+/)?` + regexp.QuoteMeta(name+": ")
			if err != nil || !regexp.MustCompile(`^`+line+"ok\n$").MatchString(out.String()) {
				t.Errorf("-check %s: %v, output %q; want one line, ok", file, err, out.String())
			}
		})
	}
}

// -check with WasmPlugin manifests prints a line for each, ok or the
// plugin's refusal, and exits 1 if any was refused; YAML it cannot use is
// an error naming the line.
func TestCheckWasmPluginManifests(t *testing.T) {
	wasmtest.Image(t, "ratelimit")
	const week = `config.unit: must be "second", "minute", "hour" or "day", not "week"`
	service := "apiVersion: v1\nkind: Service\nmetadata:\n  name: httpbin\nspec:\n  ports:\n    - port: 8000\n"
	limit := func(unit string) []string {
		return []string{"pluginConfig:", "  filters:", "    - name: ratelimit", "      config:",
			"        requests_per_unit: 2", "        unit: " + unit}
	}
	for _, c := range []struct {
		name, yaml string
		code       int
		want       string // the whole output; "~" before it: a part of it
	}{
		{"one refused", wasmPluginYAML("{name: broken, namespace: default}", limit("week")...), 1,
			"WasmPlugin default/broken: the plugin refused to start (proxy_on_configure failed): policy: invalid plugin configuration: filters[0] (ratelimit): " + week + "\n"},
		{"a service and two WasmPlugins", "---\n" + service + "---\n" + wasmPluginYAML("{name: limits, namespace: prod}", limit("second")...) +
			"---\n" + wasmPluginYAML("{name: other}", limit("minute")...), 0,
			"WasmPlugin prod/limits: ok\nWasmPlugin other: ok\n"},
		{"one of two refused", wasmPluginYAML("{name: limits}", limit("week")...) + "---\n" + wasmPluginYAML("{name: empty}", "phase: AUTHZ"), 1,
			"WasmPlugin limits: the plugin refused to start (proxy_on_configure failed): policy: invalid plugin configuration: filters[0] (ratelimit): " + week + "\n" +
				"WasmPlugin empty: the plugin refused to start (proxy_on_configure failed): policy: invalid plugin configuration: the configuration is empty; it must list the filters to run: {\"filters\": [{\"name\": ..., \"config\": {...}}]}\n"},
		{"no WasmPlugin", service, 1,
			"~: no WasmPlugin (apiVersion extensions.istio.io/v1alpha1) among its 1 YAML resources; -config takes the plugin configuration as JSON, or WasmPlugin manifests as YAML\n"},
		{"plugin configuration as YAML", "filters:\n  - name: ratelimit\n", 1,
			"~: no WasmPlugin (apiVersion extensions.istio.io/v1alpha1) among its 1 YAML resources"},
		{"malformed", service + "---\n" + wasmPluginYAML("{name: x}", limit("second: x")...), 1,
			"~: YAML: line 19: mapping values are not allowed in this context\n"},
		{"duplicate key", service + "---\n" + wasmPluginYAML("{name: x}", limit("second")...) + "          unit: minute\n", 1,
			"~: YAML: line 20: key \"unit\" already set in map\n"},
		{"separator with content", "--- !tag\n" + service, 1,
			"~: line 1: \"--- !tag\": content after a document separator (---), which kubectl does not read\n"},
	} {
		file := filepath.Join(t.TempDir(), "wasmplugins.yaml")
		if err := os.WriteFile(file, []byte(c.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		out, code := command(t, "-check", "-plugin", wasmtest.ImagePath("ratelimit"), "-config", file)
		want, part := strings.CutPrefix(c.want, "~")
		if part {
			want = "policyrun: -config " + file + want
		}
		if code != c.code || (part && !strings.HasPrefix(out, want)) || (!part && out != want) {
			t.Errorf("%s: exit %d, output\n%s\nwant %d and the output (or its start)\n%s", c.name, code, out, c.code, want)
		}
	}
}
