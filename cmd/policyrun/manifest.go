package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// Istio's WasmPlugin resource, the one kind of manifest -check reads.
const (
	wasmPluginGroup   = "extensions.istio.io"
	wasmPluginVersion = "v1alpha1" // the only version Istio serves
	wasmPluginKind    = "WasmPlugin"
)

// isJSONConfig tells whether a -config file is plugin configuration JSON,
// which the plugin gets as it is: an empty file, one that is valid JSON, or
// one that starts with '{' or '[' (malformed JSON, which the plugin reports
// better than a YAML parser would). Anything else is read as YAML.
func isJSONConfig(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) == 0 || t[0] == '{' || t[0] == '[' || json.Valid(t)
}

// wasmPlugin is one WasmPlugin of a manifest file.
type wasmPlugin struct {
	label  string // namespace/name, name, or where it is when it has none
	config []byte // the plugin configuration Istio hands the plugin; nil for none
	err    error  // why Istio would not take the manifest; nothing more is checked
}

// manifests is what a YAML stream holds: its WasmPlugins, in order, and
// how many resources (mappings) it has in all.
type manifests struct {
	plugins   []wasmPlugin
	resources int
}

// readWasmPlugins reads a YAML stream of manifests, documents separated by
// "---" lines, and returns its WasmPlugins in order; documents of other
// kinds are skipped. The stream is split as kubectl splits it, and each
// document is read as kubectl reads it (sigs.k8s.io/yaml: YAML 1.1, so an
// unquoted yes, no, on, off, y or n is a boolean, also as a key), except
// that a key given twice in a mapping is an error. Errors name the line in
// the file.
func readWasmPlugins(data []byte) (manifests, error) {
	var m manifests
	docs, err := splitDocuments(data)
	if err != nil {
		return m, err
	}
	for _, d := range docs {
		// Blank lines in place of the ones before the document keep the
		// parser's line numbers those of the file.
		padded := append(bytes.Repeat([]byte("\n"), d.line-1), d.text...)
		j, err := yaml.YAMLToJSONStrict(padded)
		if err != nil {
			return m, yamlError(err, d.line)
		}
		var top map[string]json.RawMessage
		if json.Unmarshal(j, &top) != nil || top == nil {
			continue // empty, or not a mapping: no resource
		}
		m.resources++
		apiVersion, kind := stringField(top, "apiVersion"), stringField(top, "kind")
		group, version, _ := strings.Cut(apiVersion, "/")
		if kind != wasmPluginKind || group != wasmPluginGroup {
			continue
		}
		wp := wasmPlugin{label: label(top, d.line)}
		if version != wasmPluginVersion {
			wp.err = fmt.Errorf("apiVersion %s: Istio serves %s as %s/%s", apiVersion, kind, wasmPluginGroup, wasmPluginVersion)
		} else {
			wp.config, wp.err = pluginConfig(top["spec"])
		}
		m.plugins = append(m.plugins, wp)
	}
	return m, nil
}

// document is one document of a YAML stream and the line it starts on.
type document struct {
	text []byte
	line int
}

// splitDocuments splits a YAML stream at its "---" lines the way kubectl
// does: a line that starts with "---" separates documents when only
// blanks or a comment follow, and is an error otherwise.
func splitDocuments(data []byte) ([]document, error) {
	var docs []document
	cur := document{line: 1}
	for n, rest := 1, data; len(rest) > 0; n++ {
		line, after, _ := bytes.Cut(rest, []byte("\n"))
		rest = after
		if tail, ok := bytes.CutPrefix(line, []byte("---")); ok {
			t := strings.TrimSpace(string(tail))
			if t != "" && t[0] != '#' {
				return nil, fmt.Errorf("line %d: %q: content after a document separator (---), which kubectl does not read", n, line)
			}
			docs = append(docs, cur)
			cur = document{line: n + 1}
			continue
		}
		cur.text = append(cur.text, line...)
		cur.text = append(cur.text, '\n')
	}
	return append(docs, cur), nil
}

// yamlError makes a parser's error one line naming a line of the file:
// the parser's own line numbers are already the file's.
func yamlError(err error, line int) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if list, ok := strings.CutPrefix(msg, "unmarshal errors:\n  "); ok {
		msg = strings.ReplaceAll(list, "\n  ", "; ")
	}
	if !strings.Contains(msg, "line ") {
		msg = fmt.Sprintf("the document from line %d: %s", line, msg)
	}
	return fmt.Errorf("YAML: %s", msg)
}

func stringField(obj map[string]json.RawMessage, key string) string {
	var s string
	if json.Unmarshal(obj[key], &s) != nil {
		return ""
	}
	return s
}

// label names a WasmPlugin: namespace/name, its name alone when it has
// no namespace, or the line it starts on when it has no name.
func label(top map[string]json.RawMessage, line int) string {
	var meta map[string]json.RawMessage
	_ = json.Unmarshal(top["metadata"], &meta)
	name, ns := stringField(meta, "name"), stringField(meta, "namespace")
	switch {
	case name == "":
		return fmt.Sprintf("at line %d (no metadata.name)", line)
	case ns == "":
		return name
	}
	return ns + "/" + name
}

// pluginConfig returns spec.pluginConfig as the JSON the plugin gets from
// Istio, or nil when Istio gives it none (no pluginConfig, or an empty
// one). Istio holds pluginConfig as a google.protobuf.Struct, whose
// numbers are doubles, and hands it to the plugin marshalled by jsonpb:
// keys sorted, every number a float64 written as encoding/json writes it
// (10 and 10.0 become 10, 1e21 becomes 1e+21, an integer past 2^53 is
// rounded to the nearest double). Decoding into interface values and
// marshalling them with encoding/json produces just that.
func pluginConfig(rawSpec json.RawMessage) ([]byte, error) {
	var spec map[string]json.RawMessage
	if len(rawSpec) > 0 {
		if err := json.Unmarshal(rawSpec, &spec); err != nil {
			return nil, fmt.Errorf("spec is not a mapping")
		}
	}
	raw, ok := spec["pluginConfig"]
	if !ok {
		return nil, nil
	}
	var cfg any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, err
	}
	switch c := cfg.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		if len(c) == 0 {
			return nil, nil
		}
		return json.Marshal(c)
	}
	return nil, fmt.Errorf("spec.pluginConfig is %s, not a mapping (Istio takes a google.protobuf.Struct)", raw)
}
