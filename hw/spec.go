package hw

import (
	"errors"
	"fmt"
	"time"
)

// Spec is what a board should hold: the agent builds it from the agent
// file's hardware section.
type Spec struct {
	Node    string
	Zone    string
	Outputs []OutputSpec
	Inputs  []InputSpec
	Sensors []SensorSpec
}

// SafeState is where an output rests: off (inactive), or a fixed level.
type SafeState string

// Safe states.
const (
	SafeOff  SafeState = "off"
	SafeLow  SafeState = "low"
	SafeHigh SafeState = "high"
)

// OutputSpec describes one output.
type OutputSpec struct {
	Name      string
	Kind      string
	Pin       string // periph pin name: GPIO17
	ActiveLow bool   // "on" is the low level (many relay boards)
	Safe      SafeState
	Limits    Limits
}

// Limits bound what an output may be made to do.
type Limits struct {
	// MaxOn switches the output off after this long on, whatever it was
	// told. Zero: no cap.
	MaxOn time.Duration
	// MinOff refuses to switch the output on again sooner than this after it
	// went off. Zero: none.
	MinOff time.Duration
}

// InputSpec describes one input.
type InputSpec struct {
	Name     string
	Kind     string
	Pin      string
	Pull     string // up, down, none
	Edge     string // rising, falling, both
	Watches  string // "node/output" for a witness
	Debounce time.Duration
}

// SensorSpec describes one sensor.
type SensorSpec struct {
	Name    string
	Kind    SensorKind
	Driver  string // bme280, ds18b20, thermal, gpio, sim
	Bus     string
	Address string
	Pin     string
	Unit    string
}

// Validate checks the spec for what every driver needs: names unique, pins
// unique, kinds known. Drivers check their own details (pin names that
// exist on the board, buses that open).
func (s *Spec) Validate() error {
	var errs []error
	names := map[string]string{}
	pins := map[string]string{}
	use := func(path, name, pin string) {
		if name == "" {
			errs = append(errs, fmt.Errorf("%s: no name", path))
		} else if other, dup := names[name]; dup {
			errs = append(errs, fmt.Errorf("%s: name %q already used by %s", path, name, other))
		} else {
			names[name] = path
		}
		if pin != "" {
			if other, dup := pins[pin]; dup {
				errs = append(errs, fmt.Errorf("%s: pin %s already used by %s", path, pin, other))
			} else {
				pins[pin] = path
			}
		}
	}
	for i, o := range s.Outputs {
		path := fmt.Sprintf("hardware.outputs[%d]", i)
		use(path, o.Name, o.Pin)
		if o.Limits.MaxOn < 0 || o.Limits.MinOff < 0 {
			errs = append(errs, fmt.Errorf("%s: negative limit", path))
		}
	}
	for i, in := range s.Inputs {
		use(fmt.Sprintf("hardware.inputs[%d]", i), in.Name, in.Pin)
	}
	for i, sn := range s.Sensors {
		use(fmt.Sprintf("hardware.sensors[%d]", i), sn.Name, sn.Pin)
	}
	return errors.Join(errs...)
}
