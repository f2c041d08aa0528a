package host

import "sync"

// sharedData is the proxy-wide key-value store of proxy_get_shared_data and
// proxy_set_shared_data, shared by every VM of a Host. Each value carries a
// CAS token that changes on every write.
type sharedData struct {
	mu      sync.Mutex
	values  map[string]sharedValue
	lastCas uint32
}

type sharedValue struct {
	data []byte
	cas  uint32
}

func (d *sharedData) get(key string) ([]byte, uint32, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.values[key]
	return v.data, v.cas, ok
}

// set stores data at key unless cas is non-zero and no longer the key's
// token, as Envoy does: a CAS of 0 writes unconditionally, and so does any
// CAS on a key that does not exist yet.
func (d *sharedData) set(key string, data []byte, cas uint32) status {
	d.mu.Lock()
	defer d.mu.Unlock()
	if v, ok := d.values[key]; ok && cas != 0 && cas != v.cas {
		return statusCasMismatch
	}
	if d.values == nil {
		d.values = map[string]sharedValue{}
	}
	d.lastCas++
	if d.lastCas == 0 {
		d.lastCas = 1 // 0 means "no CAS"
	}
	d.values[key] = sharedValue{data: append([]byte(nil), data...), cas: d.lastCas}
	return statusOK
}

// queues are the shared queues of a Host. A queue is registered by a VM's
// root context, which proxy_on_queue_ready notifies of each enqueued item;
// any VM can resolve it by name and enqueue.
type queues struct {
	mu     sync.Mutex
	byName map[string]uint32
	byID   map[uint32]*queue
}

type queue struct {
	items [][]byte
	// The registering VM and root context, notified on enqueue.
	vm   *VM
	root uint32
}

// register returns the queue called name, creating it; the caller becomes
// the context notified of new items (the last to register wins).
func (q *queues) register(name string, vm *VM, root uint32) uint32 {
	q.mu.Lock()
	defer q.mu.Unlock()
	id, ok := q.byName[name]
	if !ok {
		if q.byName == nil {
			q.byName, q.byID = map[string]uint32{}, map[uint32]*queue{}
		}
		id = uint32(len(q.byName) + 1)
		q.byName[name] = id
		q.byID[id] = &queue{}
	}
	q.byID[id].vm, q.byID[id].root = vm, root
	return id
}

func (q *queues) resolve(name string) (uint32, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	id, ok := q.byName[name]
	return id, ok
}

// enqueue appends data to queue id and returns whom to notify.
func (q *queues) enqueue(id uint32, data []byte) (note queueNote, st status) {
	q.mu.Lock()
	defer q.mu.Unlock()
	qu, ok := q.byID[id]
	if !ok {
		return queueNote{}, statusNotFound
	}
	qu.items = append(qu.items, append([]byte(nil), data...))
	return queueNote{vm: qu.vm, root: qu.root, id: id}, statusOK
}

func (q *queues) dequeue(id uint32) ([]byte, status) {
	q.mu.Lock()
	defer q.mu.Unlock()
	qu, ok := q.byID[id]
	if !ok {
		return nil, statusNotFound
	}
	if len(qu.items) == 0 {
		return nil, statusEmpty
	}
	item := qu.items[0]
	qu.items[0] = nil
	qu.items = qu.items[1:]
	return item, statusOK
}

// queueNote is a proxy_on_queue_ready call owed to a VM.
type queueNote struct {
	vm       *VM
	root, id uint32
}
