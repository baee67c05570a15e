package membership

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// hooks implements memberlist's delegates for a Membership. They run on
// memberlist's goroutines, often with its node lock held: each one only
// touches the view, the counters and the callbacks, never the Memberlist.
type hooks struct{ m *Membership }

var (
	_ memberlist.Delegate      = hooks{}
	_ memberlist.EventDelegate = hooks{}
	_ memberlist.AliveDelegate = hooks{}
	_ memberlist.MergeDelegate = hooks{}
	_ memberlist.PingDelegate  = hooks{}
)

// NodeMeta returns the meta New or UpdateMeta prepared; it never calls
// Config.Meta, so a misbehaving Meta cannot make memberlist panic.
func (h hooks) NodeMeta(limit int) []byte {
	meta := *h.m.meta.Load()
	if len(meta) > limit { // cannot happen: checked when stored
		return nil
	}
	return meta
}

// NotifyMsg hands a user message to OnMessage.
func (h hooks) NotifyMsg(b []byte) {
	if !h.m.started.Load() || h.m.cfg.OnMessage == nil {
		h.m.stats.messagesDropped.Add(1)
		return
	}
	h.m.stats.messagesReceived.Add(1)
	h.m.cfg.OnMessage(slices.Clone(b))
}

// GetBroadcasts: pact sends nothing through memberlist's gossip queue.
func (hooks) GetBroadcasts(overhead, limit int) [][]byte { return nil }

// LocalState: no application state rides on push/pull.
func (hooks) LocalState(join bool) []byte { return nil }

// MergeRemoteState: see LocalState.
func (hooks) MergeRemoteState(buf []byte, join bool) {}

// NotifyAlive is where unwanted peers are kept out: a node whose meta is not
// pact's, or that the gate refuses, is never added and never updated.
func (h hooks) NotifyAlive(peer *memberlist.Node) error {
	if peer.Name == h.m.cfg.Name {
		// memberlist itself refutes anyone else claiming our name.
		return nil
	}
	meta, _, err := decodeMeta(peer.Meta)
	if err == nil {
		err = h.m.allow(peer.Name, meta)
	}
	if err != nil {
		h.m.stats.countRefusal(err)
		h.m.debug("refused alive message", "peer", peer.Name, "addr", hostPort(peer.Addr, peer.Port), "err", err)
		return err
	}
	h.m.admitted(peer.Name)
	return nil
}

// NotifyMerge cancels a join when the other side lists a live node this
// node refuses: either the joiner is that node, or it vouches for it.
func (h hooks) NotifyMerge(peers []*memberlist.Node) error {
	for _, p := range peers {
		if p.Name == h.m.cfg.Name || p.State == memberlist.StateDead || p.State == memberlist.StateLeft {
			continue
		}
		meta, _, err := decodeMeta(p.Meta)
		if err == nil {
			err = h.m.allow(p.Name, meta)
		}
		if err != nil {
			h.m.stats.countRefusal(err)
			h.m.stats.mergesRefused.Add(1)
			h.m.debug("refused merge", "peer", p.Name, "err", err)
			return fmt.Errorf("pact refuses %s: %w", p.Name, err)
		}
	}
	return nil
}

// NotifyJoin: a node became a member, or came back.
func (h hooks) NotifyJoin(n *memberlist.Node) {
	h.m.observe(n, EventJoin)
}

// NotifyUpdate: a member announced new meta (perhaps that it is leaving).
func (h hooks) NotifyUpdate(n *memberlist.Node) {
	h.m.observe(n, EventUpdate)
}

// NotifyLeave: a member failed or left. memberlist does not say which; the
// leaving flag in its last meta does.
func (h hooks) NotifyLeave(n *memberlist.Node) {
	h.m.observe(n, EventDead)
}

// AckPayload: probes carry nothing extra.
func (hooks) AckPayload() []byte { return nil }

// NotifyPingComplete: a member answered one of this node's probes, so it is
// not suspect from here any more.
func (h hooks) NotifyPingComplete(other *memberlist.Node, rtt time.Duration, payload []byte) {
	h.m.setState(other.Name, StateAlive, EventAlive, StateSuspect)
}

// observe records a join, update or departure and reports it.
func (m *Membership) observe(n *memberlist.Node, kind EventType) {
	meta, leaving, err := decodeMeta(n.Meta)
	if err != nil && n.Name != m.cfg.Name {
		// NotifyAlive refuses such nodes, so this is memberlist reporting a
		// departure of a node it knew before the header was checked.
		m.debug("member with malformed meta", "peer", n.Name, "err", err)
	}
	now := time.Now()
	m.evMu.Lock()
	defer m.evMu.Unlock()
	mem, _, _ := m.view.update(n.Name, true, func(e *entry) bool {
		e.ip, e.port = n.Addr, n.Port
		e.Addr = hostPort(n.Addr, n.Port)
		switch kind {
		case EventJoin, EventUpdate:
			e.Meta, e.leaving = meta, leaving
			e.setState(StateAlive, now)
		case EventDead:
			if e.leaving {
				kind = EventLeft
				e.setState(StateLeft, now)
			} else {
				e.setState(StateDead, now)
			}
		}
		return true
	})
	m.emit(kind, mem)
	if kind == EventDead || kind == EventLeft {
		m.view.prune(now)
	}
}

// setState moves a member to state s if it is in one of from, and reports
// the change as kind.
func (m *Membership) setState(name string, s State, kind EventType, from ...State) {
	now := time.Now()
	m.evMu.Lock()
	defer m.evMu.Unlock()
	mem, changed, ok := m.view.update(name, false, func(e *entry) bool {
		if !slices.Contains(from, e.State) {
			return false
		}
		return e.setState(s, now)
	})
	if ok && changed {
		m.emit(kind, mem)
	}
}

// admitted updates a member whose alive message the gate let through: one
// the gate refused earlier becomes visible again, and one this node
// suspected is alive again — such a message is most often the member's
// refutation of the suspicion. (memberlist may still ignore the message as
// stale; then its own suspicion runs on and ends in NotifyLeave, and the view
// follows.)
func (m *Membership) admitted(name string) {
	now := time.Now()
	m.evMu.Lock()
	defer m.evMu.Unlock()
	var unhidden, revived bool
	mem, _, ok := m.view.update(name, false, func(e *entry) bool {
		unhidden, e.hidden = e.hidden, false
		if e.State == StateSuspect {
			revived = e.setState(StateAlive, now)
		}
		return unhidden || revived
	})
	switch {
	case !ok:
	case unhidden && mem.State.Reachable():
		m.emit(EventJoin, mem)
	case revived:
		m.emit(EventAlive, mem)
	}
}

// emit calls OnEvent; the caller holds evMu, so calls never overlap.
func (m *Membership) emit(kind EventType, mem Member) {
	if m.cfg.OnEvent != nil && mem.Name != "" {
		m.cfg.OnEvent(Event{Type: kind, Member: mem})
	}
}

// allow asks the gate.
func (m *Membership) allow(name string, meta []byte) error {
	if m.cfg.Gate == nil {
		return nil
	}
	return m.cfg.Gate.Allow(name, meta)
}

// observeLog picks out of memberlist's log what its API does not expose:
// this node's own suspicions and its refutations of suspicions against it.
func (m *Membership) observeLog(msg string) {
	const suspectPrefix, suspectSuffix = "Suspect ", " has failed, no acks received"
	switch {
	case strings.HasPrefix(msg, suspectPrefix) && strings.HasSuffix(msg, suspectSuffix):
		name := strings.TrimSuffix(strings.TrimPrefix(msg, suspectPrefix), suspectSuffix)
		m.stats.suspicions.Add(1)
		m.setState(name, StateSuspect, EventSuspect, StateAlive)
	case strings.HasPrefix(msg, "Refuting a suspect message"),
		strings.HasPrefix(msg, "Refuting a dead message"):
		m.stats.refutations.Add(1)
	}
}
