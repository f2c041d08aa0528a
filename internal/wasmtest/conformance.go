package wasmtest

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Envoy cannot run here, so every image is checked against what Envoy's Wasm
// host (proxy-wasm-cpp-host, also inside Istio's proxy) requires of a module
// before it will load and start it. Each requirement below is one rule; a
// module that breaks one fails to load, fails to start, or fails the VM on
// its first callback.

// Rules, numbered as the checks are listed in the project's conformance
// notes.
const (
	RuleABIVersion = 1 + iota // exactly one ABI marker: proxy_abi_version_0_2_0
	RuleAllocator             // malloc or proxy_on_memory_allocate, (i32) -> (i32)
	RuleReactor               // _initialize () -> () and no _start
	RuleCallbacks             // every proxy_on_* export has the host's type
	RuleMemory                // one exported memory, no imported globals
	RuleImports               // every import is one the host provides, with its type
)

var ruleNames = [...]string{
	RuleABIVersion: "ABI version",
	RuleAllocator:  "allocator",
	RuleReactor:    "reactor start",
	RuleCallbacks:  "callback types",
	RuleMemory:     "memory and globals",
	RuleImports:    "imports",
}

// A Violation is one way a module breaks a rule.
type Violation struct {
	Rule   int
	Detail string
}

func (v Violation) Error() string {
	return fmt.Sprintf("rule %d (%s): %s", v.Rule, ruleNames[v.Rule], v.Detail)
}

// abiMarker is the ABI version the SDK speaks; the host takes the first
// exported function named after a version it knows.
const abiMarker = "proxy_abi_version_0_2_0"

// maxMemoryPages is V8's limit on a module's memory: 1 GiB.
const maxMemoryPages = 16384

// callbackTypes are the guest callbacks the host looks up, with the type it
// insists on ("Bad function signature" otherwise). The allocator is rule 2.
var callbackTypes = map[string]string{
	"proxy_on_vm_start":                       "(i32, i32) -> (i32)",
	"proxy_on_configure":                      "(i32, i32) -> (i32)",
	"proxy_on_validate_configuration":         "(i32, i32) -> (i32)",
	"proxy_on_done":                           "(i32) -> (i32)",
	"proxy_on_new_connection":                 "(i32) -> (i32)",
	"proxy_on_request_headers":                "(i32, i32, i32) -> (i32)",
	"proxy_on_response_headers":               "(i32, i32, i32) -> (i32)",
	"proxy_on_request_body":                   "(i32, i32, i32) -> (i32)",
	"proxy_on_response_body":                  "(i32, i32, i32) -> (i32)",
	"proxy_on_downstream_data":                "(i32, i32, i32) -> (i32)",
	"proxy_on_upstream_data":                  "(i32, i32, i32) -> (i32)",
	"proxy_on_request_trailers":               "(i32, i32) -> (i32)",
	"proxy_on_response_trailers":              "(i32, i32) -> (i32)",
	"proxy_on_request_metadata":               "(i32, i32) -> (i32)",
	"proxy_on_response_metadata":              "(i32, i32) -> (i32)",
	"proxy_on_context_create":                 "(i32, i32) -> ()",
	"proxy_on_queue_ready":                    "(i32, i32) -> ()",
	"proxy_on_downstream_connection_close":    "(i32, i32) -> ()",
	"proxy_on_upstream_connection_close":      "(i32, i32) -> ()",
	"proxy_on_tick":                           "(i32) -> ()",
	"proxy_on_log":                            "(i32) -> ()",
	"proxy_on_delete":                         "(i32) -> ()",
	"proxy_on_foreign_function":               "(i32, i32, i32) -> ()",
	"proxy_on_grpc_receive_initial_metadata":  "(i32, i32, i32) -> ()",
	"proxy_on_grpc_receive_trailing_metadata": "(i32, i32, i32) -> ()",
	"proxy_on_grpc_receive":                   "(i32, i32, i32) -> ()",
	"proxy_on_grpc_close":                     "(i32, i32, i32) -> ()",
	"proxy_on_http_call_response":             "(i32, i32, i32, i32, i32) -> ()",
}

const allocatorType = "(i32) -> (i32)"

// envImports are the host functions of ABI 0.2.0, in module env.
var envImports = map[string]string{
	"proxy_get_status":                   "(i32, i32, i32) -> (i32)",
	"proxy_log":                          "(i32, i32, i32) -> (i32)",
	"proxy_get_property":                 "(i32, i32, i32, i32) -> (i32)",
	"proxy_set_property":                 "(i32, i32, i32, i32) -> (i32)",
	"proxy_continue_stream":              "(i32) -> (i32)",
	"proxy_close_stream":                 "(i32) -> (i32)",
	"proxy_send_local_response":          "(i32, i32, i32, i32, i32, i32, i32, i32) -> (i32)",
	"proxy_get_shared_data":              "(i32, i32, i32, i32, i32) -> (i32)",
	"proxy_set_shared_data":              "(i32, i32, i32, i32, i32) -> (i32)",
	"proxy_register_shared_queue":        "(i32, i32, i32) -> (i32)",
	"proxy_resolve_shared_queue":         "(i32, i32, i32, i32, i32) -> (i32)",
	"proxy_dequeue_shared_queue":         "(i32, i32, i32) -> (i32)",
	"proxy_enqueue_shared_queue":         "(i32, i32, i32) -> (i32)",
	"proxy_get_buffer_bytes":             "(i32, i32, i32, i32, i32) -> (i32)",
	"proxy_get_buffer_status":            "(i32, i32, i32) -> (i32)",
	"proxy_set_buffer_bytes":             "(i32, i32, i32, i32, i32) -> (i32)",
	"proxy_add_header_map_value":         "(i32, i32, i32, i32, i32) -> (i32)",
	"proxy_get_header_map_value":         "(i32, i32, i32, i32, i32) -> (i32)",
	"proxy_replace_header_map_value":     "(i32, i32, i32, i32, i32) -> (i32)",
	"proxy_remove_header_map_value":      "(i32, i32, i32) -> (i32)",
	"proxy_get_header_map_pairs":         "(i32, i32, i32) -> (i32)",
	"proxy_set_header_map_pairs":         "(i32, i32, i32) -> (i32)",
	"proxy_get_header_map_size":          "(i32, i32) -> (i32)",
	"proxy_http_call":                    "(i32, i32, i32, i32, i32, i32, i32, i32, i32, i32) -> (i32)",
	"proxy_define_metric":                "(i32, i32, i32, i32) -> (i32)",
	"proxy_increment_metric":             "(i32, i64) -> (i32)",
	"proxy_record_metric":                "(i32, i64) -> (i32)",
	"proxy_get_metric":                   "(i32, i32) -> (i32)",
	"proxy_grpc_call":                    "(i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32) -> (i32)",
	"proxy_grpc_stream":                  "(i32, i32, i32, i32, i32, i32, i32, i32, i32) -> (i32)",
	"proxy_grpc_cancel":                  "(i32) -> (i32)",
	"proxy_grpc_close":                   "(i32) -> (i32)",
	"proxy_grpc_send":                    "(i32, i32, i32, i32) -> (i32)",
	"proxy_set_tick_period_milliseconds": "(i32) -> (i32)",
	"proxy_get_current_time_nanoseconds": "(i32) -> (i32)",
	"proxy_set_effective_context":        "(i32) -> (i32)",
	"proxy_done":                         "() -> (i32)",
	"proxy_call_foreign_function":        "(i32, i32, i32, i32, i32, i32) -> (i32)",
}

// wasiImports are the WASI functions every supported Envoy (1.33 and later)
// provides, under both WASI module names. Envoy 1.39 adds the rest of WASI
// preview 1; an import outside this list would not load on older versions.
var wasiImports = map[string]string{
	"path_open":           "(i32, i32, i32, i32, i32, i64, i64, i32, i32) -> (i32)",
	"fd_prestat_get":      "(i32, i32) -> (i32)",
	"fd_prestat_dir_name": "(i32, i32, i32) -> (i32)",
	"fd_write":            "(i32, i32, i32, i32) -> (i32)",
	"fd_read":             "(i32, i32, i32, i32) -> (i32)",
	"fd_seek":             "(i32, i64, i32, i32) -> (i32)",
	"fd_close":            "(i32) -> (i32)",
	"fd_fdstat_get":       "(i32, i32) -> (i32)",
	"fd_fdstat_set_flags": "(i32, i32) -> (i32)",
	"environ_get":         "(i32, i32) -> (i32)",
	"environ_sizes_get":   "(i32, i32) -> (i32)",
	"args_get":            "(i32, i32) -> (i32)",
	"args_sizes_get":      "(i32, i32) -> (i32)",
	"sched_yield":         "() -> (i32)",
	"poll_oneoff":         "(i32, i32, i32, i32) -> (i32)",
	"proc_exit":           "(i32) -> ()",
	"clock_time_get":      "(i32, i64, i32) -> (i32)",
	"random_get":          "(i32, i32) -> (i32)",
}

// hostImports maps each import module the host provides to its functions.
var hostImports = map[string]map[string]string{
	"env":                    envImports,
	"wasi_snapshot_preview1": wasiImports,
	"wasi_unstable":          wasiImports,
}

// CheckConformance checks a compiled plugin against the rules above and
// returns every violation, ordered by rule. It returns an error only if wasm
// is not a module wazero can compile.
func CheckConformance(wasm []byte) ([]Violation, error) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	mod, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("compiling module: %w", err)
	}
	imports, err := Imports(wasm)
	if err != nil {
		return nil, err
	}
	var c checker
	exports := mod.ExportedFunctions()
	c.abiVersion(exports)
	c.allocator(exports)
	c.reactor(exports)
	c.callbacks(exports)
	c.memory(mod, imports)
	c.imports(mod.ImportedFunctions(), imports)
	sort.SliceStable(c.found, func(i, j int) bool { return c.found[i].Rule < c.found[j].Rule })
	return c.found, nil
}

type checker struct{ found []Violation }

func (c *checker) fail(rule int, format string, args ...any) {
	c.found = append(c.found, Violation{rule, fmt.Sprintf(format, args...)})
}

// sortedNames returns the keys of m in order, so violations come out in a
// stable order.
func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (c *checker) abiVersion(exports map[string]api.FunctionDefinition) {
	var markers []string
	for _, name := range sortedNames(exports) {
		if strings.HasPrefix(name, "proxy_abi_version_") {
			markers = append(markers, name)
		}
	}
	switch {
	case len(markers) == 0:
		c.fail(RuleABIVersion, "no %s export: the host rejects the module (missing or unknown Proxy-Wasm ABI version)", abiMarker)
	case len(markers) > 1:
		c.fail(RuleABIVersion, "%d ABI version exports %v, want only %s: the host takes whichever it finds first", len(markers), markers, abiMarker)
	case markers[0] != abiMarker:
		c.fail(RuleABIVersion, "ABI version export %s, want %s (the ABI the SDK speaks)", markers[0], abiMarker)
	}
}

func (c *checker) allocator(exports map[string]api.FunctionDefinition) {
	found := false
	// The host uses malloc if it exists, else proxy_on_memory_allocate:
	// whichever exists must have the allocator's type.
	for _, name := range []string{"malloc", "proxy_on_memory_allocate"} {
		f, ok := exports[name]
		if !ok {
			continue
		}
		found = true
		if got := signature(f); got != allocatorType {
			c.fail(RuleAllocator, "%s has type %s, want %s", name, got, allocatorType)
		}
	}
	if !found {
		c.fail(RuleAllocator, "neither malloc nor proxy_on_memory_allocate is exported: the host cannot hand the plugin data")
	}
}

func (c *checker) reactor(exports map[string]api.FunctionDefinition) {
	if f, ok := exports["_initialize"]; !ok {
		c.fail(RuleReactor, "no _initialize export: build with -buildmode=c-shared (a WASI reactor)")
	} else if got := signature(f); got != "() -> ()" {
		c.fail(RuleReactor, "_initialize has type %s, want () -> ()", got)
	}
	if _, ok := exports["_start"]; ok {
		c.fail(RuleReactor, "_start is exported: a command module, which ends in proc_exit and never starts in Envoy")
	}
}

func (c *checker) callbacks(exports map[string]api.FunctionDefinition) {
	for _, name := range sortedNames(exports) {
		if !strings.HasPrefix(name, "proxy_on_") || name == "proxy_on_memory_allocate" {
			continue
		}
		want, known := callbackTypes[name]
		if !known {
			c.fail(RuleCallbacks, "%s is not a callback the host knows: it would never be called (misspelled?)", name)
			continue
		}
		if got := signature(exports[name]); got != want {
			c.fail(RuleCallbacks, "%s has type %s, want %s: the host fails the VM (bad function signature)", name, got, want)
		}
	}
}

func (c *checker) memory(mod wazero.CompiledModule, imports []Entry) {
	exported := mod.ExportedMemories()
	if len(exported) != 1 {
		c.fail(RuleMemory, "%d exported memories, want exactly one", len(exported))
	}
	for _, name := range sortedNames(exported) {
		if min := exported[name].Min(); min > maxMemoryPages {
			c.fail(RuleMemory, "memory %q starts at %d pages, more than the %d (1 GiB) V8 allows", name, min, maxMemoryPages)
		}
	}
	for _, e := range imports {
		switch e.Kind {
		case KindMemory:
			c.fail(RuleMemory, "imports memory %s.%s: the host provides none", e.Module, e.Name)
		case KindGlobal:
			c.fail(RuleMemory, "imports global %s.%s: the host rejects imported globals", e.Module, e.Name)
		}
	}
}

func (c *checker) imports(funcs []api.FunctionDefinition, all []Entry) {
	for _, f := range funcs {
		module, name, _ := f.Import()
		provided, ok := hostImports[module]
		if !ok {
			c.fail(RuleImports, "imports %s.%s: the host provides no module %q", module, name, module)
			continue
		}
		want, ok := provided[name]
		if !ok {
			c.fail(RuleImports, "imports %s.%s, which the host does not provide", module, name)
			continue
		}
		if got := signature(f); got != want {
			c.fail(RuleImports, "imports %s.%s with type %s, the host's is %s", module, name, got, want)
		}
	}
	for _, e := range all {
		if e.Kind == KindTable {
			c.fail(RuleImports, "imports table %s.%s: the host provides none", e.Module, e.Name)
		}
	}
}

// signature writes a function type as the conformance tables do:
// "(i32, i64) -> (i32)".
func signature(f api.FunctionDefinition) string {
	return "(" + typeList(f.ParamTypes()) + ") -> (" + typeList(f.ResultTypes()) + ")"
}

func typeList(ts []api.ValueType) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = api.ValueTypeName(t)
	}
	return strings.Join(names, ", ")
}
