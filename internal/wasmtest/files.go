package wasmtest

import (
	"os"
	"strings"
	"testing"
)

// ReadFile is the text of the file at path (relative to the test's
// package directory, such as an example's config.json or README.md); a
// file that cannot be read fails the test.
func ReadFile(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// FencedBlocks is the text of every fenced code block of language lang in
// the Markdown text md, in order: what a README shows as, say, json, so that
// a test can check that the documentation still works.
func FencedBlocks(md, lang string) []string {
	var out []string
	for _, part := range strings.Split(md, "```"+lang+"\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		out = append(out, block)
	}
	return out
}
