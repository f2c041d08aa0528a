package main

import (
	"context"
	"sort"
	"time"

	"github.com/wasmpolicy/policy/internal/host"
)

// timing is one plugin's time per request in wasm, in microseconds: the
// median over the rounds of each round's mean.
type timing struct {
	request, response, total float64
	// ratio is total over the no-op plugin's total in the same round,
	// median over the rounds.
	ratio float64
	// rounds is the total of each round, for ratios to other plugins
	// (ratioIn).
	rounds []float64
}

// ratioIn is a's total over b's in the same round, median over the rounds:
// the machine's load in one round weighs on both. It is 0 when either was
// not timed.
func ratioIn(a, b timing) float64 {
	if len(a.rounds) == 0 || len(a.rounds) != len(b.rounds) {
		return 0
	}
	r := make([]float64, len(a.rounds))
	for i := range r {
		r[i] = a.rounds[i] / b.rounds[i]
	}
	return median(r)
}

// measureTimes runs rounds rounds; in each, every plugin serves batch
// requests in turn (starting with a different plugin every round), so that
// what else the machine does weighs on all of them alike. Each plugin warms
// up with one batch first. ps[0] must be the no-op plugin.
func measureTimes(ctx context.Context, ps []plugin, rounds, batch int) (map[string]timing, error) {
	runners := make([]*runner, len(ps))
	for i, p := range ps {
		r, err := newRunner(ctx, p, host.Config{})
		if err != nil {
			return nil, err
		}
		defer r.close(ctx)
		if _, _, _, err := r.serveN(ctx, batch); err != nil {
			return nil, err
		}
		runners[i] = r
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(batch) / 1e3 }
	samples := make([][3][]float64, len(ps)) // request, response, total per round
	for round := 0; round < rounds; round++ {
		for k := range runners {
			i := (k + round) % len(runners)
			req, resp, total, err := runners[i].serveN(ctx, batch)
			if err != nil {
				return nil, err
			}
			s := &samples[i]
			s[0] = append(s[0], per(req))
			s[1] = append(s[1], per(resp))
			s[2] = append(s[2], per(total))
		}
	}
	out := map[string]timing{}
	noop := timing{rounds: samples[0][2]}
	for i, p := range ps {
		s := samples[i]
		t := timing{request: median(s[0]), response: median(s[1]), total: median(s[2]), rounds: s[2]}
		t.ratio = ratioIn(t, noop)
		out[p.String()] = t
	}
	return out, nil
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
