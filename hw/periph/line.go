package periph

import (
	"time"

	"periph.io/x/conn/v3/gpio"
)

// A line is one GPIO pin the board holds. It is the seam between the
// board's logic (active levels, safe states, debouncing), which is the same
// everywhere, and the way a pin is reached: the GPIO character device on a
// Raspberry Pi (line_linux.go), or a gpio.PinIO such as periph's
// gpiotest.Pin in tests.
//
// Lines are used under their owner's lock; they need not be safe for
// concurrent use, except that Level may be called while WaitForEdge waits.
type line interface {
	// Out drives the line to l.
	Out(l gpio.Level) error
	// Level reads the pin's electrical level without reconfiguring it: for
	// an output, the level actually on the pin (readback).
	Level() (gpio.Level, error)
	// WaitForEdge waits at most timeout (> 0) for a transition, and
	// reports whether one came.
	WaitForEdge(timeout time.Duration) (bool, error)
	// Close releases the pin.
	Close() error
}

// lineOpener takes pins. n is the BCM number, name its canonical name.
type lineOpener interface {
	// Output takes the pin as an output driven at initial.
	Output(name string, n int, initial gpio.Level) (line, error)
	// Input takes the pin as an input with the given pull resistor,
	// reporting both edges when edges is set (the board filters edges
	// itself, so that debouncing sees every transition).
	Input(name string, n int, pull gpio.Pull, edges bool) (line, error)
	// Observe takes the pin without changing its direction or level, to
	// read it.
	Observe(name string, n int) (line, error)
}

// pinLine is a line over any gpio.PinIO.
//
// It must not be given a *gpioioctl.GPIOLine as an output: that driver's
// Read switches an output line to an input with the pull-up on (periph host
// v3.8.5, gpioioctl/gpio.go). line_linux.go uses line sets instead.
type pinLine struct {
	p gpio.PinIO
}

func (l pinLine) Out(v gpio.Level) error     { return l.p.Out(v) }
func (l pinLine) Level() (gpio.Level, error) { return l.p.Read(), nil }
func (l pinLine) Close() error               { return l.p.Halt() }
func (l pinLine) WaitForEdge(d time.Duration) (bool, error) {
	return l.p.WaitForEdge(d), nil
}

// pinOpener opens pinLines from a lookup by canonical name; tests give it
// gpiotest pins.
type pinOpener func(name string) (gpio.PinIO, error)

func (f pinOpener) Output(name string, _ int, initial gpio.Level) (line, error) {
	p, err := f(name)
	if err != nil {
		return nil, err
	}
	if err := p.Out(initial); err != nil {
		return nil, err
	}
	return pinLine{p}, nil
}

func (f pinOpener) Input(name string, _ int, pull gpio.Pull, edges bool) (line, error) {
	p, err := f(name)
	if err != nil {
		return nil, err
	}
	edge := gpio.NoEdge
	if edges {
		edge = gpio.BothEdges
	}
	if err := p.In(pull, edge); err != nil {
		return nil, err
	}
	return pinLine{p}, nil
}

func (f pinOpener) Observe(name string, _ int) (line, error) {
	p, err := f(name)
	if err != nil {
		return nil, err
	}
	return pinLine{p}, nil
}
