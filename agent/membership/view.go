package membership

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// view is this node's picture of the cluster, kept from memberlist's events.
// memberlist's own Members() lists only live nodes and does not expose their
// state, so the view is where suspect, dead and left live.
type view struct {
	mu      sync.Mutex
	members map[string]*entry
}

type entry struct {
	Member
	ip      net.IP
	port    uint16
	leaving bool // its meta announced a departure
	hidden  bool // the gate refused it after it became a member
}

func newView() *view { return &view{members: make(map[string]*entry)} }

// update applies f to the entry for name (creating it when create is set)
// and returns a copy of the result, whether anything changed, and whether the
// entry exists.
func (v *view) update(name string, create bool, f func(e *entry) bool) (Member, bool, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.members[name]
	if !ok {
		if !create {
			return Member{}, false, false
		}
		e = &entry{Member: Member{Name: name}}
		v.members[name] = e
	}
	changed := f(e)
	return e.copy(), changed, true
}

func (e *entry) copy() Member {
	m := e.Member
	m.Meta = slices.Clone(e.Meta)
	return m
}

func (e *entry) setState(s State, now time.Time) bool {
	if e.State == s {
		return false
	}
	e.State, e.Since = s, now
	return true
}

// list returns the visible members, sorted by name.
func (v *view) list() []Member {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Member, 0, len(v.members))
	for _, e := range v.members {
		if !e.hidden {
			out = append(out, e.copy())
		}
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Departed members (dead or left) stay listed so an operator can see them,
// but not forever and not without bound: a holder of the gossip key could
// otherwise fill memory with invented names that join and die.
const (
	departedRetention = time.Hour
	maxDeparted       = 256
)

// prune forgets departed members older than departedRetention, and the
// oldest ones beyond maxDeparted.
func (v *view) prune(now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var departed []*entry
	for name, e := range v.members {
		if e.State.Reachable() {
			continue
		}
		if now.Sub(e.Since) > departedRetention {
			delete(v.members, name)
			continue
		}
		departed = append(departed, e)
	}
	if len(departed) <= maxDeparted {
		return
	}
	slices.SortFunc(departed, func(a, b *entry) int { return a.Since.Compare(b.Since) })
	for _, e := range departed[:len(departed)-maxDeparted] {
		delete(v.members, e.Name)
	}
}

// get returns a visible member.
func (v *view) get(name string) (Member, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.members[name]
	if !ok || e.hidden {
		return Member{}, false
	}
	return e.copy(), true
}

// addr returns where to reach a visible, reachable member.
func (v *view) addr(name string) (net.IP, uint16, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.members[name]
	if !ok || e.hidden || !e.State.Reachable() {
		return nil, 0, false
	}
	return e.ip, e.port, true
}

// deadAddrs returns where the visible members the cluster declared dead were
// last reached, sorted: what the join loop knocks on again, since memberlist
// never probes a dead member and a partition that healed would otherwise
// leave both sides dead to each other until one of them gossips first.
// Members that left on purpose are not knocked on.
func (v *view) deadAddrs() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for _, e := range v.members {
		if !e.hidden && e.State == StateDead && e.ip != nil && e.port != 0 {
			out = append(out, net.JoinHostPort(e.ip.String(), strconv.Itoa(int(e.port))))
		}
	}
	slices.Sort(out)
	return out
}

// peers returns the names of visible, reachable members other than self.
func (v *view) peers(self string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for name, e := range v.members {
		if name != self && !e.hidden && e.State.Reachable() {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// hostPort formats an address the way memberlist does.
func hostPort(ip net.IP, port uint16) string {
	return net.JoinHostPort(ip.String(), strconv.Itoa(int(port)))
}
