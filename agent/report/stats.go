package report

import "sync/atomic"

// Stats counts what the reporter sent and received, and what it dropped, by
// reason. The agent exports them as metrics.
type Stats struct {
	// Connected says whether the broker connection is up now. BDSeq is the
	// birth/death sequence number of the current (or next) connection.
	Connected bool
	BDSeq     uint64
	// Connects counts connections made (births published); ConnectionsLost
	// those that ended without Close.
	Connects, ConnectionsLost uint64

	// Queued counts messages written to the outbox; Delivered those the
	// broker acknowledged and that were then removed from it. Resent counts
	// outbox messages published again after an unacknowledged attempt (a
	// subscriber may see those twice). OutboxErrors counts failed outbox
	// writes (the publish call returned the error); Pending is how many
	// messages wait in the outbox now.
	Queued, Delivered, Resent, OutboxErrors uint64
	Pending                                 int

	// Published counts best-effort messages (states, capabilities,
	// readings, errors, and durable kinds without an outbox) the broker
	// took; Dropped those given up: queue full, broker down, or no
	// acknowledgement within PublishTimeout.
	Published, Dropped uint64

	// RequestsReceived counts messages on requests/+; RequestsDelivered
	// those handed to Requests(). RequestsMalformed did not decode (bad
	// JSON, unknown or missing fields, oversized, topic and action
	// disagree); RequestsRefused failed the signature check (forged, unknown
	// operator, another cluster, unsigned); RequestsDropped were valid but
	// Requests() was full. Every one of the last three was answered on
	// errors.
	RequestsReceived, RequestsDelivered                 uint64
	RequestsMalformed, RequestsRefused, RequestsDropped uint64
}

type counters struct {
	connects, connectionsLost            atomic.Uint64
	queued, delivered, resent, outboxErr atomic.Uint64
	published, dropped                   atomic.Uint64
	reqReceived, reqDelivered            atomic.Uint64
	reqMalformed, reqRefused, reqDropped atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Connects:          c.connects.Load(),
		ConnectionsLost:   c.connectionsLost.Load(),
		Queued:            c.queued.Load(),
		Delivered:         c.delivered.Load(),
		Resent:            c.resent.Load(),
		OutboxErrors:      c.outboxErr.Load(),
		Published:         c.published.Load(),
		Dropped:           c.dropped.Load(),
		RequestsReceived:  c.reqReceived.Load(),
		RequestsDelivered: c.reqDelivered.Load(),
		RequestsMalformed: c.reqMalformed.Load(),
		RequestsRefused:   c.reqRefused.Load(),
		RequestsDropped:   c.reqDropped.Load(),
	}
}
