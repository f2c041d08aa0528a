// Package host is a proxy-wasm host (ABI 0.2.0) written in Go on wazero: it
// loads a compiled plugin and drives HTTP streams through it the way Envoy
// does, so that a plugin can be run, tested and measured without a proxy.
//
// A Host holds one compiled image and what Envoy shares between the worker
// VMs of one plugin: shared data (with compare-and-swap), shared queues and
// metrics. Host.NewVM instantiates the image as one VM, as Envoy does once
// per worker thread: it runs the WASI reactor's _initialize (never _start),
// then proxy_on_context_create for the root context, proxy_on_vm_start and
// proxy_on_configure with the plugin configuration. Several VMs of one Host
// compile the image once, and so do several Hosts of one image in a process,
// through a shared wazero compilation cache.
//
// VM.Serve runs one HTTP stream through the plugin in Envoy's order:
// proxy_on_context_create, proxy_on_request_headers, proxy_on_request_body,
// then the upstream, proxy_on_response_headers, proxy_on_response_body, and
// at the end proxy_on_done, proxy_on_log and proxy_on_delete. A local reply
// sent in a request phase is passed through the response phase, as Envoy
// does, so response filters see it; one sent in a response phase replaces
// the response directly. HTTP callouts go to a Go function (Config.HTTPCall)
// and their answers come back through proxy_on_http_call_response.
//
// # Header maps
//
// The plugin's header calls work as on Envoy's header maps. Adding a value
// to a header that is present gives it one more entry, unless Envoy keeps
// the header inline (x-forwarded-for, user-agent, content-type, via, ...;
// inline.go lists them for each kind of map): then the value is appended
// to its one entry after a comma. Removing a header removes every entry of
// it; replacing one leaves one entry, where the first was (current Envoy
// removes them all and adds a new one, last). In a request header map
// "host" is :authority, and a pseudo-header added goes after the other
// pseudo-headers. The maps the host builds from a Request or a Response
// keep the entries as given, repeated names included.
//
// # Concurrency
//
// A VM is single-threaded, like the worker thread that owns it in Envoy: it
// holds a lock for the duration of each callback into the plugin, and only
// for that, so several streams served concurrently on one VM interleave
// between callbacks (one stream's upstream round trip does not block the
// others) exactly as streams interleave on one Envoy worker. To use several
// cores, create several VMs, one per worker; shared data, queues and
// metrics are shared among them through the Host.
//
// # Failure
//
// A trap (a Go panic in the plugin that nothing recovered, a memory fault)
// marks the VM failed, as Envoy does: the stream in progress and every later
// stream on that VM get 503 with details "wasm_fail_stream" (Envoy's default,
// fail closed). Other VMs keep serving.
//
// # Clock and instrumentation
//
// Plugins see the real wall clock (WASI clock_time_get), or Config.Clock
// when set, which also sets the request.time property. Plugin log lines, and
// what the plugin writes to stdout and stderr, go to Config.Log. Every host
// call the plugin makes is counted by import name (VM.HostCalls), which is
// what the benchmarks report per request.
package host
