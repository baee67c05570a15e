package wire

import "sync"

// Dedup remembers the (action, instance) pairs a subscriber has seen, so
// that outcomes delivered more than once (they are published at least once,
// and retained) are handled once. It forgets the oldest pairs beyond its
// capacity. It is safe for concurrent use.
type Dedup struct {
	mu    sync.Mutex
	seen  map[[2]string]struct{}
	order [][2]string // ring of the pairs in seen, oldest at next
	next  int
}

// NewDedup returns a Dedup that remembers up to capacity pairs (at least 1).
func NewDedup(capacity int) *Dedup {
	capacity = max(capacity, 1)
	return &Dedup{seen: make(map[[2]string]struct{}, capacity), order: make([][2]string, 0, capacity)}
}

// First reports whether (action, instance) is new, and remembers it.
func (d *Dedup) First(action, instance string) bool {
	k := [2]string{action, instance}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.seen[k]; ok {
		return false
	}
	if len(d.order) < cap(d.order) {
		d.order = append(d.order, k)
	} else {
		delete(d.seen, d.order[d.next])
		d.order[d.next] = k
		d.next = (d.next + 1) % len(d.order)
	}
	d.seen[k] = struct{}{}
	return true
}

// Len is how many pairs are remembered.
func (d *Dedup) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}
