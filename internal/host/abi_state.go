package host

import (
	"strings"
	"time"
)

// proxy_log(level, message, message_size)
func proxyLog(vm *VM, a []uint64) status {
	msg, ok := vm.str(a[1], a[2])
	if !ok {
		return statusInvalidMemoryAccess
	}
	vm.log(LogLevel(u32(a[0])), msg)
	return statusOK
}

// propertyPath turns the ABI's NUL-separated path into the dotted form the
// host's property maps use.
func propertyPath(vm *VM, ptr, size uint64) (string, bool) {
	p, ok := vm.str(ptr, size)
	return strings.ReplaceAll(p, "\x00", "."), ok
}

// proxy_get_property(path, path_size, return_value, return_value_size)
func proxyGetProperty(vm *VM, a []uint64) status {
	path, ok := propertyPath(vm, a[0], a[1])
	if !ok {
		return statusInvalidMemoryAccess
	}
	v, found := vm.property(path)
	if !found {
		return statusNotFound
	}
	return vm.give(v, a[2], a[3])
}

// proxy_set_property(path, path_size, value, value_size) sets a property of
// the current stream, or of the VM from the root context.
func proxySetProperty(vm *VM, a []uint64) status {
	path, ok1 := propertyPath(vm, a[0], a[1])
	value, ok2 := vm.bytes(a[2], a[3])
	if !ok1 || !ok2 {
		return statusInvalidMemoryAccess
	}
	props := &vm.props
	if vm.cur != nil {
		props = &vm.cur.props
	}
	if *props == nil {
		*props = map[string][]byte{}
	}
	(*props)[path] = value
	return statusOK
}

// proxy_get_shared_data(key, key_size, return_value, return_value_size, return_cas)
func proxyGetSharedData(vm *VM, a []uint64) status {
	key, ok := vm.str(a[0], a[1])
	if !ok {
		return statusInvalidMemoryAccess
	}
	value, cas, found := vm.host.shared.get(key)
	if !found {
		return statusNotFound
	}
	if st := vm.give(value, a[2], a[3]); st != statusOK {
		return st
	}
	return vm.putU32(a[4], cas)
}

// proxy_set_shared_data(key, key_size, value, value_size, cas)
func proxySetSharedData(vm *VM, a []uint64) status {
	key, ok1 := vm.str(a[0], a[1])
	value, ok2 := vm.mem.Read(u32(a[2]), u32(a[3]))
	if !ok1 || !ok2 {
		return statusInvalidMemoryAccess
	}
	return vm.host.shared.set(key, value, u32(a[4]))
}

// proxy_register_shared_queue(name, name_size, return_id)
func proxyRegisterSharedQueue(vm *VM, a []uint64) status {
	name, ok := vm.str(a[0], a[1])
	if !ok {
		return statusInvalidMemoryAccess
	}
	return vm.putU32(a[2], vm.host.queues.register(name, vm, vm.root))
}

// proxy_resolve_shared_queue(vm_id, vm_id_size, name, name_size, return_id).
// A Host runs one plugin, so every VM id names the same queues.
func proxyResolveSharedQueue(vm *VM, a []uint64) status {
	name, ok := vm.str(a[2], a[3])
	if !ok {
		return statusInvalidMemoryAccess
	}
	id, found := vm.host.queues.resolve(name)
	if !found {
		return statusNotFound
	}
	return vm.putU32(a[4], id)
}

// proxy_dequeue_shared_queue(queue_id, return_value, return_value_size)
func proxyDequeueSharedQueue(vm *VM, a []uint64) status {
	item, st := vm.host.queues.dequeue(u32(a[0]))
	if st != statusOK {
		return st
	}
	return vm.give(item, a[1], a[2])
}

// proxy_enqueue_shared_queue(queue_id, value, value_size); the registering
// context hears of it (proxy_on_queue_ready) once the callback returns.
func proxyEnqueueSharedQueue(vm *VM, a []uint64) status {
	value, ok := vm.mem.Read(u32(a[1]), u32(a[2]))
	if !ok {
		return statusInvalidMemoryAccess
	}
	note, st := vm.host.queues.enqueue(u32(a[0]), value)
	if st == statusOK && note.vm != nil {
		vm.pending.notes = append(vm.pending.notes, note)
	}
	return st
}

// proxy_call_foreign_function(name, name_size, params, params_size,
// return_results, return_results_size): this host has no foreign functions.
func proxyCallForeignFunction(*VM, []uint64) status { return statusNotFound }

// proxy_set_tick_period_milliseconds(period)
func proxySetTickPeriod(vm *VM, a []uint64) status {
	vm.tickPeriod.Store(int64(time.Duration(u32(a[0])) * time.Millisecond))
	return statusOK
}

// proxy_set_effective_context(context_id) makes the host calls that follow
// apply to that context, as a callout's answer does to resume its stream.
func proxySetEffectiveContext(vm *VM, a []uint64) status {
	id := u32(a[0])
	if id == vm.root {
		vm.cur = nil
		return statusOK
	}
	s, ok := vm.streams[id]
	if !ok {
		return statusBadArgument
	}
	vm.cur = s
	return statusOK
}

// proxy_done(): the plugin finished what it deferred in proxy_on_done;
// nothing waits for it here.
func proxyDone(*VM, []uint64) status { return statusOK }

// proxy_define_metric(type, name, name_size, return_id)
func proxyDefineMetric(vm *VM, a []uint64) status {
	name, ok := vm.str(a[1], a[2])
	if !ok {
		return statusInvalidMemoryAccess
	}
	id, st := vm.host.metrics.define(MetricType(u32(a[0])), name)
	if st != statusOK {
		return st
	}
	return vm.putU32(a[3], id)
}

// proxy_increment_metric(id, offset)
func proxyIncrementMetric(vm *VM, a []uint64) status {
	return vm.host.metrics.increment(u32(a[0]), int64(a[1]))
}

// proxy_record_metric(id, value)
func proxyRecordMetric(vm *VM, a []uint64) status {
	return vm.host.metrics.record(u32(a[0]), a[1])
}

// proxy_get_metric(id, return_value)
func proxyGetMetric(vm *VM, a []uint64) status {
	v, st := vm.host.metrics.get(u32(a[0]))
	if st != statusOK {
		return st
	}
	if !vm.mem.WriteUint64Le(u32(a[1]), v) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}
