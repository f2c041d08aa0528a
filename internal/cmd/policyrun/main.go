// Command policyrun serves HTTP through a compiled plugin on this machine,
// without Envoy, Istio or a cluster: it listens on a loopback port, runs
// every request through the plugin in a proxy-wasm host (internal/host) the
// way Envoy would, and forwards what the plugin lets through to an upstream.
//
//	policyrun -plugin build/chain.wasm -config examples/chain/config.json -upstream http://127.0.0.1:9000
//	policyrun -plugin build/chain.wasm -config examples/chain/config.json -demo
//
// Like Envoy, it runs one plugin VM per worker (-workers), spreads requests
// over them, and shares the plugin's shared data and metrics among them; a
// VM serves many requests at once, entering the plugin for one callback at
// a time. The plugin sees the real wall clock. A request on a VM whose
// plugin trapped gets 503 (Envoy's fail-closed default). The plugin's log
// lines go to standard error.
//
// -upstream builtin answers every request itself (200, a short text body).
// -cluster NAME=URL routes the plugin's HTTP callouts to cluster NAME to
// URL. -demo replays the rate-limiting tutorial's traffic against the plugin, prints
// each response as `curl -i` would, and exits (see `make demo`).
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
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "policyrun:", err)
		}
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

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("policyrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	clusters := clusterFlag{}
	plugin := fs.String("plugin", "", "the compiled plugin (.wasm), required")
	config := fs.String("config", "", "a file holding the plugin configuration (Istio's pluginConfig, JSON)")
	upstream := fs.String("upstream", "", `where allowed requests go: an http:// URL, or "builtin"`)
	listen := fs.String("listen", "127.0.0.1:8080", "the address to listen on")
	level := fs.String("log-level", "info", "the lowest plugin log level shown: trace, debug, info, warn, error, critical (-demo: warn)")
	demo := fs.Bool("demo", false, "replay the rate-limiting tutorial's traffic, print the responses, and exit")
	fs.IntVar(&o.workers, "workers", 2, "plugin VMs, as Envoy runs one per worker thread")
	fs.StringVar(&o.route, "route", "", "the route_name the plugin sees")
	fs.Var(clusters, "cluster", "NAME=URL: send the plugin's callouts to cluster NAME to URL (repeatable)")
	fs.StringVar(&o.cacheDir, "cache-dir", "", "keep compiled plugins in this directory across runs")
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
	p, err := newProxy(ctx, o)
	if err != nil {
		ln.Close()
		return err
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
