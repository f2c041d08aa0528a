package main

import (
	"context"
	"strconv"
	"strings"
)

// What a rule on the JSON body costs: the authz example's image serving a
// POST with a 4 KiB JSON body, once with a deny rule on a header (the chain
// reads no body) and once with a deny rule on a field of the body (the
// chain holds the request, reads the body and parses it for its readings),
// taking turns; the body rule's allocations per request in wasm; and the
// linear memory of a VM serving the body rule at the chain's checkpoints.

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

// bodyRuleConfigs are the two authz configurations: a deny rule on a
// header, and one on a body field, neither matching the benchmark request.
var bodyRuleConfigs = [2]string{
	`{"filters": [{"name": "authz", "config": {"rules": [{"action": "deny", "match": {"headers": [{"name": "x-role", "equals": "admin"}]}}], "default": "allow"}}]}`,
	`{"filters": [{"name": "authz", "config": {"rules": [{"action": "deny", "match": {"body": [{"path": "user.role", "equals": "admin"}]}}], "default": "allow"}}]}`,
}

// bodyPlugins are the authz image img serving the body request with each
// configuration: the header rule's, then the body rule's.
func bodyPlugins(img plugin) [2]plugin {
	var out [2]plugin
	for i, label := range []string{"authz (header rule, 4 KiB body)", "authz (body rule, 4 KiB body)"} {
		p := img
		p.label, p.config, p.body = label, []byte(bodyRuleConfigs[i]), bodyRequest()
		p.headers = append(append([][2]string(nil), requestHeaders...), [2]string{"content-type", "application/json"})
		for j, h := range p.headers {
			if h[0] == ":method" {
				p.headers[j][1] = "POST"
			}
		}
		out[i] = p
	}
	return out
}

// bodies is the measure's result.
type bodies struct {
	header, body float64 // ms per request, medians over the rounds
	allocs       allocStats
	memory       []memoryPoint
}

// measureBodies takes the measure on the authz image img.
func measureBodies(ctx context.Context, img plugin, checkpoints []int) (bodies, error) {
	ps := bodyPlugins(img)
	samples, err := slowTurns(ctx, ps[:])
	if err != nil {
		return bodies{}, err
	}
	out := bodies{header: median(samples[0]), body: median(samples[1])}
	if out.allocs, err = allocsPerRequest(ctx, ps[1], allocRequests); err != nil {
		return bodies{}, err
	}
	if out.memory, err = measureMemory(ctx, ps[1], checkpoints); err != nil {
		return bodies{}, err
	}
	return out, nil
}

// writeBodies is the report's section on it.
func (r *results) writeBodies(w writer) {
	if r.bodies.header == 0 {
		return
	}
	b := r.bodies
	w("## JSON bodies\n\n")
	w("The authz example's image serving a POST with a %s JSON body, with a deny rule on a request header (the chain reads no body) ", kib(bodySize))
	w("and with a deny rule on a field of the body (the chain holds the request until the body is complete, reads it, and parses it once for the readings of every JSON parser), ")
	w("neither matching the request, taking turns in %d rounds of %d requests.\n\n", hostileRounds, hostileBatch)
	w("| Rule | Time (ms) | × the header rule |\n|---|---:|---:|\n")
	w("| on a header | %.3f | 1.00 |\n| on a body field | %.3f | %.2f |\n\n", b.header, b.body, b.body/b.header)
	w("With the body rule, a request allocates %s times in wasm (%s bytes), the body's parse included. ", num(b.allocs.mallocs), num(b.allocs.bytes))
	if n := len(b.memory); n >= 2 {
		first, last := b.memory[n-2], b.memory[n-1]
		w("One VM serving the body rule has %s of linear memory after %s requests and %s after %s.", mib(first.bytes), count(first.requests), mib(last.bytes), count(last.requests))
	}
	w("\n\n")
}
