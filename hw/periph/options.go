package periph

import "github.com/seed44533760/pact/hw"

// Options adjust how Open takes the hardware.
type Options struct {
	// Sysfs is where sysfs is mounted; the SoC thermal zone and the 1-wire
	// devices are read below it. Default /sys. Tests point it at a fake
	// tree.
	Sysfs string

	// Clock times the outputs' limits, debounces inputs and stamps
	// readings. Default hw.SystemClock.
	Clock hw.Clock

	// Observe opens every device without driving any output: output pins
	// are taken as they are (direction and level unchanged) and read back,
	// Set and Halt fail with ErrObserveOnly, and Close leaves them as they
	// were. `pact hw probe` observes, so that looking at a board never moves
	// a relay. Inputs and sensors are opened as usual.
	Observe bool
}

// DefaultOptions returns the options Open uses for zero fields.
func DefaultOptions() Options {
	return Options{Sysfs: "/sys", Clock: hw.SystemClock{}}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Sysfs == "" {
		o.Sysfs = d.Sysfs
	}
	if o.Clock == nil {
		o.Clock = d.Clock
	}
	return o
}
