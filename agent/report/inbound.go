package report

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

// InboundRequest is a request that decoded and passed the signature check,
// ready for the agent's loop.
type InboundRequest struct {
	Request *wire.Request
	// Operator names the operator whose key signed it; "" for an unsigned
	// request the cluster allows.
	Operator string
	// Received is when the reporter got it, by Config.Now.
	Received time.Time
}

// inbound turns messages on requests/+ into InboundRequests. It runs on
// paho's delivery goroutines and must not block (paho#453: a handler that
// blocks starves the keepalive): it decodes, verifies (one Ed25519
// verification, tens of microseconds), and hands off with a send that never
// waits. Everything it refuses is counted and answered on errors.
type inbound struct {
	enc           encoder
	operators     map[string]ed25519.PublicKey
	allowUnsigned bool
	c             *counters
	log           func(msg string, args ...any)
	// reply publishes an error report; it must not block either.
	reply func(message)

	mu     sync.RWMutex // held for reading while sending on ch; Close takes it to close ch
	ch     chan InboundRequest
	closed bool
}

func newInbound(enc encoder, operators map[string]ed25519.PublicKey, allowUnsigned bool, buffer int, c *counters) *inbound {
	return &inbound{
		enc:           enc,
		operators:     operators,
		allowUnsigned: allowUnsigned,
		c:             c,
		log:           func(string, ...any) {},
		reply:         func(message) {},
		ch:            make(chan InboundRequest, buffer),
	}
}

// handle takes one message from the broker.
func (in *inbound) handle(topic string, payload []byte) {
	in.c.reqReceived.Add(1)
	refuse := func(counter interface{ Add(uint64) uint64 }, requestID string, err error) {
		counter.Add(1)
		in.log("request refused", "topic", topic, "request_id", requestID, "err", err)
		in.reply(in.enc.errorReport(requestID, topic, err.Error()))
	}
	t, err := wire.ParseTopic(topic)
	switch {
	case err != nil:
		refuse(&in.c.reqMalformed, "", err)
		return
	case t.Kind != wire.KindRequest || t.Cluster != in.enc.cluster:
		refuse(&in.c.reqMalformed, "", fmt.Errorf("%w: %s is not a request topic of cluster %s", ErrMalformed, topic, in.enc.cluster))
		return
	}
	req, err := wire.DecodeRequest(payload)
	if err != nil {
		id := ""
		if req != nil {
			id = req.ID
		}
		refuse(&in.c.reqMalformed, id, err)
		return
	}
	if req.Action != t.Action {
		refuse(&in.c.reqMalformed, req.ID, fmt.Errorf("%w: request for action %q published on %s", ErrMalformed, req.Action, topic))
		return
	}
	operator, err := wire.VerifyRequestBy(in.enc.cluster, req, in.operators, in.allowUnsigned)
	if err != nil {
		refuse(&in.c.reqRefused, req.ID, err)
		return
	}
	in.mu.RLock()
	defer in.mu.RUnlock()
	if in.closed {
		return
	}
	select {
	case in.ch <- InboundRequest{Request: req, Operator: operator, Received: in.enc.now()}:
		in.c.reqDelivered.Add(1)
	default:
		refuse(&in.c.reqDropped, req.ID, errBusy)
	}
}

var errBusy = errors.New("request dropped: the node's request queue is full, try again later")

// close closes the channel; later messages are ignored.
func (in *inbound) close() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.closed {
		in.closed = true
		close(in.ch)
	}
}
