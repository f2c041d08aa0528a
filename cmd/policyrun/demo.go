package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// builtin is the upstream -upstream builtin and -demo start: it answers
// every request 200 with a short text body, and POST /v1/chat/completions
// as an OpenAI-compatible API would (llm.go), with the usage of each answer.
type builtin struct {
	url *url.URL
	srv *http.Server
}

func startBuiltin() (*builtin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions" {
			chatCompletion(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "hello from the upstream: %s %s\n", r.Method, r.URL.Path)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &builtin{url: &url.URL{Scheme: "http", Host: ln.Addr().String()}, srv: srv}, nil
}

func (b *builtin) Close() { b.srv.Close() }

// demoStep is one request of the tutorial's traffic.
type demoStep struct {
	allow bool // send allow: true
	// pause before the request; refill waits until the rate limit's bucket
	// has refilled (as the previous response's retry-after says).
	pause  time.Duration
	refill bool
	want   int
}

// The tutorials' traffic: three requests within a second (the rate
// limit admits two), then, once the bucket has refilled, one without the
// allow header (denied) and one with it.
var demoSteps = []demoStep{
	{allow: true, want: 200},
	{allow: true, pause: 250 * time.Millisecond, want: 200},
	{allow: true, pause: 250 * time.Millisecond, want: 429},
	{refill: true, want: 403},
	{allow: true, want: 200},
}

// runDemo starts the built-in upstream and the runner in front of it on
// free loopback ports, sends demoSteps, prints every response as curl -i
// does, and stops both. It fails if a status differs from the tutorial's.
func runDemo(ctx context.Context, o options, out io.Writer) error {
	up, err := startBuiltin()
	if err != nil {
		return err
	}
	defer up.Close()
	o.upstream = up.url
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	p, err := newProxy(ctx, o)
	if err != nil {
		ln.Close()
		return err
	}
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.serve(serveCtx, ln) }()
	defer func() { stop(); <-done }()

	addr := ln.Addr().String()
	fmt.Fprintf(out, "# the plugin serves http://%s in front of the upstream %s (%d VMs)\n", addr, up.url.Host, o.workers)
	var got, want []string
	var retryAfter time.Duration
	for _, s := range demoSteps {
		wait := s.pause
		if s.refill {
			wait = min(max(retryAfter, time.Second), 10*time.Second) + 100*time.Millisecond
			fmt.Fprintf(out, "\n# waiting %v for the rate limit's bucket to refill\n", wait)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		cmd, header := "curl -i", ""
		if s.allow {
			cmd, header = "curl -i -H 'allow: true'", "allow: true\r\n"
		}
		fmt.Fprintf(out, "\n$ %s http://%s/\n", cmd, addr)
		status, text, retry, err := rawGet(addr, header)
		if err != nil {
			return err
		}
		fmt.Fprint(out, text)
		if retry > 0 {
			retryAfter = retry
		}
		got, want = append(got, strconv.Itoa(status)), append(want, strconv.Itoa(s.want))
	}
	if g, w := strings.Join(got, " "), strings.Join(want, " "); g != w {
		return fmt.Errorf("the statuses were %s; the tutorial expects %s", g, w)
	}
	fmt.Fprintf(out, "\n# statuses %s, as the tutorial expects\n", strings.Join(got, " "))
	return nil
}

// rawGet sends GET / with extra header lines on a new connection and
// returns the status, the response exactly as received (CRLFs as newlines),
// and its retry-after.
func rawGet(addr, header string) (status int, text string, retryAfter time.Duration, err error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, "", 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: policyrun-demo\r\nAccept: */*\r\n%s\r\n", addr, header)
	r := bufio.NewReader(conn)
	var head strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, "", 0, fmt.Errorf("reading the response: %w", err)
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(head.String())), nil)
	if err != nil {
		return 0, "", 0, err
	}
	body := make([]byte, max(resp.ContentLength, 0))
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, "", 0, fmt.Errorf("reading the body: %w", err)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		retryAfter = time.Duration(s) * time.Second
	}
	text = strings.ReplaceAll(head.String(), "\r\n", "\n") + string(body)
	if len(body) > 0 && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return resp.StatusCode, text, retryAfter, nil
}
