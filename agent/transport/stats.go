package transport

import "sync/atomic"

// Stats counts what went through the transport and what was dropped, by
// reason. The agent exports them as metrics.
type Stats struct {
	// Received counts frames handed to Receive; Delivered those that reached
	// the Inbound channel.
	Received, Delivered uint64

	// Malformed: frames or payloads that did not decode.
	Malformed uint64
	// UnknownKind: frames of a kind nobody registered.
	UnknownKind uint64
	// BadSignature: signatures that did not verify under the named sender's
	// current key.
	BadSignature uint64
	// UnknownSender: proposals and votes (and vetted payloads) from a name
	// that is not a validator now. Dropped.
	UnknownSender uint64
	// CandidateStatus: status messages from non-validators, passed on
	// unverified (the core serves them public commits, nothing more).
	CandidateStatus uint64
	// RateLimited: messages over their sender's budget.
	RateLimited uint64
	// Busy: messages dropped because the verification workers were behind.
	Busy uint64
	// InboundFull: verified messages dropped because Inbound was full.
	InboundFull uint64

	// SentBestEffort and SentReliable count frames handed to the link, per
	// peer; SendErrors the sends the link refused or failed.
	SentBestEffort, SentReliable, SendErrors uint64
	// OversizeReliable: votes and statuses too big for one datagram, sent
	// reliably instead.
	OversizeReliable uint64
	// SendQueueFull: reliable frames dropped because the peer's queue was
	// full. SendDropped: reliable frames dropped because they waited past
	// SendTimeout or the peer was unreachable.
	SendQueueFull, SendDropped uint64
}

type counters struct {
	received, delivered                          atomic.Uint64
	malformed, unknownKind, badSignature         atomic.Uint64
	unknownSender, candidateStatus, rateLimited  atomic.Uint64
	busy, inboundFull                            atomic.Uint64
	sentBestEffort, sentReliable, sendErrors     atomic.Uint64
	oversizeReliable, sendQueueFull, sendDropped atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Received:         c.received.Load(),
		Delivered:        c.delivered.Load(),
		Malformed:        c.malformed.Load(),
		UnknownKind:      c.unknownKind.Load(),
		BadSignature:     c.badSignature.Load(),
		UnknownSender:    c.unknownSender.Load(),
		CandidateStatus:  c.candidateStatus.Load(),
		RateLimited:      c.rateLimited.Load(),
		Busy:             c.busy.Load(),
		InboundFull:      c.inboundFull.Load(),
		SentBestEffort:   c.sentBestEffort.Load(),
		SentReliable:     c.sentReliable.Load(),
		SendErrors:       c.sendErrors.Load(),
		OversizeReliable: c.oversizeReliable.Load(),
		SendQueueFull:    c.sendQueueFull.Load(),
		SendDropped:      c.sendDropped.Load(),
	}
}
