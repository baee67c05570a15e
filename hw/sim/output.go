package sim

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/seed44533760/pact/hw"
)

// output is a simulated GPIO output: a gpiotest pin driven to the level
// that means on or off, and read back from the pin. It keeps no limits;
// the board hands it out wrapped in hw.Limit, as every driver must.
type output struct {
	board *Board
	spec  hw.OutputSpec
	pin   *gpiotest.Pin
	fan   bool // running it cools the board's zone

	mu     sync.Mutex
	driven gpio.Level // what it was last told; the pin differs when stuck
	closed bool
}

func newOutput(b *Board, spec hw.OutputSpec) *output {
	name, num := pinName(spec.Pin, spec.Name)
	o := &output{
		board: b,
		spec:  spec,
		pin:   &gpiotest.Pin{N: name, Num: num, Fn: "Out"},
		fan:   spec.Kind == "fan" || spec.Name == "fan",
	}
	o.driven = o.safe()
	o.pin.L = o.driven
	return o
}

func (o *output) Name() string { return o.spec.Name }
func (o *output) Kind() string { return o.spec.Kind }

// active is the electrical level that means on.
func (o *output) active() gpio.Level {
	if o.spec.ActiveLow {
		return gpio.Low
	}
	return gpio.High
}

// level is the electrical level for on or off.
func (o *output) level(on bool) gpio.Level {
	if on {
		return o.active()
	}
	return !o.active()
}

// safe is the level the output rests at.
func (o *output) safe() gpio.Level {
	switch o.spec.Safe {
	case hw.SafeLow:
		return gpio.Low
	case hw.SafeHigh:
		return gpio.High
	}
	return o.level(false)
}

func (o *output) Set(on bool) error { return o.drive(o.level(on)) }

// Read reads the pin, not what it was told: a stuck pin shows here.
func (o *output) Read() (bool, error) {
	return o.pin.Read() == o.active(), nil
}

// Halt drives the safe level. Refusing Sets while halted is the limit's
// business.
func (o *output) Halt() error { return o.drive(o.safe()) }

// Resume has nothing to undo.
func (o *output) Resume() {}

func (o *output) drive(l gpio.Level) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return fmt.Errorf("%s/%s: %w", o.board.node, o.spec.Name, ErrClosed)
	}
	o.driven = l
	o.apply()
	return nil
}

// refresh re-applies the driven level after a fault came or went.
func (o *output) refresh() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		o.apply()
	}
}

// apply puts the pin at the driven level, or at the level a fault holds it
// to, and tells the world. Called with o.mu held.
func (o *output) apply() {
	l := o.driven
	if stuck, ok := o.board.world.stuckLevel(o.board.node, o.spec.Name); ok {
		l = stuck
	}
	_ = o.pin.Out(l) // a gpiotest pin never fails
	o.board.world.outputChanged(o, l)
}

// close refuses every later drive.
func (o *output) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
}

var _ hw.Output = (*output)(nil)
