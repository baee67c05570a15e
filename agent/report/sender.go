package report

import (
	"context"
	"errors"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/seed44533760/pact/agent/wire"
)

// qos is the quality of service of a kind: readings are telemetry, sent at
// QoS 0; states (like the will) and Home Assistant's configurations (as its
// documentation asks) at QoS 1; the rest at Config.QoS.
func (r *Reporter) qos(k wire.Kind) byte {
	switch k {
	case wire.KindReadings:
		return 0
	case wire.KindState, kindDiscovery:
		return 1
	}
	return r.cfg.QoS
}

// sendDirect publishes best-effort messages one at a time. A message that
// finds the broker away, or is not acknowledged in PublishTimeout, is
// dropped and counted: states and capabilities are published again at the
// next birth, readings are soon stale, and what must not be lost goes
// through the outbox.
func (r *Reporter) sendDirect() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case m := <-r.direct:
			if !r.client.IsConnectionOpen() {
				r.c.dropped.Add(1)
				r.log.Debug("broker away; dropped", "topic", m.topic)
				continue
			}
			r.publishNow(m)
		}
	}
}

// publishNow publishes one best-effort message and waits, within
// PublishTimeout, for the broker to take it; it counts the result.
func (r *Reporter) publishNow(m message) {
	err := wait(r.ctx, r.client.Publish(m.topic, r.qos(m.kind), retained(m.kind), m.payload), r.cfg.PublishTimeout)
	if err != nil {
		r.c.dropped.Add(1)
		r.log.Debug("publish failed; dropped", "topic", m.topic, "err", err)
		return
	}
	r.c.published.Add(1)
}

// errNotConnected: the outbox waits for the next connection.
var errNotConnected = errors.New("not connected")

// sendOutbox owns the outbox's sending side: it publishes the waiting
// messages oldest first whenever it is woken (a new message, a new
// connection) and retries after failures. It is the only goroutine that
// publishes outbox messages, so nothing is sent twice at once.
func (r *Reporter) sendOutbox() {
	defer r.wg.Done()
	if r.cfg.Outbox == nil {
		return
	}
	var retry <-chan time.Time
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.kick:
		case <-retry:
		}
		retry = nil
		switch err := r.drain(r.ctx); {
		case err == nil:
		case r.ctx.Err() != nil:
			return
		default:
			if !errors.Is(err, errNotConnected) {
				r.log.Warn("outbox: not all sent; retrying", "err", err, "pending", r.cfg.Outbox.Len())
			}
			// OnConnect wakes the sender too; the timer covers the rest
			// (a broker that stopped acknowledging, a store error).
			retry = time.After(r.cfg.ConnectRetryInterval)
		}
	}
}

// inflight is an outbox message published and not yet acknowledged.
type inflight struct {
	seq   uint64
	topic string
	tok   mqtt.Token
}

// drain publishes every waiting message, Window at a time: a window is
// published back to back (paho writes it in order on the one connection),
// then its acknowledgements are awaited and removed from the outbox in one
// transaction. A message is removed only after its PUBACK; anything not
// acknowledged stays, and the next drain starts again from the oldest, so a
// message may be delivered twice but never lost.
func (r *Reporter) drain(ctx context.Context) error {
	if !r.client.IsConnectionOpen() {
		return errNotConnected
	}
	window := make([]inflight, 0, r.cfg.Window)
	for m, err := range r.cfg.Outbox.Pending() {
		if err != nil {
			return errors.Join(err, r.settle(ctx, window))
		}
		if ctx.Err() != nil || !r.client.IsConnectionOpen() {
			return errors.Join(errNotConnected, r.settle(ctx, window))
		}
		if m.Seq <= r.highestSent {
			r.c.resent.Add(1)
		} else {
			r.highestSent = m.Seq
		}
		kind := wire.Kind("")
		if t, err := wire.ParseTopic(m.Topic); err == nil {
			kind = t.Kind
		}
		tok := r.client.Publish(m.Topic, r.qos(kind), kind.Retained(), m.Payload)
		window = append(window, inflight{m.Seq, m.Topic, tok})
		if len(window) == cap(window) {
			if err := r.settle(ctx, window); err != nil {
				return err
			}
			window = window[:0]
		}
	}
	return r.settle(ctx, window)
}

// settle waits, for at most PublishTimeout, for the window's
// acknowledgements, and removes the acknowledged messages from the outbox.
func (r *Reporter) settle(ctx context.Context, window []inflight) error {
	if len(window) == 0 {
		return nil
	}
	timer := time.NewTimer(r.cfg.PublishTimeout)
	defer timer.Stop()
	acked := make([]uint64, 0, len(window))
	var failed error
	expired := false
	for _, f := range window {
		if !expired {
			select {
			case <-f.tok.Done():
			case <-timer.C:
				expired = true
			case <-ctx.Done():
				expired = true
			}
		}
		select {
		case <-f.tok.Done():
			if err := f.tok.Error(); err != nil {
				failed = err
				continue
			}
			acked = append(acked, f.seq)
		default:
			failed = errTimeout
		}
	}
	if len(acked) > 0 {
		if err := r.cfg.Outbox.Ack(acked...); err != nil {
			r.c.outboxErr.Add(1)
			return err
		}
		r.c.delivered.Add(uint64(len(acked)))
	}
	return failed
}

// flush waits, within ctx, until the outbox and the best-effort queue are
// empty, while the broker is reachable.
func (r *Reporter) flush(ctx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if !r.client.IsConnectionOpen() {
			return
		}
		if (r.cfg.Outbox == nil || r.cfg.Outbox.Len() == 0) && len(r.direct) == 0 {
			return
		}
		r.wake()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
