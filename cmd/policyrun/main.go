// Command policyrun serves HTTP through a compiled proxy-wasm plugin on
// this machine, without Envoy, Istio or a cluster: it listens on a loopback
// port, runs every request through the plugin the way Envoy would, and
// forwards what the plugin lets through to an upstream.
//
//	go run github.com/wasmpolicy/policy/cmd/policyrun -plugin plugin.wasm -config config.json -upstream http://127.0.0.1:9000
//	go run github.com/wasmpolicy/policy/cmd/policyrun -plugin plugin.wasm -upstream builtin -admin 127.0.0.1:9901 -v
//
// Any plugin built for Envoy's proxy-wasm ABI 0.2.0 as a WASI reactor runs,
// not only those built on this module's library; -config is its plugin
// configuration (Istio's pluginConfig, as JSON).
//
// Like Envoy, it runs one plugin VM per worker (-workers), spreads requests
// over them, and shares the plugin's shared data and metrics among them; a
// VM serves many requests at once, entering the plugin for one callback at
// a time. The plugin sees the real wall clock and gets proxy_on_tick at the
// period it asks for. A request on a VM whose plugin trapped gets 503
// (Envoy's fail-closed default). The plugin's log lines go to standard
// error, at -log-level and above; a configuration the plugin refuses is
// reported once, and the command exits.
//
// With -check, the command only starts the plugin with -config, prints "ok"
// and exits 0, or prints why the plugin refused the configuration and
// exits 1, so that the CI of a repository can check each configuration it
// deploys:
//
//	go run github.com/wasmpolicy/policy/cmd/policyrun -check -plugin plugin.wasm -config config.json
//
// -config may also be YAML of Istio WasmPlugin manifests for -check, one
// or several separated by "---" lines: the plugin is started with each
// WasmPlugin's spec.pluginConfig as the JSON Istio would hand it (none when
// it has none), a line per WasmPlugin says "WasmPlugin NAMESPACE/NAME: ok"
// or the refusal, and the exit status is 1 if any was refused. Other kinds
// are skipped; YAML without a WasmPlugin is an error. The YAML is read as
// kubectl reads it (YAML 1.1): an unquoted yes, no, on, off, y or n is a
// boolean, also as a key ("n:" becomes "false"), and 010 is 8; a key given
// twice is an error. Istio keeps pluginConfig as a google.protobuf.Struct,
// so every number reaches the plugin as a double: 10 and 10.0 as 10, an
// integer past 2^53 rounded.
//
//	go run github.com/wasmpolicy/policy/cmd/policyrun -check -plugin plugin.wasm -config wasmplugin.yaml
//
// -upstream is where allowed requests go: an http:// or https:// URL (its
// path, if any, is put before the request's), or "builtin", a small backend
// the command starts itself on a free loopback port, which answers every
// request 200 with a line of text naming its method and path, and POST
// /v1/chat/completions as an OpenAI-compatible API does, plain or streamed
// ("stream": true), with the usage of its answer (words counted as
// tokens), to try a token budget. -cluster NAME=URL sends the plugin's
// HTTP callouts to cluster NAME to URL.
//
// A response of Server-Sent Events (text/event-stream) reaches the plugin
// event by event, as Envoy streams it; the client gets it once the
// upstream is done.
//
// The upstream gets the request exactly as the plugin left it: its headers,
// names in lower case, each value once, nothing added but what Envoy adds
// at the edge before the plugin runs (so the plugin sees them too, and
// what it removes stays removed): x-request-id, a random UUID, when the
// request has none; x-forwarded-for, the client's address, when the request
// has none; x-forwarded-proto, the scheme, replacing the client's. The
// hop-by-hop headers (connection, keep-alive, te, transfer-encoding,
// upgrade, trailer) are the connection's and are not passed on, and
// content-length is the body's. No user-agent is added: the client's is
// passed on, or none (Go's HTTP client sends only the first of several
// user-agent values).
//
// -admin ADDR serves the plugin's metrics as Envoy's admin interface does:
// /stats/prometheus in the Prometheus text format, with the metrics' tags
// (Istio's key=.=value;.;name encoding) turned into labels by the
// stats_tags regexes of metrics.StatsTags, exactly as an Envoy configured
// with metrics.EnvoyStatsConfig shows them; /stats as "name: value" lines.
// A plugin of this library sends its counts to the proxy on its tick (once
// a second by default), so they show up within a second.
//
// -v writes an access-log line per request to standard error: method,
// path, status, where the response came from (the upstream, or a local
// reply, with the filter that denied and its reason for a plugin of this
// library), and the time taken.
//
// -demo replays the rate-limiting tutorial's traffic against the plugin
// (with its configuration), prints each response as `curl -i` would, and
// exits (see `make demo`).
//
// Compiling a plugin takes a few seconds (it says so as it goes);
// -cache-dir keeps the compiled code across runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wasmpolicy/policy/internal/host"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		// -h: the usage is printed.
	case errors.Is(err, errRefused):
		os.Exit(1) // -check printed which WasmPlugins were refused
	case err != nil:
		fmt.Fprintln(os.Stderr, "policyrun:", err)
		os.Exit(1)
	}
}

// clusterFlag collects -cluster NAME=URL.
type clusterFlag map[string]*url.URL

func (c clusterFlag) String() string { return "" }

func (c clusterFlag) Set(s string) error {
	name, raw, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return errors.New("want NAME=URL")
	}
	u, err := parseBase(raw)
	if err != nil {
		return err
	}
	c[name] = u
	return nil
}

func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http:// or https:// URL", raw)
	}
	return u, nil
}

const usageHead = `usage: policyrun -plugin FILE.wasm [-config FILE.json] -upstream URL|builtin [flags]
       policyrun -plugin FILE.wasm [-config FILE.json] -demo
       policyrun -plugin FILE.wasm -config FILE.json|WASMPLUGINS.yaml -check

Serves HTTP on -listen through the compiled proxy-wasm plugin, as Envoy
would run it, and forwards what the plugin lets through to -upstream.
"go doc github.com/wasmpolicy/policy/cmd/policyrun" says what it adds to
requests and how it shows the plugin's metrics.

flags:
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("policyrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	var o options
	clusters := clusterFlag{}
	plugin := fs.String("plugin", "", "the compiled plugin (.wasm), required")
	config := fs.String("config", "", "a file holding the plugin configuration (Istio's pluginConfig, JSON); with -check, also YAML of Istio WasmPlugins")
	upstream := fs.String("upstream", "", `where allowed requests go: an http:// or https:// URL, or "builtin" (a backend that answers 200 itself, and chat completions with their usage)`)
	listen := fs.String("listen", "127.0.0.1:8080", "the address to listen on")
	admin := fs.String("admin", "", "serve the plugin's metrics on this address: /stats/prometheus and /stats, as Envoy's admin interface does")
	fs.BoolVar(&o.accessLog, "v", false, "write an access-log line per request: status, which filter answered, time taken")
	level := fs.String("log-level", "info", "the lowest plugin log level shown: trace, debug, info, warn, error, critical (-demo: warn)")
	demo := fs.Bool("demo", false, "replay the rate-limiting tutorial's traffic, print the responses, and exit")
	check := fs.Bool("check", false, `start the plugin with -config (each WasmPlugin's pluginConfig for YAML), print "ok" or why it refused, and exit 0 or 1, without serving`)
	fs.IntVar(&o.workers, "workers", 2, "plugin VMs, as Envoy runs one per worker thread")
	fs.StringVar(&o.route, "route", "", "the route_name the plugin sees")
	fs.Var(clusters, "cluster", "NAME=URL: send the plugin's callouts to cluster NAME to URL (repeatable)")
	fs.StringVar(&o.cacheDir, "cache-dir", "", "keep the compiled plugin in this directory across runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *plugin == "" {
		return errors.New("-plugin is required")
	}
	var err error
	if o.wasm, err = os.ReadFile(*plugin); err != nil {
		return err
	}
	o.name = *plugin
	if *config != "" {
		if o.config, err = os.ReadFile(*config); err != nil {
			return err
		}
	}
	if o.minLevel, err = parseLevel(*level); err != nil {
		return err
	}
	if *demo && !flagSet(fs, "log-level") {
		o.minLevel = host.LogWarn // keep the demo's output to the responses
	}
	if o.workers < 1 {
		return errors.New("-workers must be at least 1")
	}
	o.clusters, o.log = clusters, stderr
	if *demo {
		return runDemo(ctx, o, stdout)
	}
	if *check {
		return runCheck(ctx, o, *config, stdout)
	}
	switch *upstream {
	case "":
		return errors.New(`-upstream is required (an http:// URL, or "builtin")`)
	case "builtin":
		up, err := startBuiltin()
		if err != nil {
			return err
		}
		defer up.Close()
		o.upstream = up.url
	default:
		if o.upstream, err = parseBase(*upstream); err != nil {
			return fmt.Errorf("-upstream: %w", err)
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	var adminLn net.Listener
	if *admin != "" {
		if adminLn, err = net.Listen("tcp", *admin); err != nil {
			ln.Close()
			return fmt.Errorf("-admin: %w", err)
		}
	}
	p, err := newProxy(ctx, o)
	if err != nil {
		ln.Close()
		if adminLn != nil {
			adminLn.Close()
		}
		return err
	}
	if adminLn != nil {
		stopAdmin := p.serveAdmin(adminLn)
		defer stopAdmin()
		fmt.Fprintf(stderr, "policyrun: metrics on http://%s/stats/prometheus and http://%s/stats\n", adminLn.Addr(), adminLn.Addr())
	}
	fmt.Fprintf(stderr, "policyrun: serving http://%s through %s (%d VMs), upstream %s\n", ln.Addr(), *plugin, o.workers, o.upstream)
	return p.serve(ctx, ln)
}

func flagSet(fs *flag.FlagSet, name string) (set bool) {
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func parseLevel(s string) (host.LogLevel, error) {
	l, ok := host.ParseLogLevel(s)
	if !ok {
		return 0, fmt.Errorf("-log-level: unknown level %q", s)
	}
	return l, nil
}

// serve answers on ln until ctx is done, then lets requests in flight end
// and closes the plugin.
func (p *proxy) serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	tickCtx, stopTicks := context.WithCancel(ctx)
	defer stopTicks()
	go p.host.RunTicks(tickCtx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		p.close()
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	p.close()
	return err
}

// runCheck starts the plugin with the configuration in one VM, as the
// proxy would, and prints "ok"; a configuration the plugin refuses is
// returned as the error, which the command prints before it exits 1. It
// serves nothing, so that a repository's CI can check the configurations it
// deploys. A -config file of YAML is read for its WasmPlugins, each checked
// with its pluginConfig, a line printed for each; errRefused is returned
// when the plugin refused any.
func runCheck(ctx context.Context, o options, configFile string, stdout io.Writer) error {
	if isJSONConfig(o.config) {
		if err := startOnce(ctx, o, o.config); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "ok")
		return nil
	}
	m, err := readWasmPlugins(o.config)
	if err != nil {
		return fmt.Errorf("-config %s: %w", configFile, err)
	}
	if len(m.plugins) == 0 {
		return fmt.Errorf("-config %s: no %s (apiVersion %s/%s) among its %d YAML resources; "+
			"-config takes the plugin configuration as JSON, or WasmPlugin manifests as YAML",
			configFile, wasmPluginKind, wasmPluginGroup, wasmPluginVersion, m.resources)
	}
	refused := false
	for _, wp := range m.plugins {
		err := wp.err
		if err == nil {
			err = startOnce(ctx, o, wp.config)
		}
		var notLoaded *loadError
		if errors.As(err, &notLoaded) {
			return err // the same for every WasmPlugin
		}
		result := "ok"
		if err != nil {
			result, refused = err.Error(), true
		}
		fmt.Fprintf(stdout, "%s %s: %s\n", wasmPluginKind, wp.label, result)
	}
	if refused {
		return errRefused
	}
	return nil
}

// errRefused ends -check with exit status 1 once it has printed which
// WasmPlugins the plugin refused.
var errRefused = errors.New("the plugin refused a WasmPlugin's configuration")

// startOnce starts the plugin with config in one VM and closes it.
func startOnce(ctx context.Context, o options, config []byte) error {
	o.workers, o.log, o.config = 1, io.Discard, config
	p, err := newProxy(ctx, o)
	if err != nil {
		return err
	}
	p.close()
	return nil
}
