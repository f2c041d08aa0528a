package wasmtest

import (
	"slices"
	"testing"
)

func TestFencedBlocks(t *testing.T) {
	md := "# T\n```json\n{\"a\":1}\n```\ntext\n```yaml\nb: 2\n```\n```json\n[]\n```\n"
	if got := FencedBlocks(md, "json"); !slices.Equal(got, []string{"{\"a\":1}\n", "[]\n"}) {
		t.Errorf("json blocks = %q", got)
	}
	if got := FencedBlocks(md, "text"); got != nil {
		t.Errorf("text blocks = %q, want none", got)
	}
}
