package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Values that YAML would read as another type, or that need quoting or a
// block scalar, survive the rewrite from JSON to YAML unchanged.
func TestJSONToYAMLKeepsValues(t *testing.T) {
	doc := `{"z": "true", "a": "1.5", "n": 2, "f": 0.25, "b": false, "nil": null, "s": "%REQ(:authority)%",
		"colon": "a: b", "hash": "# not a comment", "lines": "one\ntwo\n", "space": " lead", "empty": "",
		"unicode": "héllo ✓", "list": [], "obj": {}, "nested": [{"k": ["v", 3, {"x": "yes"}]}], "big": 9007199254740993}`
	out, err := jsonToYAML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var fromYAML any
	if err := yaml.Unmarshal([]byte(out), &fromYAML); err != nil {
		t.Fatalf("%v in\n%s", err, out)
	}
	var want any
	if err := json.Unmarshal([]byte(doc), &want); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	var got any
	if err := json.Unmarshal(again, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("YAML reads back as\n%s\nwant\n%s\nYAML:\n%s", again, doc, out)
	}
	if strings.Index(out, "z:") > strings.Index(out, "a:") {
		t.Errorf("keys were reordered:\n%s", out)
	}
	if strings.Contains(out, "{") && !strings.Contains(out, "obj: {}") {
		t.Errorf("flow style left in:\n%s", out)
	}
	if _, err := jsonToYAML([]byte(`{"a": `)); err == nil {
		t.Error("invalid JSON accepted")
	}
}

func TestFilesNeedsEveryExampleListed(t *testing.T) {
	root := t.TempDir()
	write := func(name string) {
		dir := filepath.Join(root, "examples", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"filters": []}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("unlisted")
	if _, err := Files(root, DefaultRegistry); err == nil || !strings.Contains(err.Error(), "unlisted") {
		t.Errorf("an example missing from Examples: %v", err)
	}
	os.RemoveAll(filepath.Join(root, "examples", "unlisted"))
	for _, e := range Examples[1:] {
		write(e.Name)
	}
	if _, err := Files(root, DefaultRegistry); err == nil || !strings.Contains(err.Error(), Examples[0].Name) {
		t.Errorf("an entry of Examples without its directory: %v", err)
	}
	write(Examples[0].Name)
	files, err := Files(root, "myregistry:5000/x/")
	if err != nil {
		t.Fatal(err)
	}
	if wp := string(files[filepath.Join("examples", "chain", "wasmplugin.yaml")]); !strings.Contains(wp, "url: oci://myregistry:5000/x/chain:latest\n") {
		t.Errorf("registry not used:\n%s", wp)
	}
}

func TestEnvoyRejectsInvalidJSON(t *testing.T) {
	if _, err := Envoy(Examples[0], []byte(`{`)); err == nil {
		t.Error("invalid JSON accepted")
	}
}

// envoyRoutes reads what an envoy.yaml routes with: its routes as "name
// prefix" (and case_sensitive when set), and whether Envoy normalizes paths
// before routing.
func envoyRoutes(t *testing.T, doc []byte) (routes []string, normalized bool) {
	t.Helper()
	var b struct {
		StaticResources struct {
			Listeners []struct {
				FilterChains []struct {
					Filters []struct {
						TypedConfig struct {
							NormalizePath bool `yaml:"normalize_path"`
							MergeSlashes  bool `yaml:"merge_slashes"`
							RouteConfig   struct {
								VirtualHosts []struct {
									Routes []struct {
										Name  string `yaml:"name"`
										Match struct {
											Prefix        string `yaml:"prefix"`
											CaseSensitive *bool  `yaml:"case_sensitive"`
										} `yaml:"match"`
									} `yaml:"routes"`
								} `yaml:"virtual_hosts"`
							} `yaml:"route_config"`
						} `yaml:"typed_config"`
					} `yaml:"filters"`
				} `yaml:"filter_chains"`
			} `yaml:"listeners"`
		} `yaml:"static_resources"`
	}
	if err := yaml.Unmarshal(doc, &b); err != nil {
		t.Fatalf("%v in\n%s", err, doc)
	}
	hcm := b.StaticResources.Listeners[0].FilterChains[0].Filters[0].TypedConfig
	for _, r := range hcm.RouteConfig.VirtualHosts[0].Routes {
		s := r.Name + " " + r.Match.Prefix
		if r.Match.CaseSensitive != nil {
			s += " case_sensitive=" + strconv.FormatBool(*r.Match.CaseSensitive)
		}
		routes = append(routes, s)
	}
	return routes, hcm.NormalizePath && hcm.MergeSlashes
}

// An example with routes gets them in envoy.yaml, named, in order and
// ignoring case, before a catch-all route called default, with paths
// normalized before routing; one without keeps its one unnamed route.
func TestEnvoyRoutes(t *testing.T) {
	e := Example{Name: "x", Routes: []Route{{Name: "login", Prefix: "/login"}, {Name: "api", Prefix: "/api"}}}
	out, err := Envoy(e, []byte(`{"filters": []}`))
	if err != nil {
		t.Fatal(err)
	}
	routes, normalized := envoyRoutes(t, out)
	if want := []string{"login /login case_sensitive=false", "api /api case_sensitive=false", "default /"}; !reflect.DeepEqual(routes, want) || !normalized {
		t.Errorf("routes %q, normalized %v; want %q, true", routes, normalized, want)
	}
	if out, err = Envoy(Example{Name: "x"}, []byte(`{"filters": []}`)); err != nil {
		t.Fatal(err)
	}
	if routes, normalized := envoyRoutes(t, out); !reflect.DeepEqual(routes, []string{" /"}) || normalized {
		t.Errorf("without routes: routes %q, normalized %v; want one unnamed route, not normalized", routes, normalized)
	}
}
