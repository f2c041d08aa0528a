package main

import (
	"context"
	"strconv"
	"strings"
)

// What a rule on the JSON body and a rewrite of it cost: the authz
// example's image serving a POST with a 4 KiB JSON body, once with a deny
// rule on a header (the chain reads no body) and once with a deny rule on a
// field of the body (the chain holds the request, reads the body and parses
// it for its readings), and the jsonbody example's image rewriting that body
// with bodymutate (two fields set, one removed), taking turns; the
// allocations per request of each body entry in wasm; and the linear memory
// of a VM serving each at the chain's checkpoints.

// bodySize is the benchmark body's size.
const bodySize = 4 << 10

// bodyRequest is a JSON document of about bodySize bytes whose field
// user.role is "user": an order with enough items to fill it.
func bodyRequest() []byte {
	var b strings.Builder
	b.WriteString(`{"user": {"id": "u-1042", "role": "user", "tenant": "acme"}, "items": [`)
	for i := 0; b.Len() < bodySize-64; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`{"sku": "SKU-` + strconv.Itoa(10000+i) + `", "qty": ` + strconv.Itoa(1+i%5) + `, "note": "gift wrap"}`)
	}
	b.WriteString(`], "currency": "EUR"}`)
	return []byte(b.String())
}

// bodyConfigs are the three configurations: authz with a deny rule on a
// header, authz with one on a body field, neither matching the benchmark
// request, and bodymutate stamping and trimming the body.
var bodyConfigs = [3]string{
	`{"filters": [{"name": "authz", "config": {"rules": [{"action": "deny", "match": {"headers": [{"name": "x-role", "equals": "admin"}]}}], "default": "allow"}}]}`,
	`{"filters": [{"name": "authz", "config": {"rules": [{"action": "deny", "match": {"body": [{"path": "user.role", "equals": "admin"}]}}], "default": "allow"}}]}`,
	`{"filters": [{"name": "bodymutate", "config": {"request": {"set": {"audit.request_id": "%REQUEST_ID%", "audit.via": "gateway"}, "remove": ["currency"]}}}]}`,
}

// bodyLabels name the three entries.
var bodyLabels = [3]string{"authz (header rule, 4 KiB body)", "authz (body rule, 4 KiB body)", "bodymutate (rewrite, 4 KiB body)"}

// bodyPlugins are the entries serving the body request: the authz image
// with the header rule's and the body rule's configuration, and the
// rewrite image with the rewrite's.
func bodyPlugins(authz, rewrite plugin) [3]plugin {
	var out [3]plugin
	for i, label := range bodyLabels {
		p := authz
		if i == 2 {
			p = rewrite
		}
		p.label, p.config, p.body, p.headers = label, []byte(bodyConfigs[i]), bodyRequest(), postJSON("")
		out[i] = p
	}
	return out
}

// bodyCost is what one body entry costs beyond its time.
type bodyCost struct {
	allocs allocStats
	memory []memoryPoint
}

// bodies is the measure's result.
type bodies struct {
	header, body, rewrite float64 // ms per request, medians over the rounds
	rule, rewriting       bodyCost
}

// measureBodies takes the measure on the authz image and the rewrite
// image (the jsonbody example's).
func measureBodies(ctx context.Context, authz, rewrite plugin, checkpoints []int) (bodies, error) {
	ps := bodyPlugins(authz, rewrite)
	samples, err := slowTurns(ctx, ps[:])
	if err != nil {
		return bodies{}, err
	}
	out := bodies{header: median(samples[0]), body: median(samples[1]), rewrite: median(samples[2])}
	for i, c := range []*bodyCost{&out.rule, &out.rewriting} {
		if *c, err = measureCost(ctx, ps[1+i], checkpoints); err != nil {
			return bodies{}, err
		}
	}
	return out, nil
}

// measureCost measures p's allocations per request in wasm and its linear
// memory at the checkpoints.
func measureCost(ctx context.Context, p plugin, checkpoints []int) (c bodyCost, err error) {
	if c.allocs, err = allocsPerRequest(ctx, p, allocRequests); err != nil {
		return c, err
	}
	c.memory, err = measureMemory(ctx, p, checkpoints)
	return c, err
}

// writeBodies is the report's section on it.
func (r *results) writeBodies(w writer) {
	if r.bodies.header == 0 {
		return
	}
	b := r.bodies
	w("## JSON bodies\n\n")
	w("A POST with a %s JSON body through the authz example's image with a deny rule on a request header (the chain reads no body), ", kib(bodySize))
	w("with a deny rule on a field of the body (the chain holds the request until the body is complete, reads it, and parses it once for the readings of every JSON parser), ")
	w("neither matching the request, and through the jsonbody example's image with bodymutate setting two fields and removing one under every reading (the body is checked, edited and replaced, its content-length set), ")
	w("taking turns in %d rounds of %d requests.\n\n", hostileRounds, hostileBatch)
	w("| Entry | Time (ms) | × the header rule | Allocations per request (bytes) | Linear memory |\n|---|---:|---:|---:|---|\n")
	w("| authz, rule on a header | %.3f | 1.00 | | |\n", b.header)
	for _, e := range []struct {
		name string
		ms   float64
		cost bodyCost
	}{{"authz, rule on a body field", b.body, b.rule}, {"bodymutate, rewrite", b.rewrite, b.rewriting}} {
		w("| %s | %.3f | %.2f | %s (%s) | %s |\n", e.name, e.ms, e.ms/b.header, num(e.cost.allocs.mallocs), num(e.cost.allocs.bytes), memoryRange(e.cost.memory))
	}
	w("\nLinear memory is one VM's after the last two checkpoints of the chain's memory measure: flat when the two agree.\n\n")
}

// memoryRange is the linear memory at the last two checkpoints: "9.00 MiB
// after 100,000, 9.00 MiB after 1,000,000".
func memoryRange(ms []memoryPoint) string {
	n := len(ms)
	if n < 2 {
		return ""
	}
	first, last := ms[n-2], ms[n-1]
	return mib(first.bytes) + " after " + count(first.requests) + ", " + mib(last.bytes) + " after " + count(last.requests)
}
