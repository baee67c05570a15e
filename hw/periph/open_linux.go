//go:build linux

package periph

import (
	"fmt"
	"slices"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"

	"github.com/seed44533760/pact/hw"
)

// Open initialises periph's host drivers and opens every device of spec it
// can. It fails for mistakes in spec (a pin that is not GPIO0–GPIO27, a
// sensor driver periph does not have), each named by its key path, and when
// periph's driver registry itself fails. A device that does not answer
// does not fail Open: it is left out of the board and its reason is in
// Report().Failed under its key path, so that a node whose fan relay is
// unplugged still votes, witnesses and reads its other sensors. Callers
// that need every device check the report (`pact hw probe` exits 1).
//
// Unless opts.Observe is set, every output is driven to its safe level as
// it opens.
func Open(spec hw.Spec, opts Options) (hw.Board, error) {
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	st, err := host.Init()
	if err != nil {
		return nil, fmt.Errorf("periph host.Init: %w", err)
	}
	e := env{report: reportOf(st)}
	// sysfs-i2c registers the buses under /dev/i2c-*; without it i2creg
	// knows none, and says so in words that blame the caller.
	if slices.Contains(e.report.Loaded, "sysfs-i2c") {
		e.i2c = func(bus string) (i2c.BusCloser, error) { return i2creg.Open(bus) }
	}
	if chip, err := piChip(); err != nil {
		e.gpioErr = err
	} else {
		e.gpio = chardev{chip}
	}
	b, err := build(spec, opts, e)
	if err != nil {
		return nil, err
	}
	return b, nil
}
