package transport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
)

// MemoryNetwork connects MemoryLinks inside one process: the in-memory twin
// of memberlist for the agent's tests. Delivery is synchronous — Send calls
// the receiver's function before it returns — so the order of delivery
// between two links is the order of the sends, and a test that sends from
// one goroutine is deterministic. Faults are explicit: Cut and Partition
// stop traffic (best-effort sends vanish, reliable ones fail), SetLoss drops
// a seeded fraction of best-effort sends.
type MemoryNetwork struct {
	mu    sync.Mutex
	links map[string]*MemoryLink
	cut   map[[2]string]bool // directed: from, to
	loss  float64
	rng   *rand.Rand
	limit int
}

// NewMemoryNetwork returns an empty network whose best-effort limit is
// 1400 bytes, like a memberlist UDP packet.
func NewMemoryNetwork() *MemoryNetwork {
	return &MemoryNetwork{
		links: make(map[string]*MemoryLink),
		cut:   make(map[[2]string]bool),
		limit: 1400,
	}
}

// Join adds a node. receive gets every payload sent to it (a copy it may
// keep), called from the sender's goroutine. It panics if name is taken:
// tests should not reuse names by accident.
func (n *MemoryNetwork) Join(name string, receive func(payload []byte)) *MemoryLink {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.links[name]; ok {
		panic(fmt.Sprintf("transport: memory link %q joined twice", name))
	}
	l := &MemoryLink{net: n, name: name, receive: receive}
	n.links[name] = l
	return l
}

// Cut stops traffic from one node to another (one direction).
func (n *MemoryNetwork) Cut(from, to string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut[[2]string{from, to}] = true
}

// Partition cuts every pair of nodes that are not in the same group. Nodes
// in no group are cut from everyone.
func (n *MemoryNetwork) Partition(groups ...[]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	group := make(map[string]int)
	for i, g := range groups {
		for _, name := range g {
			group[name] = i + 1
		}
	}
	for a := range n.links {
		for b := range n.links {
			if a != b && (group[a] == 0 || group[a] != group[b]) {
				n.cut[[2]string{a, b}] = true
			}
		}
	}
}

// Heal removes every cut.
func (n *MemoryNetwork) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.cut)
}

// SetLoss makes a fraction p of best-effort sends vanish, chosen by a
// generator seeded with seed so a failing test can be replayed.
func (n *MemoryNetwork) SetLoss(p float64, seed uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.loss = p
	n.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// SetBestEffortLimit changes the largest best-effort payload.
func (n *MemoryNetwork) SetBestEffortLimit(limit int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.limit = limit
}

// route returns the receiver of a send, or why there is none.
func (n *MemoryNetwork) route(from, to string, bestEffort bool, size int) (func([]byte), bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := n.links[from]; l == nil || l.closed {
		return nil, false, ErrClosed
	}
	if bestEffort && size > n.limit {
		return nil, false, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, size, n.limit)
	}
	dst := n.links[to]
	if dst == nil || dst.closed || n.cut[[2]string{from, to}] {
		return nil, false, fmt.Errorf("%w: %s to %s", ErrUnreachable, from, to)
	}
	if bestEffort && n.loss > 0 && n.rng.Float64() < n.loss {
		return nil, true, nil
	}
	return dst.receive, false, nil
}

// MemoryLink is one node's Link on a MemoryNetwork.
type MemoryLink struct {
	net     *MemoryNetwork
	name    string
	receive func([]byte)
	closed  bool // guarded by net.mu

	// deliver serializes this link's sends, so that two goroutines sending
	// from one link cannot reorder a pair's deliveries mid-call.
	deliver sync.Mutex
}

var _ Link = (*MemoryLink)(nil)

// Name is the node's name.
func (l *MemoryLink) Name() string { return l.name }

// SendBestEffort delivers payload unless the pair is cut, the receiver is
// gone or the loss dice say no; those cases return nil, as UDP would.
func (l *MemoryLink) SendBestEffort(to string, payload []byte) error {
	recv, _, err := l.net.route(l.name, to, true, len(payload))
	if err != nil {
		if errors.Is(err, ErrUnreachable) {
			return nil
		}
		return err
	}
	if recv != nil {
		l.deliver.Lock()
		defer l.deliver.Unlock()
		recv(slices.Clone(payload))
	}
	return nil
}

// SendReliable delivers payload or returns ErrUnreachable.
func (l *MemoryLink) SendReliable(to string, payload []byte) error {
	recv, _, err := l.net.route(l.name, to, false, len(payload))
	if err != nil {
		return err
	}
	l.deliver.Lock()
	defer l.deliver.Unlock()
	recv(slices.Clone(payload))
	return nil
}

// Peers lists the other open links, sorted. Cuts do not hide peers: like
// memberlist before it notices a failure, the link still lists them.
func (l *MemoryLink) Peers() []string {
	l.net.mu.Lock()
	defer l.net.mu.Unlock()
	var out []string
	for name, p := range l.net.links {
		if name != l.name && !p.closed {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// BestEffortLimit is the network's best-effort limit.
func (l *MemoryLink) BestEffortLimit() int {
	l.net.mu.Lock()
	defer l.net.mu.Unlock()
	return l.net.limit
}

// Close takes the link off the network; sends to and from it fail.
func (l *MemoryLink) Close() {
	l.net.mu.Lock()
	defer l.net.mu.Unlock()
	l.closed = true
}
