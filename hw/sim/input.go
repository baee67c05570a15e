package sim

import (
	"context"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/seed44533760/pact/hw"
)

// edgeQueue is how many debounced edges an input holds for WaitForEdge;
// when nobody collects them, later ones are dropped, as a kernel's event
// queue does.
const edgeQueue = 64

// input is a simulated GPIO input: a gpiotest pin whose level the world
// sets (from a wired output) or a test does (Board.SetLevel), with
// debounce on the board's clock.
//
// Debounce is the time the level must hold before its edge counts: each
// change restarts the wait, and when it ends an edge is reported only if
// the level differs from the last one reported. A bounce shorter than
// Debounce is thus never seen, and every edge arrives Debounce late.
type input struct {
	spec    hw.InputSpec
	pin     *gpiotest.Pin
	pull    gpio.Pull
	clock   hw.Clock
	rising  bool // report rising edges
	falling bool // report falling edges
	edges   chan hw.Edge

	mu     sync.Mutex
	stable gpio.Level // the level last reported (or started with)
	timer  hw.Stopper
	gen    uint64 // bumped whenever a pending settle is superseded
	closed bool
}

func newInput(spec hw.InputSpec, clock hw.Clock) (*input, error) {
	in := &input{spec: spec, clock: clock, edges: make(chan hw.Edge, edgeQueue)}
	switch spec.Pull {
	case "", "none":
		in.pull = gpio.Float
	case "up":
		in.pull = gpio.PullUp
	case "down":
		in.pull = gpio.PullDown
	default:
		return nil, fmt.Errorf("pull %q: want up, down or none", spec.Pull)
	}
	switch spec.Edge {
	case "", "both":
		in.rising, in.falling = true, true
	case "rising":
		in.rising = true
	case "falling":
		in.falling = true
	default:
		return nil, fmt.Errorf("edge %q: want rising, falling or both", spec.Edge)
	}
	if spec.Debounce < 0 {
		return nil, fmt.Errorf("debounce %v is negative", spec.Debounce)
	}
	name, num := pinName(spec.Pin, spec.Name)
	in.pin = &gpiotest.Pin{N: name, Num: num, Fn: "In"}
	// The fake's In sets the level the pull resistor gives an idle pin.
	if err := in.pin.In(in.pull, gpio.NoEdge); err != nil {
		return nil, err
	}
	in.stable = in.pin.Read()
	return in, nil
}

func (in *input) Name() string    { return in.spec.Name }
func (in *input) Kind() string    { return in.spec.Kind }
func (in *input) Watches() string { return in.spec.Watches }

// Read is the pin's level now, bounces and all.
func (in *input) Read() (bool, error) {
	return in.pin.Read() == gpio.High, nil
}

// WaitForEdge returns the oldest debounced edge not yet collected, waiting
// for one if there is none. Concurrent callers share the edges: each goes
// to one of them.
func (in *input) WaitForEdge(ctx context.Context) (hw.Edge, error) {
	select {
	case e, ok := <-in.edges:
		if !ok {
			return hw.NoEdge, fmt.Errorf("%s: %w", in.spec.Name, ErrClosed)
		}
		return e, nil
	case <-ctx.Done():
		return hw.NoEdge, ctx.Err()
	}
}

// idle is the level the pull gives the pin when nothing drives it.
func (in *input) idle() gpio.Level {
	return in.pull == gpio.PullUp
}

// reset puts the pin at l without reporting an edge: the level it had when
// the board opened.
func (in *input) reset(l gpio.Level) {
	in.mu.Lock()
	defer in.mu.Unlock()
	_ = in.pin.Out(l)
	in.stable = l
}

// sense is the wire changing the pin's level to l.
func (in *input) sense(l gpio.Level) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed || in.pin.Read() == l {
		return
	}
	_ = in.pin.Out(l) // on a gpiotest pin, Out is how hardware sets the level
	if in.spec.Debounce <= 0 {
		in.settle(l)
		return
	}
	if in.timer != nil {
		in.timer.Stop()
	}
	in.gen++
	gen := in.gen
	in.timer = in.clock.AfterFunc(in.spec.Debounce, func() {
		in.mu.Lock()
		defer in.mu.Unlock()
		if gen != in.gen || in.closed {
			return
		}
		in.timer = nil
		in.settle(in.pin.Read())
	})
}

// settle reports the edge to l if l is news. Called with in.mu held.
func (in *input) settle(l gpio.Level) {
	if l == in.stable {
		return
	}
	in.stable = l
	e := hw.Falling
	if l == gpio.High {
		e = hw.Rising
	}
	if e == hw.Rising && !in.rising || e == hw.Falling && !in.falling {
		return
	}
	select {
	case in.edges <- e:
	default: // queue full: dropped
	}
}

// close stops the debounce and wakes every waiter with ErrClosed.
func (in *input) close() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return
	}
	in.closed = true
	in.gen++
	if in.timer != nil {
		in.timer.Stop()
		in.timer = nil
	}
	close(in.edges)
}

var _ hw.Input = (*input)(nil)
