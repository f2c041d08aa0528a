package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The hostile-path measure: what a long path costs through the filters
// that read it, when it is plain and when it is spelled to have many
// readings. A path's readings are worked out once per request for every
// filter (match.Request), in time linear in its length; the target bounds
// the cost of any spelling at maxHostileRatio times a plain path of the
// same length.

// hostileConfig is the chain of filters that read the path: headerauth with
// a bypass on a path, ratelimit with a rule on a path and the path as its
// key, authz with a deny rule on a path. The benchmark request passes all
// three (allow: true, a path under none of the rules, a limit it never
// reaches).
const hostileConfig = `{"filters":[` +
	`{"name":"headerauth","config":{"header":"allow","values":["true"],"bypass":[{"path":{"prefix":"/health/"}}]}},` +
	`{"name":"ratelimit","config":{"requests_per_unit":1000000,"unit":"second","key":["path"],` +
	`"rules":[{"match":{"path":{"glob":"/login/**"}},` +
	`"limit":{"requests_per_unit":1000000,"unit":"second"}}]}},` +
	`{"name":"authz","config":{"rules":[{"name":"admin","action":"deny","match":{"path":{"glob":"/admin/**"}}}],"default":"allow"}}]}`

// hostileLength is the length of the measured paths: what fits in Envoy's
// default limit on request headers (60 KiB, max_request_headers_kb) with
// the benchmark request's other headers.
const hostileLength = 59 << 10

// maxHostileRatio bounds any path's time per request through
// hostileConfig, in plain paths of the same length.
const maxHostileRatio = 3.0

// hostilePath is one spelling the measure sends: head, then unit repeated
// to hostileLength. A path with more places that backends read differently
// than the match package reads (64) cannot be read safely: the deny rule
// applies to it, and authz answers 403 (denied).
type hostilePath struct {
	name, head, unit string
	denied           bool
}

// hostilePaths are the spellings: the plain path first (the others' ratio
// is to it), then paths that can be read but cost the most to read, then
// paths made of what multiplies the readings, which cannot be read.
var hostilePaths = []hostilePath{
	{name: "plain", unit: "/abcd"},
	{name: "encoded letters", unit: "/%61%62"},
	{name: "lower-case hex", unit: "/%e4%bd%a0"},
	{name: "encoded UTF-8", unit: "/%E4%BD%A0"},
	{name: "eight readings, then encoded letters", head: strings.Repeat("/..;%2F", 8), unit: "/%61%62"},
	{name: "encoded slash and parameter", unit: "x%2F;", denied: true},
	{name: "dot-dot, parameter, encoded slash", unit: "/..;%2F", denied: true},
	{name: "dot segments", unit: "/.", denied: true},
	{name: "trailing dots and spaces", unit: "/a.%20", denied: true},
}

// path is head and unit repeated after a "/" (one "/" if they start with
// one), and letters to make it hostileLength bytes: whole units, so that
// every path but the denied ones can be read.
func (p hostilePath) path() string {
	s := "/" + strings.TrimPrefix(p.head+strings.Repeat(p.unit, (hostileLength-1-len(p.head))/len(p.unit)), "/")
	return s + strings.Repeat("z", hostileLength-len(s))
}

// hostileRounds and hostileBatch are the measure's rounds and requests
// per path and round: a request costs milliseconds here.
const (
	hostileRounds = 7
	hostileBatch  = 10
)

// hostileTiming is one image's time per request for each path, in
// milliseconds, with the ratio to the plain path taken within each round.
type hostileTiming struct {
	image  string // "this tree" or a baseline's short hash
	times  []float64
	ratios []float64
	allocs []float64 // Go allocations per request; nil if not measured
}

// measureHostile times the chain image of this tree (chain) and of each
// baseline with hostileConfig and each of hostilePaths, the paths taking
// turns in rounds; for this tree it also counts Go allocations per request.
func measureHostile(ctx context.Context, chain plugin, baselines []baseline) ([]hostileTiming, error) {
	images := []plugin{chain}
	names := []string{"this tree"}
	for _, b := range baselines {
		for _, p := range b.plugins {
			if p.name == chainName {
				images = append(images, p)
				names = append(names, b.short)
			}
		}
	}
	var out []hostileTiming
	for i, img := range images {
		ht := hostileTiming{image: names[i]}
		var err error
		if ht.times, ht.ratios, err = timeHostile(ctx, img, i > 0); err != nil {
			return nil, err
		}
		if i == 0 && img.allocPath != "" {
			for _, hp := range hostilePaths {
				a, err := allocsPerRequest(ctx, hostilePlugin(img, hp, false), hostileBatch)
				if err != nil {
					return nil, err
				}
				ht.allocs = append(ht.allocs, a.mallocs)
			}
		}
		out = append(out, ht)
	}
	return out, nil
}

// hostilePlugin is img configured with hostileConfig, serving hp's path.
// An earlier revision's image (baseline) may answer it as it likes.
func hostilePlugin(img plugin, hp hostilePath, baseline bool) plugin {
	headers := append([][2]string{}, requestHeaders...)
	headers[1] = [2]string{":path", hp.path()}
	img.label, img.config, img.headers = img.name+" ("+hp.name+")", []byte(hostileConfig), headers
	switch {
	case baseline:
		img.deniedWith = -1
	case hp.denied:
		img.deniedWith = 403
	}
	return img
}

// timeHostile times img with each of hostilePaths.
func timeHostile(ctx context.Context, img plugin, baseline bool) (times, ratios []float64, err error) {
	var ps []plugin
	for _, hp := range hostilePaths {
		ps = append(ps, hostilePlugin(img, hp, baseline))
	}
	samples, err := slowTurns(ctx, ps)
	if err != nil {
		return nil, nil, err
	}
	plain := timing{rounds: samples[0]}
	for _, s := range samples {
		times = append(times, median(s))
		ratios = append(ratios, ratioIn(timing{rounds: s}, plain))
	}
	return times, ratios, nil
}

// slowTurns times plugins whose requests cost milliseconds: each serves a
// few requests to warm up, then hostileBatch requests in each of
// hostileRounds rounds, the plugins taking turns. It returns each plugin's
// milliseconds per request in each round.
func slowTurns(ctx context.Context, ps []plugin) ([][]float64, error) {
	runners := make([]*runner, len(ps))
	for i, p := range ps {
		r, err := newRunner(ctx, p, newFixedClock())
		if err != nil {
			return nil, err
		}
		defer r.close(ctx)
		if _, _, _, err := r.serveN(ctx, 2); err != nil {
			return nil, err
		}
		runners[i] = r
	}
	samples := make([][]float64, len(runners))
	for round := range hostileRounds {
		for k := range runners {
			i := (k + round) % len(runners)
			_, _, total, err := runners[i].serveN(ctx, hostileBatch)
			if err != nil {
				return nil, err
			}
			samples[i] = append(samples[i], float64(total)/float64(hostileBatch)/float64(time.Millisecond))
		}
	}
	return samples, nil
}

// hostileVerdict checks this tree's worst ratio.
func (r *results) hostileVerdict() verdict {
	v := verdict{key: "hostile", target: fmt.Sprintf("any path of %s through headerauth, ratelimit and authz ≤ %.0f× a plain one", kib(hostileLength), maxHostileRatio)}
	if len(r.hostile) == 0 {
		v.measured, v.miss = "not measured", "(no chain image)"
		return v
	}
	t := r.hostile[0]
	worst := 1
	for i := 2; i < len(t.ratios); i++ {
		if t.ratios[i] > t.ratios[worst] {
			worst = i
		}
	}
	v.measured = fmt.Sprintf("%.2f× (%s: %.2f ms; plain %.2f ms)", t.ratios[worst], hostilePaths[worst].name, t.times[worst], t.times[0])
	v.met = t.ratios[worst] <= maxHostileRatio
	if !v.met {
		v.miss = fmt.Sprintf("by %.2f×", t.ratios[worst]-maxHostileRatio)
	}
	return v
}

// writeHostile is the section of the report on hostile paths.
func (r *results) writeHostile(w writer) {
	if len(r.hostile) == 0 {
		return
	}
	w("## Hostile paths\n\n")
	w("A path of %s (Envoy's default limit on a request's headers is 60 KiB) through the chain example's image configured with ", kib(hostileLength))
	w("headerauth (a bypass on a path), ratelimit (a rule on a path, the path as its key) and authz (a deny rule on a path), all of which the request passes. ")
	w("Each spelling repeats its unit to that length (after a head, for one). The paths that can be read make the reader normalize every character, or write eight readings; ")
	w("the others are made of what multiplies the readings, and have more places that backends read differently than the match package reads (64): they cannot be read safely, so the deny rule applies (403). ")
	w("The paths take turns in %d rounds of %d requests; times are medians, and the ratio to the plain path is taken within each round. ", hostileRounds, hostileBatch)
	w("Allocations are counted in the chain's allocstats build. Rows for earlier revisions run their own chain image with the same configuration.\n\n")
	w("| Path | Unit | Answer | Image | Time (ms) | × plain | Go mallocs/request |\n|---|---|---|---|---:|---:|---:|\n")
	for i, hp := range hostilePaths {
		for _, t := range r.hostile {
			mallocs := "not measured"
			if t.allocs != nil {
				mallocs = num(t.allocs[i])
			}
			answer := "200"
			if hp.denied {
				answer = "403"
			}
			w("| %s | `%s` | %s | %s | %.2f | %.2f | %s |\n", hp.name, hp.unit, answer, t.image, t.times[i], t.ratios[i], mallocs)
		}
	}
	w("\n")
}
