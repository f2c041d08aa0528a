package host

import (
	"context"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// wasiCounter counts WASI calls per VM (Config.CountWASI): wazero calls it
// around every function of the WASI module, while the calling VM holds its
// lock.
type wasiCounter struct{}

func (wasiCounter) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	return wasiCall(def.Name())
}

type wasiCall string

func (c wasiCall) Before(ctx context.Context, _ api.Module, _ api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
	if vm, ok := ctx.Value(vmKey{}).(*VM); ok {
		vm.wasiCalls[string(c)]++
	}
}

func (wasiCall) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}

func (wasiCall) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}
