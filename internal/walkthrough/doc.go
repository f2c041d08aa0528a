// Package walkthrough holds no code. Its test follows the README's section
// "Your own plugin" the way a reader would: in a throwaway directory, it
// runs every command of the section's sh blocks as written, one line at a
// time through sh, and writes every file the section shows (a go block
// whose paragraph starts by naming the file, such as `main.go`), in the
// order the section gives them. Editing the README changes what is tested.
//
// It checks that every command succeeds and that its output is what the
// section says it is:
//
//   - a curl line whose comment starts with a status (# 403) gets it;
//   - a text block after an sh block is the output of that block's last
//     command (asked again for a few seconds: the plugin sends its metrics
//     on its tick);
//   - `go test` runs the plugin's tests (an "ok" line);
//   - the outputs the paragraph after a block shows in inline code, with
//     "sha256:..." standing for a digest, are those of the block's commands
//     in order, and every digest the block prints is the same image's;
//   - the image that the deployment's WasmPlugin (the yaml block) names by
//     its url pulls back, the way Istio's agent pulls it, as the plugin.wasm
//     the section built, and building the image again gives the same digest;
//   - every `go doc` the section names documents something.
//
// A command that keeps running after it prints where it serves (the local
// runner) is a server: it runs while later commands use its addresses and
// is stopped after the last of them. The module's checkout that the
// section's replace directive names is a copy of this working tree.
//
// The section says what to write once the module is published; the test
// does that too, in a second throwaway directory: the working tree is
// served to the go command as a module version through a file GOPROXY
// placed before the usual one, and the section's commands run with its
// `go get ...@latest` in place of the command holding the replace
// directive.
//
// Two things are adapted, and the test logs them when it does: the
// registry the section pushes to (registry.example.com) is one the test
// serves on a loopback port, and a loopback port the section uses that is
// already taken on the machine is swapped for a free one.
//
// It needs sh and curl. go test ./..., and so make test and CI, runs it;
// make walkthrough runs it alone, with the log of every command (curl is
// installed by the Makefile when it is missing).
package walkthrough
