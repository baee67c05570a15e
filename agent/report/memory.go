package report

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// Memory is the in-memory twin of Reporter, for the agent's tests: it
// encodes every publication exactly as the Reporter does and keeps it —
// all of them in order, the retained ones by topic — and it takes requests
// through Inject, which decodes, verifies, answers and counts them as the
// Reporter's subscription does. The broker is always there.
type Memory struct {
	enc encoder
	in  *inbound
	c   counters

	mu        sync.Mutex
	published []Published
	retained  map[string][]byte
	disc      []message // Home Assistant configurations published
	closed    bool
}

// Published is one message a Memory was given.
type Published struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// NewMemory returns a Memory for cfg's Cluster, Node, Operators,
// AllowUnsignedRequests, RequestBuffer and Now (the broker settings are
// ignored). It publishes the birth (bdseq 0) at once.
func NewMemory(cfg Config) (*Memory, error) {
	if !config.ValidName(cfg.Cluster) || !config.ValidName(cfg.Node) {
		return nil, &FieldError{Field: "Cluster", Msg: fmt.Sprintf("cluster %q and node %q must be valid names", cfg.Cluster, cfg.Node)}
	}
	m := &Memory{enc: newEncoder(cfg.Cluster, cfg.Node, cfg.Now, cfg.HomeAssistant), retained: map[string][]byte{}}
	m.in = newInbound(m.enc, cfg.Operators, cfg.AllowUnsignedRequests, max(cfg.RequestBuffer, 1), &m.c)
	m.in.reply = func(msg message) { _ = m.put(msg) }
	m.c.connects.Add(1)
	_ = m.put(m.enc.state(wire.StateReady, 0))
	return m, nil
}

func (m *Memory) put(msg message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if len(msg.payload) > wire.MaxPayloadSize {
		return fmt.Errorf("%w: %s payload of %d bytes, the limit is %d", ErrMalformed, msg.kind, len(msg.payload), wire.MaxPayloadSize)
	}
	m.published = append(m.published, Published{msg.topic, msg.payload, retained(msg.kind)})
	switch {
	case retained(msg.kind) && len(msg.payload) == 0:
		delete(m.retained, msg.topic) // as a broker does
	case retained(msg.kind):
		m.retained[msg.topic] = msg.payload
	}
	if msg.kind.Durable() {
		m.c.queued.Add(1)
		m.c.delivered.Add(1)
	} else {
		m.c.published.Add(1)
	}
	return nil
}

// Inject delivers a message as if the broker had, on topic.
func (m *Memory) Inject(topic string, payload []byte) { m.in.handle(topic, payload) }

// Published returns a copy of everything published so far, in order.
func (m *Memory) Published() []Published {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.published)
}

// Retained returns the retained payload of topic.
func (m *Memory) Retained(topic string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.retained[topic]
	return p, ok
}

// PublishCapabilities implements Reports; with Config.HomeAssistant, it
// publishes the discovery configurations too.
func (m *Memory) PublishCapabilities(doc *capability.Document) error {
	msg, err := m.enc.capabilities(doc)
	if err != nil {
		return err
	}
	disc := m.enc.discovery(doc)
	if err := m.put(msg); err != nil {
		return err
	}
	m.mu.Lock()
	old := m.disc
	m.disc = disc
	m.mu.Unlock()
	for _, d := range append(withdrawals(old, disc), disc...) {
		if err := m.put(d); err != nil {
			return err
		}
	}
	return nil
}

// RemoveDiscovery removes the Home Assistant entities published so far, as
// Reporter.RemoveDiscovery does.
func (m *Memory) RemoveDiscovery() error {
	m.mu.Lock()
	old := m.disc
	m.disc = nil
	m.mu.Unlock()
	for _, d := range withdrawals(old, nil) {
		if err := m.put(d); err != nil {
			return err
		}
	}
	return nil
}

// PublishReadings implements Reports.
func (m *Memory) PublishReadings(r *wire.Readings) error {
	msg, err := m.enc.readings(r)
	if err != nil {
		return err
	}
	return m.put(msg)
}

// PublishObservation implements Reports.
func (m *Memory) PublishObservation(o *wire.Observation) error {
	msg, err := m.enc.observation(o)
	if err != nil {
		return err
	}
	return m.put(msg)
}

// PublishDecision implements Reports.
func (m *Memory) PublishDecision(d *wire.Decision) error {
	msg, err := m.enc.decision(d)
	if err != nil {
		return err
	}
	return m.put(msg)
}

// PublishOutcome implements Reports.
func (m *Memory) PublishOutcome(o *wire.Outcome) error {
	msg, err := m.enc.outcome(o)
	if err != nil {
		return err
	}
	if err := m.put(msg); err != nil {
		return err
	}
	if last, ok := m.enc.lastOutcome(o, msg); ok {
		return m.put(last)
	}
	return nil
}

// PublishEjection implements Reports.
func (m *Memory) PublishEjection(e *wire.Ejection) error {
	msg, err := m.enc.ejection(e)
	if err != nil {
		return err
	}
	return m.put(msg)
}

// PublishError implements Reports.
func (m *Memory) PublishError(requestID, text string) error {
	return m.put(m.enc.errorReport(requestID, "", text))
}

// SetState implements Reports.
func (m *Memory) SetState(s wire.NodeState) error {
	if s != wire.StateReady && s != wire.StateEjected {
		return fmt.Errorf("%w: a node announces ready or ejected, not %q", ErrMalformed, s)
	}
	return m.put(m.enc.state(s, 0))
}

// Requests implements Reports.
func (m *Memory) Requests() <-chan InboundRequest { return m.in.ch }

// Stats implements Reports.
func (m *Memory) Stats() Stats {
	s := m.c.snapshot()
	m.mu.Lock()
	s.Connected = !m.closed
	m.mu.Unlock()
	return s
}

// Close publishes the state disconnected and closes Requests.
func (m *Memory) Close(context.Context) error {
	err := m.put(m.enc.state(wire.StateDisconnected, 0))
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.in.close()
	if err == ErrClosed {
		return nil
	}
	return err
}
