package main

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmpolicy/policy/internal/wasmtest"
)

// The routes example's "Try it locally", command by command: the runners
// its README starts, one per route (-route login, -route api), then every
// curl of its console blocks against the runner on that port, compared
// with what the README shows: the status, each header (Retry-After only
// as a number of seconds, since it counts down), the body, and the
// metrics lines its grep keeps.
func TestRoutesReadme(t *testing.T) {
	readme := wasmtest.ReadFile(t, "../../examples/routes/README.md")

	// The runners, by the ports the README gives them.
	const start = "go run ./cmd/policyrun -plugin build/routes.wasm -config examples/routes/config.json -upstream builtin"
	runners := regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(start)+` \\\n\s+-route (\S+) -listen 127\.0\.0\.1:(\d+) -admin 127\.0\.0\.1:(\d+) &$`).
		FindAllStringSubmatch(readme, -1)
	if len(runners) != 2 {
		t.Fatalf("the README starts %d runners, want 2 (login and api)", len(runners))
	}
	hosts := map[string]string{} // the README's host:port → the test's
	for _, r := range runners {
		base, log := startRunner(t, "routes", "-config", "../../examples/routes/config.json", "-upstream", "builtin",
			"-route", r[1], "-admin", "127.0.0.1:0")
		hosts["127.0.0.1:"+r[2]] = strings.TrimPrefix(base, "http://")
		hosts["127.0.0.1:"+r[3]] = log.adminAddr(t)
	}

	var commands []shown
	for _, block := range wasmtest.FencedBlocks(readme, "console") {
		commands = append(commands, parseConsole(t, block)...)
	}
	if len(commands) != 13 {
		t.Fatalf("the README shows %d commands, want 13 (11 requests and 2 metrics)", len(commands))
	}
	// What the README means to show: the login route limits a client to
	// 3 requests, the api route lets more than 3 through.
	limited, admitted := 0, 0
	for _, c := range commands {
		switch {
		case strings.HasPrefix(c.url, "http://127.0.0.1:8081/login") && strings.HasPrefix(c.statusLine, "HTTP/1.1 429 "):
			limited++
		case strings.HasPrefix(c.url, "http://127.0.0.1:8082/api/") && (c.code == "200" || strings.HasPrefix(c.statusLine, "HTTP/1.1 200 ")):
			admitted++
		}
	}
	if limited != 1 || admitted <= 3 {
		t.Errorf("the README shows %d requests limited on the login route and %d admitted on the api route, want 1 and more than 3", limited, admitted)
	}

	for _, c := range commands {
		u := c.url
		for from, to := range hosts {
			u = strings.Replace(u, "http://"+from+"/", "http://"+to+"/", 1)
		}
		if u == c.url {
			t.Fatalf("%s: no runner on that port", c.line)
		}
		if c.pipe != "" {
			checkMetrics(t, c, u)
			continue
		}
		resp, body := do(t, c.method, u, "", c.headers...)
		if c.statusLine != "" {
			if got := "HTTP/1.1 " + resp.Status; got != c.statusLine {
				t.Errorf("%s: %s, the README shows %s", c.line, got, c.statusLine)
			}
		} else if got := strconv.Itoa(resp.StatusCode); got != c.code {
			t.Errorf("%s: %s, the README shows %s", c.line, got, c.code)
		}
		for _, h := range c.shownHeaders {
			got := resp.Header.Values(h[0])
			if h[0] == "Retry-After" {
				if n, err := strconv.Atoi(strings.Join(got, ",")); err != nil || n < 1 || n > 60 {
					t.Errorf("%s: Retry-After %q, want the seconds left in the minute", c.line, got)
				}
				continue
			}
			if !slices.Equal(got, []string{h[1]}) {
				t.Errorf("%s: %s %q, the README shows %q", c.line, h[0], got, h[1])
			}
		}
		if c.statusLine != "" && strings.TrimRight(body, "\n") != c.body {
			t.Errorf("%s: body %q, the README shows %q", c.line, body, c.body)
		}
	}
}

// shown is one command of a README console block and the output it shows.
type shown struct {
	line    string // the command
	method  string
	headers []string // name, value, name, value...
	url     string
	pipe    string // what the output goes through, for the metrics

	code         string // with -w '%{http_code}\n'
	statusLine   string // with -i: the status line,
	shownHeaders [][2]string
	body         string
	output       []string // the lines shown, for the metrics
}

// parseConsole reads a console block: lines starting with "$ curl", each
// followed by its output.
func parseConsole(t *testing.T, block string) []shown {
	t.Helper()
	var out []shown
	for _, part := range strings.Split(block, "$ ")[1:] {
		lines := strings.Split(strings.TrimRight(part, "\n"), "\n")
		c := shown{line: lines[0], method: "GET", output: lines[1:]}
		cmd, pipe, _ := strings.Cut(lines[0], " | ")
		c.pipe = pipe
		words := shellWords(t, cmd)
		if words[0] != "curl" {
			t.Fatalf("not a curl: %s", c.line)
		}
		statusCode := false
		for i := 1; i < len(words); i++ {
			switch w := words[i]; {
			case w == "-X":
				i++
				c.method = words[i]
			case w == "-H":
				i++
				name, value, _ := strings.Cut(words[i], ": ")
				c.headers = append(c.headers, name, value)
			case w == "-o":
				i++
			case w == "-w":
				i++
				statusCode = words[i] == `%{http_code}\n`
			case w == "-s", w == "-si":
			case strings.HasPrefix(w, "http://"):
				c.url = w
			default:
				t.Fatalf("%s: the test does not know %q", c.line, w)
			}
		}
		switch {
		case pipe != "":
		case statusCode:
			if len(c.output) != 1 {
				t.Fatalf("%s: want one line of output, the status", c.line)
			}
			c.code = c.output[0]
		default:
			c.statusLine = c.output[0]
			head, body, ok := strings.Cut(strings.Join(c.output[1:], "\n"), "\n\n")
			if !ok {
				t.Fatalf("%s: no blank line between the headers and the body", c.line)
			}
			for _, h := range strings.Split(head, "\n") {
				name, value, _ := strings.Cut(h, ": ")
				c.shownHeaders = append(c.shownHeaders, [2]string{name, value})
			}
			c.body = body
		}
		out = append(out, c)
	}
	return out
}

// shellWords splits a command line into words, as a shell does with
// single quotes.
func shellWords(t *testing.T, line string) []string {
	var words []string
	var w strings.Builder
	quoted, in := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, in = !quoted, true
		case r == ' ' && !quoted:
			if in {
				words = append(words, w.String())
			}
			w.Reset()
			in = false
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %s", line)
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// checkMetrics waits until the runner's /stats/prometheus, through the
// README's grep (the policy_filter_ lines not at 0), shows what the README
// shows: the counts reach the runner on the plugin's tick.
func checkMetrics(t *testing.T, c shown, url string) {
	t.Helper()
	if want := `grep '^policy_filter_' | grep -v ' 0$'`; c.pipe != want || !strings.HasSuffix(url, "/stats/prometheus") {
		t.Fatalf("%s: the test reads /stats/prometheus through %s", c.line, want)
	}
	want := slices.Sorted(slices.Values(c.output))
	var got []string
	for deadline := time.Now().Add(10 * time.Second); ; {
		got = nil
		for _, l := range strings.Split(scrape(t, url), "\n") {
			if strings.HasPrefix(l, "policy_filter_") && !strings.HasSuffix(l, " 0") {
				got = append(got, l)
			}
		}
		slices.Sort(got)
		if slices.Equal(got, want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n%s\nthe README shows:\n%s", c.line, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
