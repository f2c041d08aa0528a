package main

import (
	"context"

	"github.com/wasmpolicy/policy/internal/host"
)

// memoryPoint is the size of a plugin's linear memory after some requests.
type memoryPoint struct {
	requests int
	bytes    uint64
}

// measureMemory serves requests through one fresh VM of p and reads its
// linear memory when the count reaches each checkpoint (ascending).
// Linear memory never shrinks, so the last point bounds every earlier peak.
func measureMemory(ctx context.Context, p plugin, checkpoints []int) ([]memoryPoint, error) {
	r, err := newRunner(ctx, p, host.Config{})
	if err != nil {
		return nil, err
	}
	defer r.close(ctx)
	var out []memoryPoint
	done := 0
	for _, c := range checkpoints {
		if _, _, _, err := r.serveN(ctx, c-done); err != nil {
			return nil, err
		}
		done = c
		out = append(out, memoryPoint{requests: c, bytes: r.vm.MemoryBytes()})
	}
	return out, nil
}
