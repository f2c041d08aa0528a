package doccheck

import (
	"fmt"
	"go/ast"
	"go/doc/comment"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmpolicy/policy"
	"github.com/wasmpolicy/policy/authz"
	"github.com/wasmpolicy/policy/headerauth"
	"github.com/wasmpolicy/policy/headermutate"
	"github.com/wasmpolicy/policy/internal/wasmtest"
	"github.com/wasmpolicy/policy/metrics"
	"github.com/wasmpolicy/policy/ratelimit"
)

const modulePath = "github.com/wasmpolicy/policy"

// modulePackages are the module's public packages by the name code uses
// them by: a block that writes ratelimit.Config gets the import.
var modulePackages = map[string]string{
	"policy":       modulePath,
	"ratelimit":    modulePath + "/ratelimit",
	"headerauth":   modulePath + "/headerauth",
	"headermutate": modulePath + "/headermutate",
	"bodymutate":   modulePath + "/bodymutate",
	"authz":        modulePath + "/authz",
	"metrics":      modulePath + "/metrics",
	"match":        modulePath + "/match",
	"conf":         modulePath + "/conf",
	"stats":        modulePath + "/stats",
}

// standardPackages are the standard packages a block may use without
// importing them. Any other package must be imported by the block itself.
var standardPackages = map[string]string{
	"time":    "time",
	"strings": "strings",
	"fmt":     "fmt",
	"errors":  "errors",
	"http":    "net/http",
}

// A block is a code block of the documentation.
type block struct {
	file string // relative to the repository's root, with slashes
	line int    // the line of the block's first line in file
	lang string // a fenced block's info string ("go", "json", ""); "" in a doc comment
	doc  bool   // from a Go doc comment, not a README
	text string // the code, indentation removed, ending in a newline
}

func (b block) where() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

func (b block) lines() int { return strings.Count(b.text, "\n") }

// A docLine is one line of the documentation, prose or code.
type docLine struct {
	file string
	line int
	text string
}

// docs is what the documentation holds: its code blocks and all its lines.
type docs struct {
	blocks []block
	lines  []docLine
}

// readDocs reads every README.md of the repository, its CHANGELOG.md, and
// the doc comments of every Go file but tests, outside build/ and testdata.
func readDocs(t *testing.T, root string) docs {
	t.Helper()
	var d docs
	err := filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := e.Name()
		if e.IsDir() {
			if path != root && (name == "build" || name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case name == "README.md" || rel == "CHANGELOG.md":
			text, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			d.readme(rel, string(text))
		case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"):
			if err := d.goFile(t, path, rel); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// readme adds a Markdown file's lines and fenced code blocks. A fence may
// be indented (inside a list item); its lines lose that indentation.
func (d *docs) readme(file, text string) {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		d.lines = append(d.lines, docLine{file, i + 1, l})
	}
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimLeft(lines[i], " ")
		if !strings.HasPrefix(trimmed, "```") {
			continue
		}
		indent := len(lines[i]) - len(trimmed)
		b := block{file: file, line: i + 2, lang: strings.TrimSpace(trimmed[3:])}
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			l := lines[i]
			n := 0
			for n < indent && n < len(l) && l[n] == ' ' {
				n++
			}
			b.text += l[n:] + "\n"
		}
		d.blocks = append(d.blocks, b)
	}
}

// goFile adds the lines and code blocks of a Go file's doc comments: the
// package's and those of its declarations, specs and fields.
func (d *docs) goFile(t *testing.T, path, rel string) error {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return err
	}
	seen := map[*ast.CommentGroup]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		var cg *ast.CommentGroup
		switch n := n.(type) {
		case *ast.File:
			cg = n.Doc
		case *ast.FuncDecl:
			cg = n.Doc
		case *ast.GenDecl:
			cg = n.Doc
		case *ast.TypeSpec:
			cg = n.Doc
		case *ast.ValueSpec:
			cg = n.Doc
		case *ast.Field:
			cg = n.Doc
		}
		if cg != nil && !seen[cg] {
			seen[cg] = true
			d.comment(t, fset, rel, cg)
		}
		return true
	})
	return nil
}

// comment adds a doc comment's lines and its code blocks, which
// go/doc/comment finds (the indented spans), each placed at its line.
func (d *docs) comment(t *testing.T, fset *token.FileSet, file string, cg *ast.CommentGroup) {
	var raw []docLine
	for _, c := range cg.List {
		line := fset.Position(c.Slash).Line
		if text, ok := strings.CutPrefix(c.Text, "//"); ok {
			raw = append(raw, docLine{file, line, text})
			continue
		}
		text := strings.TrimSuffix(strings.TrimPrefix(c.Text, "/*"), "*/")
		for i, l := range strings.Split(text, "\n") {
			raw = append(raw, docLine{file, line + i, l})
		}
	}
	d.lines = append(d.lines, raw...)

	next := 0 // the code blocks come in order
	var p comment.Parser
	for _, part := range p.Parse(cg.Text()).Content {
		code, ok := part.(*comment.Code)
		if !ok {
			continue
		}
		lines := strings.Split(strings.TrimSuffix(code.Text, "\n"), "\n")
		at := -1
		for k := next; k+len(lines) <= len(raw) && at < 0; k++ {
			at = k
			for i, l := range lines {
				if strings.TrimSpace(raw[k+i].text) != strings.TrimSpace(l) {
					at = -1
					break
				}
			}
		}
		if at < 0 {
			t.Errorf("%s:%d: cannot find the lines of the code block %q in the comment", file, raw[0].line, code.Text)
			continue
		}
		d.blocks = append(d.blocks, block{file: file, line: raw[at].line, doc: true, text: code.Text})
		next = at + len(lines)
	}
}

var (
	// moduleRef is a use of one of the module's packages: ratelimit.Config.
	moduleRef = regexp.MustCompile(`\b(policy|ratelimit|headerauth|headermutate|bodymutate|authz|metrics|match|conf|stats)\.[A-Za-z_]`)
	// yamlOrError starts a YAML mapping (apiVersion: v1) or an error line
	// (policy: invalid ..., rules[2].limit.burst: must be > 0). Go field
	// keys in a composite literal are capitalized, so they are not taken
	// for YAML.
	yamlOrError = regexp.MustCompile(`^[a-z_][\w.\[\]-]*:(\s|$)`)
	// shell is a command line.
	shell = regexp.MustCompile(`^(\$ |(make|go|curl|kubectl|envoy|tinygo|docker|skopeo) |[A-Z_]+=\S* )`)
	// metricLine is a metric name with its tags: filter=.=ratelimit;.;...,
	// policy_filter_decisions_total{filter="ratelimit"}.
	metricLine = regexp.MustCompile(`^[\w<>]+(=\.=|\{)`)
)

// isGo reports whether b is Go code that must compile. A fenced block is Go
// if it says so (```go), or if it says no language and looks like Go, as a
// doc comment's block must: it declares a function or a package, has a
// short variable declaration, or uses one of the module's packages. JSON,
// YAML, command lines, error lines and metric lines are not Go.
func isGo(b block) bool {
	if b.lang == "go" {
		return true
	}
	if b.lang != "" {
		return false
	}
	if !strings.Contains(b.text, "func ") && !strings.Contains(b.text, "package ") &&
		!strings.Contains(b.text, ":=") && !moduleRef.MatchString(b.text) {
		return false
	}
	first := strings.TrimSpace(firstLine(b.text, false))
	switch {
	case strings.HasPrefix(first, "{"), strings.HasPrefix(first, "["), strings.HasPrefix(first, `"`):
		return false // JSON
	case yamlOrError.MatchString(first), shell.MatchString(first), metricLine.MatchString(first):
		return false
	}
	return true
}

// firstLine is the first line of text that is not blank (nor, if code, a
// comment).
func firstLine(text string, code bool) string {
	for _, l := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(l)
		if trimmed == "" || code && strings.HasPrefix(trimmed, "//") {
			continue
		}
		return l
	}
	return ""
}

// usedPackages are the names of known packages text uses as name.X, not
// counting those it imports itself.
func usedPackages(text string) []string {
	imported := map[string]bool{}
	if f, err := parser.ParseFile(token.NewFileSet(), "", text, parser.ImportsOnly); err == nil {
		for _, spec := range f.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			name := path[strings.LastIndex(path, "/")+1:]
			if spec.Name != nil {
				name = spec.Name.Name
			}
			imported[name] = true
		}
	}
	var s scanner.Scanner
	fset := token.NewFileSet()
	src := []byte(text)
	s.Init(fset.AddFile("", -1, len(src)), src, func(token.Position, string) {}, 0)
	used := map[string]bool{}
	prev, prevLit := token.ILLEGAL, ""
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.PERIOD && prev == token.IDENT && !imported[prevLit] {
			if _, ok := modulePackages[prevLit]; ok {
				used[prevLit] = true
			} else if _, ok := standardPackages[prevLit]; ok {
				used[prevLit] = true
			}
		}
		// name.X after a period is a field or a method, not a package.
		if prev == token.PERIOD && tok == token.IDENT {
			tok = token.ILLEGAL
		}
		prev, prevLit = tok, lit
	}
	var names []string
	for name := range used {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return importPath(names[i]) < importPath(names[j]) })
	return names
}

func importPath(name string) string {
	if path, ok := modulePackages[name]; ok {
		return path
	}
	return standardPackages[name]
}

func importDecl(names []string) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("import (\n")
	for _, name := range names {
		fmt.Fprintf(&b, "\t%q\n", importPath(name))
	}
	b.WriteString(")\n")
	return b.String()
}

// source is the Go file that compiles b. A block with a package clause is
// a file of that package; a block of declarations (starting with func,
// var, type, const or import, and not followed by other statements) is a
// file of package snippet; anything else is the body of a function, and a
// single expression that is not a call is assigned to _. A //line comment
// places the block's lines at their place in the documentation, so the
// compiler's errors name the documentation's file and line.
func source(b block, root string) string {
	at := func(offset int) string {
		return fmt.Sprintf("//line %s:%d\n", filepath.Join(root, filepath.FromSlash(b.file)), b.line+offset)
	}
	imports := importDecl(usedPackages(b.text))
	first := strings.TrimSpace(firstLine(b.text, true))
	switch {
	case strings.HasPrefix(first, "package "):
		lines := strings.SplitAfter(b.text, "\n")
		clause := 0
		for strings.TrimSpace(lines[clause]) != first {
			clause++
		}
		head := strings.Join(lines[:clause+1], "")
		rest := strings.Join(lines[clause+1:], "")
		return at(0) + head + imports + at(clause+1) + rest
	case hasPrefixWord(first, "func", "var", "type", "const", "import") && !statements(b.text):
		return "package snippet\n\n" + imports + at(0) + b.text
	}
	text := b.text
	if e, err := parser.ParseExpr(text); err == nil {
		if _, call := e.(*ast.CallExpr); !call {
			text = "_ = " + text
		}
	}
	return "package snippet\n\n" + imports + "\nfunc _() {\n" + at(0) + text + "}\n"
}

// statements reports whether text is statements that are not all
// declarations: it parses as a function's body and not as a file.
func statements(text string) bool {
	fset := token.NewFileSet()
	_, errFile := parser.ParseFile(fset, "", "package p\n"+text, 0)
	_, errBody := parser.ParseFile(fset, "", "package p\nfunc _() {\n"+text+"\n}\n", 0)
	return errFile != nil && errBody == nil
}

func hasPrefixWord(s string, words ...string) bool {
	for _, w := range words {
		if strings.HasPrefix(s, w+" ") || strings.HasPrefix(s, w+"(") {
			return true
		}
	}
	return false
}

// TestIsGo checks which blocks the compile test takes for Go: a Go block
// taken for prose would go unchecked.
func TestIsGo(t *testing.T) {
	for _, c := range []struct {
		lang, text string
		want       bool
	}{
		{"go", "anything at all\n", true},
		{"", "func init() { policy.Serve(policy.Configured(ratelimit.Kind)) }\n", true},
		{"", "package main\n", true},
		{"", "n, ok := match.NormalizePath(\"/a\")\n", true},
		{"", "match.NormalizePath(\"/a\") // \"/a\", true\n", true},
		{"", "authz.Func(func(x *policy.Exchange) authz.Decision { return authz.Allow() })\n", true},
		{"", "Rules: []authz.Rule{{Action: authz.Allow}},\n", true},
		{"", "x := 1\n", true},
		{"json", "func ", false},
		{"", "{\"name\": \"ratelimit\", \"config\": {\"rules\": [{\"match\": {\"path\": {\"prefix\": \"/\"}}}]}}\n", false},
		{"", "[{\"path\": {\"exact\": \"/healthz\"}}]\n", false},
		{"", "\"deny\": {\"status\": 403}\n", false},
		{"", "policy: invalid plugin configuration: filters[0] (authz): config.rules[0].match.claims: moved\n", false},
		{"", "rules[0].match.claims: moved: write it beside match, as rules[0].claims\n", false},
		{"", "pluginConfig:\n  match.path: x\n", false},
		{"", "go run ./internal/cmd/policyrun -config conf.json\n", false},
		{"", "GOOS=wasip1 GOARCH=wasm go build -o policy.wasm\n", false},
		{"", "filter=.=ratelimit;.;decision=.=denied;.;policy_filter_decisions_total\n", false},
		{"", "policy_filter_decisions_total{filter=\"ratelimit\",decision=\"denied\"}\n", false},
		{"", "<prefix>_filter_requests_total{filter}  requests the filter saw\n", false},
		{"", "APPEND_IF_EXISTS_OR_ADD     proxy_add_header_map_value\n", false},
	} {
		if got := isGo(block{lang: c.lang, text: c.text}); got != c.want {
			t.Errorf("isGo(```%s %q) = %v, want %v", c.lang, c.text, got, c.want)
		}
	}
}

// TestSource checks how each form of block becomes a Go file.
func TestSource(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"package main\n\nfunc main() { fmt.Println(time.Now()) }\n",
			"//line /r/a.go:7\npackage main\nimport (\n\t\"fmt\"\n\t\"time\"\n)\n//line /r/a.go:8\n\nfunc main() { fmt.Println(time.Now()) }\n"},
		{"package main\n\nimport \"time\"\n\nvar d = time.Second\n",
			"//line /r/a.go:7\npackage main\n//line /r/a.go:8\n\nimport \"time\"\n\nvar d = time.Second\n"},
		{"func decode(o *conf.Object) string { return o.String(\"a\", \"\") }\n",
			"package snippet\n\nimport (\n\t\"github.com/wasmpolicy/policy/conf\"\n)\n//line /r/a.go:7\nfunc decode(o *conf.Object) string { return o.String(\"a\", \"\") }\n"},
		{"policy.Serve(policy.Configured(authz.Kind))\n",
			"package snippet\n\nimport (\n\t\"github.com/wasmpolicy/policy\"\n\t\"github.com/wasmpolicy/policy/authz\"\n)\n\nfunc _() {\n//line /r/a.go:7\npolicy.Serve(policy.Configured(authz.Kind))\n}\n"},
		{"ratelimit.Limit{RequestsPerUnit: 2}\n",
			"package snippet\n\nimport (\n\t\"github.com/wasmpolicy/policy/ratelimit\"\n)\n\nfunc _() {\n//line /r/a.go:7\n_ = ratelimit.Limit{RequestsPerUnit: 2}\n}\n"},
		{"// x.match.Y and \"strings.X\" are not packages\nvar m match.Match\n_ = m.Path.Prefix\n",
			"package snippet\n\nimport (\n\t\"github.com/wasmpolicy/policy/match\"\n)\n\nfunc _() {\n//line /r/a.go:7\n// x.match.Y and \"strings.X\" are not packages\nvar m match.Match\n_ = m.Path.Prefix\n}\n"},
	} {
		if got := source(block{file: "a.go", line: 7, text: c.text}, "/r"); got != c.want {
			t.Errorf("source(%q) =\n%s\nwant\n%s", c.text, got, c.want)
		}
	}
}

// snippetModule writes a module to dir that requires this repository (by
// a replace directive, so the working tree is what compiles) and every
// module it requires, with its go.sum, so that the build needs nothing but
// the module cache.
func snippetModule(t *testing.T, root, dir string) {
	t.Helper()
	gomod := wasmtest.ReadFile(t, filepath.Join(root, "go.mod"))
	lines := strings.Split(gomod, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "module ") {
			lines[i] = "module doccheck.test/snippets"
		}
	}
	gomod = strings.Join(lines, "\n") + fmt.Sprintf("\nrequire %s v0.0.0\n\nreplace %s => %s\n", modulePath, modulePath, root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	gosum := wasmtest.ReadFile(t, filepath.Join(root, "go.sum"))
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), []byte(gosum), 0o644); err != nil {
		t.Fatal(err)
	}
}

// compileError is a line of the compiler's output: file:line:col: message.
var compileError = regexp.MustCompile(`^(\S+?\.go):(\d+)(?::\d+)?: (.*)$`)

// TestGoBlocksCompile compiles every Go block of the documentation, each
// its own package of a throwaway module, in one go build.
func TestGoBlocksCompile(t *testing.T) {
	root := wasmtest.Root()
	var blocks []block
	for _, b := range readDocs(t, root).blocks {
		if isGo(b) {
			blocks = append(blocks, b)
		}
	}
	for _, b := range blocks {
		t.Logf("%s: Go block", b.where())
	}
	if len(blocks) < 5 {
		t.Fatalf("found only %d Go blocks in the documentation: the search is broken", len(blocks))
	}

	dir := t.TempDir()
	snippetModule(t, root, dir)
	for i, b := range blocks {
		pkg := filepath.Join(dir, fmt.Sprintf("b%03d", i))
		if err := os.Mkdir(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pkg, "snippet.go"), []byte(source(b, root)), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.Command("go", "build", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}

	// Give each error to its block: by the documentation's file and line,
	// or by the generated package it is in.
	failures := map[int][]string{}
	var unplaced []string
	last := -1
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(l, "# ") {
			last = -1
			continue
		}
		if strings.HasPrefix(l, "\t") && last >= 0 {
			failures[last] = append(failures[last], l)
			continue
		}
		last = -1
		if m := compileError.FindStringSubmatch(l); m != nil {
			file := m[1]
			if !filepath.IsAbs(file) {
				file = filepath.Join(dir, file)
			}
			line, _ := strconv.Atoi(m[2])
			for i, b := range blocks {
				pkg := filepath.Join(dir, fmt.Sprintf("b%03d", i)) + string(filepath.Separator)
				inDoc := file == filepath.Join(root, filepath.FromSlash(b.file)) && line >= b.line && line < b.line+b.lines()
				if inDoc || strings.HasPrefix(file, pkg) {
					last = i
					break
				}
			}
			if last >= 0 {
				failures[last] = append(failures[last], fmt.Sprintf("line %d: %s", line, m[3]))
				continue
			}
		}
		unplaced = append(unplaced, l)
	}
	for i, b := range blocks {
		if msgs := failures[i]; msgs != nil {
			t.Errorf("%s: Go block does not compile:\n\t%s\nthe block:\n%s\ncompiled as:\n%s",
				b.where(), strings.Join(msgs, "\n\t"), b.text, source(b, root))
		}
	}
	if len(unplaced) > 0 || len(failures) == 0 {
		t.Errorf("go build: %v\n%s", err, strings.Join(unplaced, "\n"))
	}
}

// errorPrefix starts the line a plugin logs when it refuses its
// configuration.
const errorPrefix = "policy: invalid plugin configuration:"

// documentedErrors are the configuration errors the documentation shows,
// each with the plugin that logs it (the filter kinds it links in, as the
// documentation's plugin does), a configuration that makes it, and that
// configuration without the mistake, which starts: the mistake is what the
// line is about.
var documentedErrors = []struct {
	kinds  []policy.Kind
	config string
	fixed  string
	log    string
}{
	{
		// README.md: the plugin of "Writing a plugin" with its
		// configuration, the headerauth entry's rule missing its header.
		kinds: []policy.Kind{ratelimit.Kind, headerauth.Kind, headermutate.Kind, authz.Kind, metrics.Kind},
		config: `{"filters": [
			{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second"}},
			{"name": "headerauth", "mode": "shadow", "config": {"rules": [{"values": ["true"]}]}},
			{"name": "headermutate", "config": {"response": {"set": {"who-am-i": "wasm-extension"}}}}]}`,
		fixed: `{"filters": [
			{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second"}},
			{"name": "headerauth", "mode": "shadow", "config": {"header": "allow", "values": ["true"]}},
			{"name": "headermutate", "config": {"response": {"set": {"who-am-i": "wasm-extension"}}}}]}`,
		log: `policy: invalid plugin configuration: filters[1] (headerauth): config.rules[0].header: is required`,
	},
	{
		// CHANGELOG.md, "One way to write replies": a ratelimit status
		// written the old way.
		kinds:  []policy.Kind{ratelimit.Kind, headerauth.Kind, headermutate.Kind, authz.Kind, metrics.Kind},
		config: `{"filters": [{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second", "status": 503}}]}`,
		fixed:  `{"filters": [{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second", "deny": {"status": 503}}}]}`,
		log:    `policy: invalid plugin configuration: filters[0] (ratelimit): config.status: moved: write it as deny.status`,
	},
	{
		// doc.go: its plugin and configuration, with "values": "true".
		kinds: []policy.Kind{ratelimit.Kind, headerauth.Kind, headermutate.Kind},
		config: `{"filters": [
			{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second"}},
			{"name": "headerauth", "mode": "shadow", "config": {"header": "allow", "values": "true"}}]}`,
		fixed: `{"filters": [
			{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second"}},
			{"name": "headerauth", "mode": "shadow", "config": {"header": "allow", "values": ["true"]}}]}`,
		log: `policy: invalid plugin configuration: filters[1] (headerauth): config.values: must be an array of strings, not a string`,
	},
	{
		// examples/README.md: the chain example's configuration, with
		// values: "true".
		kinds: []policy.Kind{ratelimit.Kind, headerauth.Kind, headermutate.Kind, authz.Kind, metrics.Kind},
		config: `{"filters": [
			{"name": "metrics", "config": {"chain_time": false}},
			{"name": "headermutate", "config": {"response": {"set": {"who-am-i": "wasm-extension"}}}},
			{"name": "headerauth", "config": {"header": "allow", "values": "true"}},
			{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second"}}]}`,
		fixed: `{"filters": [
			{"name": "metrics", "config": {"chain_time": false}},
			{"name": "headermutate", "config": {"response": {"set": {"who-am-i": "wasm-extension"}}}},
			{"name": "headerauth", "config": {"header": "allow", "values": ["true"]}},
			{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second"}}]}`,
		log: `policy: invalid plugin configuration: filters[2] (headerauth): config.values: must be an array of strings, not a string`,
	},
	{
		// examples/ratelimit/README.md: its config.json with "unit": "week".
		kinds:  []policy.Kind{ratelimit.Kind},
		config: `{"filters": [{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "week"}}]}`,
		fixed:  `{"filters": [{"name": "ratelimit", "config": {"requests_per_unit": 2, "unit": "second"}}]}`,
		log:    `policy: invalid plugin configuration: filters[0] (ratelimit): config.unit: must be "second", "minute", "hour" or "day", not "week"`,
	},
	{
		// examples/headerauth/README.md: its config.json with
		// "deny": {"status": 200}.
		kinds:  []policy.Kind{headerauth.Kind},
		config: `{"filters": [{"name": "headerauth", "config": {"header": "allow", "values": ["true"], "deny": {"status": 200}}}]}`,
		fixed:  `{"filters": [{"name": "headerauth", "config": {"header": "allow", "values": ["true"], "deny": {"status": 403}}}]}`,
		log:    `policy: invalid plugin configuration: filters[0] (headerauth): config.deny.status: must be an HTTP status code from 300 to 599, not 200`,
	},
	{
		// examples/headermutate/README.md: a value that would inject a
		// header.
		kinds:  []policy.Kind{headermutate.Kind},
		config: `{"filters": [{"name": "headermutate", "config": {"response": {"set": {"x-a": "v\r\nx-injected: 1"}}}}]}`,
		fixed:  `{"filters": [{"name": "headermutate", "config": {"response": {"set": {"x-a": "v"}}}}]}`,
		log:    `policy: invalid plugin configuration: filters[0] (headermutate): config.response.set.x-a: must not contain CR, LF or NUL: "v\r\nx-injected: 1"`,
	},
}

// TestDocumentedErrors starts each documented error's plugin (natively) with
// its configuration: the plugin must refuse to start and log exactly the
// documented line, and nothing else at the critical level. Without the
// mistake, it starts.
func TestDocumentedErrors(t *testing.T) {
	for _, e := range documentedErrors {
		started, critical := wasmtest.TryStart(policy.Configured(e.kinds...), e.config)
		if started {
			t.Errorf("the plugin started with %s; the documentation says it logs\n%s", e.config, e.log)
		} else if len(critical) != 1 || critical[0] != e.log {
			t.Errorf("with %s the plugin logged\n%q\nthe documentation says\n%q", e.config, critical, e.log)
		}
		if started, critical := wasmtest.TryStart(policy.Configured(e.kinds...), e.fixed); !started {
			t.Errorf("the plugin did not start with %s, the configuration without the mistake behind\n%s\nit logged %q", e.fixed, e.log, critical)
		}
	}
}

// TestEveryDocumentedErrorIsTested finds every configuration error the
// documentation shows, in prose or in a code block: each must be in
// documentedErrors, and each entry there must still be documented.
func TestEveryDocumentedErrorIsTested(t *testing.T) {
	tested := map[string]bool{}
	for _, e := range documentedErrors {
		tested[e.log] = true
	}
	shown := map[string]bool{}
	for _, l := range readDocs(t, wasmtest.Root()).lines {
		i := strings.Index(l.text, errorPrefix)
		if i < 0 {
			continue
		}
		msg := l.text[i:]
		if strings.Contains(l.text[:i], "`") { // inline code: `policy: ...`
			msg, _, _ = strings.Cut(msg, "`")
		}
		msg = strings.TrimSpace(msg)
		shown[msg] = true
		if !tested[msg] {
			t.Errorf("%s:%d: the documented error is not in documentedErrors:\n%s", l.file, l.line, msg)
		}
	}
	for _, e := range documentedErrors {
		if !shown[e.log] {
			t.Errorf("documentedErrors holds an error no documentation shows:\n%s", e.log)
		}
	}
}
