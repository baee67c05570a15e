package report

import (
	"context"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/wire"
)

// Reports is what the agent needs from its MQTT reporting. *Reporter
// implements it against a broker, *Memory in memory for the agent's tests.
// No method blocks on the network.
type Reports interface {
	// PublishCapabilities publishes the node's signed capability document,
	// retained, and republishes it after every reconnection.
	PublishCapabilities(doc *capability.Document) error
	// PublishReadings publishes signed readings, best-effort (QoS 0).
	PublishReadings(r *wire.Readings) error
	// PublishObservation publishes a witness's signed observation,
	// best-effort (at Config.QoS).
	PublishObservation(o *wire.Observation) error
	// PublishDecision, PublishOutcome and PublishEjection are durable: the
	// message is in the outbox (fsynced) when they return nil.
	PublishDecision(d *wire.Decision) error
	PublishOutcome(o *wire.Outcome) error
	PublishEjection(e *wire.Ejection) error
	// PublishError answers a request on errors.
	PublishError(requestID, text string) error
	// SetState changes the state the node announces (ready or ejected), now
	// and at every later birth.
	SetState(s wire.NodeState) error
	// Requests delivers verified requests. It is closed by Close.
	Requests() <-chan InboundRequest
	Stats() Stats
	Close(ctx context.Context) error
}

var (
	_ Reports = (*Reporter)(nil)
	_ Reports = (*Memory)(nil)
)
