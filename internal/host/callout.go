package host

import (
	"context"
	"sync"
	"time"
)

// Callout is an HTTP call the plugin makes with proxy_http_call.
type Callout struct {
	// Cluster is the upstream cluster the plugin named.
	Cluster string
	// Headers include :method, :path and :authority.
	Headers  [][2]string
	Body     []byte
	Trailers [][2]string
	// Timeout is the plugin's timeout; Config.HTTPCall gets a context that
	// ends then. Zero means none.
	Timeout time.Duration
}

// CalloutResponse is the answer to a Callout. Headers include :status.
type CalloutResponse struct {
	Headers  [][2]string
	Body     []byte
	Trailers [][2]string
}

// callout is a Callout the plugin started, waiting to be made.
type callout struct {
	id  uint32
	req Callout
}

// work is what a callback leaves to do once it has returned: callouts to
// make and queue notifications to deliver.
type work struct {
	callouts []*callout
	notes    []queueNote
}

// takeWork returns the work left so far; the caller holds mu.
func (vm *VM) takeWork() work {
	w := vm.pending
	vm.pending = work{}
	return w
}

// run does w without holding the VM's lock: it delivers the queue
// notifications, makes the callouts concurrently, and delivers their answers
// in the order the plugin made the calls. It returns a trap of this VM.
func (vm *VM) run(ctx context.Context, w work) error {
	for _, n := range w.notes {
		// A trap there fails the notified VM, not this stream.
		n.vm.call(ctx, nil, n.vm.fn.queueReady, uint64(n.root), uint64(n.id))
	}
	if len(w.callouts) == 0 {
		return nil
	}
	answers := make([]*CalloutResponse, len(w.callouts))
	var wg sync.WaitGroup
	for i, c := range w.callouts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = vm.host.callout(ctx, c.req)
		}()
	}
	wg.Wait()
	for i, c := range w.callouts {
		if err := vm.deliver(ctx, c, answers[i]); err != nil {
			return err
		}
	}
	return nil
}

// callout makes one call; nil means it failed (reset, timeout).
func (h *Host) callout(ctx context.Context, c Callout) *CalloutResponse {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	resp, err := h.cfg.HTTPCall(ctx, c)
	if err != nil {
		if h.cfg.Log != nil {
			h.cfg.Log(LogWarn, "host: callout to cluster "+c.Cluster+" failed: "+err.Error())
		}
		return nil
	}
	return resp
}

// deliver calls proxy_on_http_call_response with answer (nil: the call
// failed, which the plugin sees as a response without headers).
func (vm *VM) deliver(ctx context.Context, c *callout, answer *CalloutResponse) error {
	var headers, size, trailers int
	if answer != nil {
		headers, size, trailers = len(answer.Headers), len(answer.Body), len(answer.Trailers)
	}
	vm.mu.Lock()
	vm.answer = answer
	_, err := vm.invoke(vm.fn.httpCallResponse, uint64(vm.root), uint64(c.id), uint64(headers), uint64(size), uint64(trailers))
	vm.answer, vm.cur = nil, nil
	w := vm.takeWork()
	vm.mu.Unlock()
	if err != nil {
		return err
	}
	return vm.run(ctx, w)
}
