package wasmtest

import (
	"path/filepath"
	"sort"
	"testing"
)

// TestConformanceImages checks every image `make examples` builds (one per
// examples/<name>/main.go) and every test plugin (internal/testdata/<name>)
// against the rules Envoy's host enforces. A missing image fails with the
// command that builds it.
func TestConformanceImages(t *testing.T) {
	examples := sourceDirs(t, "examples")
	if len(examples) == 0 {
		t.Error("no examples/<name>/main.go: there is no example image to check")
	}
	for _, group := range []struct {
		dir   string
		names []string
	}{{"examples", examples}, {"internal/testdata", sourceDirs(t, filepath.Join("internal", "testdata"))}} {
		for _, name := range group.names {
			t.Run(name, func(t *testing.T) {
				violations, err := CheckConformance(Image(t, name))
				if err != nil {
					t.Fatalf("%s/%s: %v", group.dir, name, err)
				}
				for _, v := range violations {
					t.Errorf("build/%s.wasm: %v", name, v)
				}
			})
		}
	}
}

// sourceDirs lists the names of dir's subdirectories that hold a main.go.
func sourceDirs(t *testing.T, dir string) []string {
	t.Helper()
	mains, err := filepath.Glob(filepath.Join(Root(), dir, "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mains {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	sort.Strings(names)
	return names
}

// goodModule is the smallest module that passes every rule: what a plugin
// built with -buildmode=c-shared looks like to the host.
func goodModule() moduleSpec {
	return moduleSpec{
		imports: []fn{
			{module: "env", name: "proxy_log", params: "iii", results: "i"},
			{module: "env", name: "proxy_increment_metric", params: "iI", results: "i"},
			{module: "wasi_snapshot_preview1", name: "fd_write", params: "iiii", results: "i"},
			{module: "wasi_unstable", name: "clock_time_get", params: "iIi", results: "i"},
		},
		exports: []fn{
			{name: "_initialize"},
			{name: "proxy_abi_version_0_2_0"},
			{name: "proxy_on_memory_allocate", params: "i", results: "i"},
			{name: "proxy_on_context_create", params: "ii"},
			{name: "proxy_on_request_headers", params: "iii", results: "i"},
			{name: "proxy_on_http_call_response", params: "iiiii"},
		},
		memory:       true,
		exportMemory: true,
	}
}

// without returns fns without the one called name.
func without(fns []fn, name string) []fn {
	var out []fn
	for _, f := range fns {
		if f.name != name {
			out = append(out, f)
		}
	}
	return out
}

// TestConformanceRules shows each rule firing, alone, on a crafted module
// that breaks only that rule.
func TestConformanceRules(t *testing.T) {
	cases := []struct {
		name   string
		rule   int // 0: no violation
		change func(*moduleSpec)
	}{
		{"conforming", 0, func(*moduleSpec) {}},
		{"no_abi_marker", RuleABIVersion, func(m *moduleSpec) { m.exports = without(m.exports, "proxy_abi_version_0_2_0") }},
		{"two_abi_markers", RuleABIVersion, func(m *moduleSpec) {
			m.exports = append(m.exports, fn{name: "proxy_abi_version_0_1_0"})
		}},
		{"other_abi_version", RuleABIVersion, func(m *moduleSpec) {
			m.exports = append(without(m.exports, "proxy_abi_version_0_2_0"), fn{name: "proxy_abi_version_0_2_1"})
		}},
		{"no_allocator", RuleAllocator, func(m *moduleSpec) { m.exports = without(m.exports, "proxy_on_memory_allocate") }},
		{"allocator_type", RuleAllocator, func(m *moduleSpec) {
			m.exports = append(without(m.exports, "proxy_on_memory_allocate"), fn{name: "proxy_on_memory_allocate", params: "I", results: "i"})
		}},
		{"malloc_type", RuleAllocator, func(m *moduleSpec) {
			m.exports = append(m.exports, fn{name: "malloc", params: "ii", results: "i"})
		}},
		{"start_exported", RuleReactor, func(m *moduleSpec) { m.exports = append(m.exports, fn{name: "_start"}) }},
		{"no_initialize", RuleReactor, func(m *moduleSpec) { m.exports = without(m.exports, "_initialize") }},
		{"initialize_type", RuleReactor, func(m *moduleSpec) {
			m.exports = append(without(m.exports, "_initialize"), fn{name: "_initialize", results: "i"})
		}},
		{"callback_params", RuleCallbacks, func(m *moduleSpec) {
			m.exports = append(without(m.exports, "proxy_on_request_headers"), fn{name: "proxy_on_request_headers", params: "ii", results: "i"})
		}},
		{"callback_result", RuleCallbacks, func(m *moduleSpec) {
			m.exports = append(without(m.exports, "proxy_on_context_create"), fn{name: "proxy_on_context_create", params: "ii", results: "i"})
		}},
		{"unknown_callback", RuleCallbacks, func(m *moduleSpec) {
			m.exports = append(m.exports, fn{name: "proxy_on_http_response", params: "iii", results: "i"})
		}},
		{"memory_not_exported", RuleMemory, func(m *moduleSpec) { m.exportMemory = false }},
		{"memory_imported", RuleMemory, func(m *moduleSpec) { m.memory, m.importMemory = false, true }},
		{"memory_too_large", RuleMemory, func(m *moduleSpec) { m.memoryPages = 16385 }},
		{"global_imported", RuleMemory, func(m *moduleSpec) { m.globals = []string{"stack_pointer"} }},
		{"import_from_newer_abi", RuleImports, func(m *moduleSpec) {
			m.imports = append(m.imports, fn{module: "env", name: "proxy_get_log_level", params: "i", results: "i"})
		}},
		{"import_type", RuleImports, func(m *moduleSpec) {
			m.imports = append(without(m.imports, "proxy_increment_metric"), fn{module: "env", name: "proxy_increment_metric", params: "ii", results: "i"})
		}},
		{"import_module", RuleImports, func(m *moduleSpec) {
			m.imports = append(m.imports, fn{module: "gojs", name: "runtime.ticks", params: "i"})
		}},
		{"wasi_beyond_envoy_1_33", RuleImports, func(m *moduleSpec) {
			m.imports = append(m.imports, fn{module: "wasi_snapshot_preview1", name: "fd_readdir", params: "iiiIi", results: "i"})
		}},
		{"table_imported", RuleImports, func(m *moduleSpec) { m.importTable = true }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := goodModule()
			c.change(&spec)
			violations, err := CheckConformance(spec.encode())
			if err != nil {
				t.Fatal(err)
			}
			checkRules(t, violations, c.rule)
		})
	}

	// A real image, patched the way the test harness patches images for
	// proxytest (an extra _start export): only the reactor rule fires.
	t.Run("patched_image", func(t *testing.T) {
		patched, err := withReactorStart(Image(t, "probe"), "patched")
		if err != nil {
			t.Fatal(err)
		}
		violations, err := CheckConformance(patched)
		if err != nil {
			t.Fatal(err)
		}
		checkRules(t, violations, RuleReactor)
	})
}

// checkRules checks that violations break rule and no other (or nothing,
// for rule 0).
func checkRules(t *testing.T, violations []Violation, rule int) {
	t.Helper()
	if rule == 0 {
		for _, v := range violations {
			t.Errorf("unexpected violation: %v", v)
		}
		return
	}
	if len(violations) == 0 {
		t.Errorf("no violation, want one of rule %d (%s)", rule, ruleNames[rule])
	}
	for _, v := range violations {
		if v.Rule != rule {
			t.Errorf("violation %v, want only rule %d", v, rule)
		} else {
			t.Logf("%v", v)
		}
	}
}
