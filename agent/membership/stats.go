package membership

import (
	"errors"
	"sync/atomic"
)

// Stats counts what the membership did and refused. The agent exports them
// as metrics.
type Stats struct {
	// JoinAttempts counts attempts to join through seeds or mDNS answers;
	// JoinFailures those in which no node answered.
	JoinAttempts, JoinFailures uint64

	// Refused* count peers the gate or the meta check refused, by reason:
	// once per alive message refused, so a refused node that keeps
	// gossiping keeps counting.
	RefusedEjected  uint64
	RefusedWrongKey uint64
	RefusedBadMeta  uint64
	RefusedOther    uint64
	// MergesRefused counts joins cancelled because the joining side listed
	// a refused node.
	MergesRefused uint64
	// Hidden counts members that RecheckGate took out of the member list.
	Hidden uint64

	// Suspicions counts peers this node's own probes found unresponsive.
	Suspicions uint64
	// Refutations counts the times peers suspected or declared this node
	// dead while it was running, and it refuted. On a healthy node this is
	// the count of false suspicions against it.
	Refutations uint64

	// MessagesReceived counts user messages handed to OnMessage;
	// MessagesDropped those that arrived before Start or without an
	// OnMessage.
	MessagesReceived, MessagesDropped uint64

	// MDNSQueries counts mDNS queries sent; MDNSFound the answers for this
	// cluster naming a node that was not yet a member.
	MDNSQueries, MDNSFound uint64
}

// counters is the live, atomically updated form of Stats.
type counters struct {
	joinAttempts, joinFailures        atomic.Uint64
	refusedEjected, refusedWrongKey   atomic.Uint64
	refusedBadMeta, refusedOther      atomic.Uint64
	mergesRefused, hidden             atomic.Uint64
	suspicions, refutations           atomic.Uint64
	messagesReceived, messagesDropped atomic.Uint64
	mdnsQueries, mdnsFound            atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		JoinAttempts:     c.joinAttempts.Load(),
		JoinFailures:     c.joinFailures.Load(),
		RefusedEjected:   c.refusedEjected.Load(),
		RefusedWrongKey:  c.refusedWrongKey.Load(),
		RefusedBadMeta:   c.refusedBadMeta.Load(),
		RefusedOther:     c.refusedOther.Load(),
		MergesRefused:    c.mergesRefused.Load(),
		Hidden:           c.hidden.Load(),
		Suspicions:       c.suspicions.Load(),
		Refutations:      c.refutations.Load(),
		MessagesReceived: c.messagesReceived.Load(),
		MessagesDropped:  c.messagesDropped.Load(),
		MDNSQueries:      c.mdnsQueries.Load(),
		MDNSFound:        c.mdnsFound.Load(),
	}
}

// countRefusal files a refusal under its reason.
func (c *counters) countRefusal(err error) {
	switch {
	case errors.Is(err, ErrEjected):
		c.refusedEjected.Add(1)
	case errors.Is(err, ErrWrongKey):
		c.refusedWrongKey.Add(1)
	case errors.Is(err, ErrBadMeta):
		c.refusedBadMeta.Add(1)
	default:
		c.refusedOther.Add(1)
	}
}
