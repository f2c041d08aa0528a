//go:build tinygo && gc.custom

package bridge

// A TinyGo build that asks for a custom collector (-gc=custom) gets
// nottinygc, as the proxy-wasm tutorials build their plugins:
//
//	tinygo build -buildmode=c-shared -target=wasi -scheduler=none \
//		-gc=custom -tags='custommalloc nottinygc_envoy' ...
//
// Every plugin reaches this package (the policy package imports it, and
// plugins written on the SDK alone import it for the upstream-Go bridge), so
// every plugin built with -gc=custom links the collector it asks for. A
// TinyGo build with another -gc uses TinyGo's own collector and does not
// link nottinygc.
//
// Whichever the collector, the build needs the custommalloc tag, and with
// nottinygc the nottinygc_envoy tag too: together they keep malloc and free
// out of the module's exports. Envoy hands data to a module (every header
// value, property and body the plugin reads) through the module's exported
// malloc when it has one, and never frees it: TinyGo's own malloc keeps each
// block until free, and nottinygc's without the tag is a plain allocator, so
// memory would grow with every request until the VM runs out (a million
// requests through the chain example take it from 46 MB to 382 MB with
// nottinygc; TinyGo's own runs out before). Without an exported malloc Envoy
// calls proxy_on_memory_allocate, which the SDK answers from the collected
// heap, and memory stays flat.
import _ "github.com/wasilibs/nottinygc"
