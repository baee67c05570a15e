package periph

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"

	"github.com/seed44533760/pact/hw"
)

// output is a GPIO output: "on" mapped to the active level, a safe level it
// returns to at open, on Halt and on Close. The board wraps it in hw.Limit.
type output struct {
	spec    hw.OutputSpec
	observe bool

	mu     sync.Mutex
	line   line
	halted bool
	closed bool
}

var _ hw.Output = (*output)(nil)

func (o *output) Name() string { return o.spec.Name }
func (o *output) Kind() string { return o.spec.Kind }

// levelFor is the electrical level that means on (or off).
func levelFor(on, activeLow bool) gpio.Level {
	return gpio.Level(on != activeLow)
}

// safeLevel is the electrical level of spec's safe state.
func safeLevel(spec hw.OutputSpec) gpio.Level {
	switch spec.Safe {
	case hw.SafeLow:
		return gpio.Low
	case hw.SafeHigh:
		return gpio.High
	}
	return levelFor(false, spec.ActiveLow)
}

func (o *output) Set(on bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.observe:
		return fmt.Errorf("output %s: %w", o.spec.Name, ErrObserveOnly)
	case o.closed:
		return fmt.Errorf("output %s: board closed: %w", o.spec.Name, hw.ErrHalted)
	case o.halted:
		return fmt.Errorf("output %s: %w", o.spec.Name, hw.ErrHalted)
	}
	if err := o.line.Out(levelFor(on, o.spec.ActiveLow)); err != nil {
		return fmt.Errorf("output %s on %s: %w", o.spec.Name, o.spec.Pin, err)
	}
	return nil
}

// Read reads the pin back: on when the level on the pin is the active one.
func (o *output) Read() (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false, fmt.Errorf("output %s: board closed", o.spec.Name)
	}
	l, err := o.line.Level()
	if err != nil {
		return false, fmt.Errorf("output %s on %s: readback: %w", o.spec.Name, o.spec.Pin, err)
	}
	return bool(l) != o.spec.ActiveLow, nil
}

func (o *output) Halt() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.observe {
		return fmt.Errorf("output %s: %w", o.spec.Name, ErrObserveOnly)
	}
	o.halted = true
	if o.closed {
		return nil
	}
	return o.toSafe()
}

func (o *output) Resume() {
	o.mu.Lock()
	o.halted = false
	o.mu.Unlock()
}

// toSafe drives the safe level. Callers hold mu.
func (o *output) toSafe() error {
	if err := o.line.Out(safeLevel(o.spec)); err != nil {
		return fmt.Errorf("output %s on %s: to safe level %s: %w", o.spec.Name, o.spec.Pin, o.spec.Safe, err)
	}
	return nil
}

// close puts the output at its safe level (unless observing) and releases
// the pin. The safe level is driven before the release, while the line is
// still ours; what the pin does after the release is up to the kernel (see
// doc.go).
func (o *output) close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	var err error
	if !o.observe {
		err = o.toSafe()
	}
	if cerr := o.line.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("output %s on %s: release: %w", o.spec.Name, o.spec.Pin, cerr)
	}
	return err
}
