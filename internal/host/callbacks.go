package host

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// callback is an export of the plugin the host calls.
type callback struct {
	name string
	fn   api.Function // nil if the plugin does not export it
}

// callbacks are the exports the host calls.
type callbacks struct {
	initialize, malloc                                         callback
	contextCreate, vmStart, configure, done, log, delete       callback
	requestHeaders, requestBody, responseHeaders, responseBody callback
	httpCallResponse, tick, queueReady                         callback
}

func lookupCallbacks(mod api.Module) callbacks {
	get := func(name string) callback { return callback{name, mod.ExportedFunction(name)} }
	c := callbacks{
		initialize:       get("_initialize"),
		malloc:           get("malloc"),
		contextCreate:    get("proxy_on_context_create"),
		vmStart:          get("proxy_on_vm_start"),
		configure:        get("proxy_on_configure"),
		done:             get("proxy_on_done"),
		log:              get("proxy_on_log"),
		delete:           get("proxy_on_delete"),
		requestHeaders:   get("proxy_on_request_headers"),
		requestBody:      get("proxy_on_request_body"),
		responseHeaders:  get("proxy_on_response_headers"),
		responseBody:     get("proxy_on_response_body"),
		httpCallResponse: get("proxy_on_http_call_response"),
		tick:             get("proxy_on_tick"),
		queueReady:       get("proxy_on_queue_ready"),
	}
	if c.malloc.fn == nil {
		c.malloc = get("proxy_on_memory_allocate")
	}
	return c
}

// exportTypes are the types Envoy requires of the exports it knows: "i" is
// i32, the results follow ">".
var exportTypes = map[string]string{
	"_initialize":                             ">",
	"malloc":                                  "i>i",
	"proxy_on_memory_allocate":                "i>i",
	"proxy_on_vm_start":                       "ii>i",
	"proxy_on_configure":                      "ii>i",
	"proxy_on_validate_configuration":         "ii>i",
	"proxy_on_done":                           "i>i",
	"proxy_on_new_connection":                 "i>i",
	"proxy_on_request_headers":                "iii>i",
	"proxy_on_response_headers":               "iii>i",
	"proxy_on_request_body":                   "iii>i",
	"proxy_on_response_body":                  "iii>i",
	"proxy_on_downstream_data":                "iii>i",
	"proxy_on_upstream_data":                  "iii>i",
	"proxy_on_request_trailers":               "ii>i",
	"proxy_on_response_trailers":              "ii>i",
	"proxy_on_request_metadata":               "ii>i",
	"proxy_on_response_metadata":              "ii>i",
	"proxy_on_context_create":                 "ii>",
	"proxy_on_queue_ready":                    "ii>",
	"proxy_on_downstream_connection_close":    "ii>",
	"proxy_on_upstream_connection_close":      "ii>",
	"proxy_on_tick":                           "i>",
	"proxy_on_log":                            "i>",
	"proxy_on_delete":                         "i>",
	"proxy_on_foreign_function":               "iii>",
	"proxy_on_grpc_receive_initial_metadata":  "iii>",
	"proxy_on_grpc_receive_trailing_metadata": "iii>",
	"proxy_on_grpc_receive":                   "iii>",
	"proxy_on_grpc_close":                     "iii>",
	"proxy_on_http_call_response":             "iiiii>",
}

func signature(def api.FunctionDefinition) string {
	var b strings.Builder
	for _, t := range def.ParamTypes() {
		b.WriteString(typeLetter(t))
	}
	b.WriteByte('>')
	for _, t := range def.ResultTypes() {
		b.WriteString(typeLetter(t))
	}
	return b.String()
}

func typeLetter(t api.ValueType) string {
	switch t {
	case api.ValueTypeI32:
		return "i"
	case api.ValueTypeI64:
		return "I"
	}
	return api.ValueTypeName(t)
}

// checkModule makes the checks Envoy makes when it loads a plugin: the ABI
// version marker, a reactor's _initialize, an allocator, one memory, and
// the type of every callback it knows.
func checkModule(m wazero.CompiledModule) error {
	exports := m.ExportedFunctions()
	if _, ok := exports["proxy_abi_version_0_2_0"]; !ok {
		for _, v := range []string{"proxy_abi_version_0_1_0", "proxy_abi_version_0_2_1"} {
			if _, ok := exports[v]; ok {
				return fmt.Errorf("the plugin exports %s; this host implements proxy-wasm ABI 0.2.0 only", v)
			}
		}
		return errors.New("a WebAssembly module, but not a proxy-wasm plugin: it exports no proxy-wasm ABI version marker (proxy_abi_version_0_2_0); " +
			"build a plugin with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared, its package main calling policy.Serve from init")
	}
	if _, ok := exports["_initialize"]; !ok {
		return errors.New("the plugin is not a WASI reactor (it exports no _initialize): build it with -buildmode=c-shared")
	}
	_, malloc := exports["malloc"]
	_, alloc := exports["proxy_on_memory_allocate"]
	if !malloc && !alloc {
		return errors.New("the plugin exports no allocator (malloc or proxy_on_memory_allocate)")
	}
	if n := len(m.ExportedMemories()); n != 1 {
		return fmt.Errorf("the plugin exports %d memories; it must export one", n)
	}
	var bad []string
	for name, def := range exports {
		if want, ok := exportTypes[name]; ok && signature(def) != want {
			bad = append(bad, fmt.Sprintf("%s has type %s, want %s", name, signature(def), want))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return errors.New("bad callback signature: " + strings.Join(bad, "; "))
	}
	return nil
}
