//go:build tinygo

package policy

// TinyGo builds use nottinygc, a garbage collector suited to proxy-wasm hosts
// (build with -gc=custom -tags='custommalloc nottinygc_envoy').
import _ "github.com/wasilibs/nottinygc"
