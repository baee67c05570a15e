package sim

import (
	"context"
	"testing"
	"time"

	"github.com/seed44533760/pact/hw"
	"github.com/seed44533760/pact/hw/hwtest"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// generous bounds the wait for an edge handed over by another goroutine;
// it is a deadlock guard, never a timing assertion.
const generous = 10 * time.Second

// newTestWorld is a world on a fake clock that starts at its epoch.
func newTestWorld(t *testing.T, seed uint64, opts WorldOptions) (*World, *hwtest.Clock) {
	t.Helper()
	clock := hwtest.NewClock(epoch)
	opts.Clock = clock
	return NewWorld(seed, opts), clock
}

// spec is a node in zone with an LED, optionally a fan, a temperature
// sensor, and a witness input when watches is set.
func spec(node, zone string, fan bool, watches string) hw.Spec {
	s := hw.Spec{
		Node: node,
		Zone: zone,
		Outputs: []hw.OutputSpec{
			{Name: "led", Kind: "led", Pin: "GPIO17", Safe: hw.SafeOff},
		},
		Sensors: []hw.SensorSpec{{Name: "temp", Kind: hw.Temperature, Driver: "sim"}},
	}
	if fan {
		s.Outputs = append(s.Outputs, hw.OutputSpec{Name: "fan", Kind: "relay", Pin: "GPIO27", Safe: hw.SafeOff,
			Limits: hw.Limits{MaxOn: 10 * time.Minute, MinOff: 5 * time.Second}})
	}
	if watches != "" {
		s.Inputs = []hw.InputSpec{{Name: "witness", Kind: "witness", Pin: "GPIO22", Pull: "down", Edge: "both", Watches: watches}}
	}
	return s
}

func open(t *testing.T, w *World, s hw.Spec) *Board {
	t.Helper()
	b, err := Open(s, Options{World: w})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func mustOutput(t *testing.T, b *Board, name string) hw.Output {
	t.Helper()
	o, err := b.Output(name)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func mustInput(t *testing.T, b *Board, name string) hw.Input {
	t.Helper()
	in, err := b.Input(name)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func sense(t *testing.T, b *Board, name string) float64 {
	t.Helper()
	s, err := b.Sensor(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r.Value
}

// noEdge checks that no edge is queued: with ctx already done and no edge
// waiting, WaitForEdge must report the context.
func noEdge(t *testing.T, in hw.Input) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// With both ready, select picks at random: ask a few times.
	for range 8 {
		if e, err := in.WaitForEdge(ctx); err == nil {
			t.Fatalf("%s: unexpected %s edge", in.Name(), e)
		}
	}
}

// nextEdge returns the next edge, failing after the generous guard.
func nextEdge(t *testing.T, in hw.Input) hw.Edge {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	e, err := in.WaitForEdge(ctx)
	if err != nil {
		t.Fatalf("%s: no edge: %v", in.Name(), err)
	}
	return e
}
