//go:build tinygo && (!custommalloc || (gc.custom && !nottinygc_envoy))

package bridge

// A TinyGo build without the tags that keep malloc out of the module's
// exports would make a plugin that leaks what it reads on every request in
// Envoy (gc_tinygo.go says why), so it does not compile: the error names the
// tags to add.
var _ = add_tinygo_tags_custommalloc_and_with_gc_custom_nottinygc_envoy
