// Package hwspec turns the agent file's hardware section into an hw.Spec
// and opens the board that hardware.driver names: hw/periph for a real
// Raspberry Pi, hw/sim for a simulated one, or an empty board for none.
//
// It is the one place that knows both agent/config and the hardware
// drivers, so that neither has to know the other: config stays free of
// periph, and hw never reads YAML. The agent, `pact hw probe` and
// `pact hw halt` all open their boards here, so they see the same devices.
package hwspec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/hw"
	"github.com/seed44533760/pact/hw/periph"
	"github.com/seed44533760/pact/hw/sim"
)

// Debounce delays for inputs, which the agent file does not set: buttons
// and switches have contacts that bounce for up to about 10 ms; a witness
// wire is driven by another node's push-pull output and only needs to ride
// out ringing on a long cable.
const (
	ContactDebounce = 20 * time.Millisecond
	WireDebounce    = time.Millisecond
)

// Spec maps a's hardware section onto an hw.Spec, entry for entry and in
// order, so that index i of a list in the Spec is hardware.<list>[i] of the
// file and a driver's key paths point into the file. Pins are written
// canonically (GPIO17 for 17 or gpio17). a must have been validated.
func Spec(a *config.Agent) hw.Spec {
	h := a.Hardware
	s := hw.Spec{Node: a.Node, Zone: a.Zone}
	for _, o := range h.Outputs {
		s.Outputs = append(s.Outputs, hw.OutputSpec{
			Name:      o.Name,
			Kind:      string(o.Kind),
			Pin:       CanonicalPin(o.Pin),
			ActiveLow: o.Active == config.Low,
			Safe:      hw.SafeState(o.Safe),
			Limits:    hw.Limits{MaxOn: o.MaxOn, MinOff: o.MinOff},
		})
	}
	for _, in := range h.Inputs {
		debounce := WireDebounce
		if in.Kind == config.InputButton || in.Kind == config.InputSwitch {
			debounce = ContactDebounce
		}
		s.Inputs = append(s.Inputs, hw.InputSpec{
			Name:     in.Name,
			Kind:     string(in.Kind),
			Pin:      CanonicalPin(in.Pin),
			Pull:     string(in.Pull),
			Edge:     string(in.Edge),
			Watches:  in.Watches,
			Debounce: debounce,
		})
	}
	for _, sn := range h.Sensors {
		s.Sensors = append(s.Sensors, hw.SensorSpec{
			Name:    sn.Name,
			Kind:    hw.SensorKind(sn.Kind),
			Driver:  string(sn.Driver),
			Bus:     sn.Bus,
			Address: sn.Address,
			Pin:     CanonicalPin(sn.Pin),
			Unit:    sn.Unit,
		})
	}
	return s
}

// CanonicalPin writes a pin the way periph names it: GPIO17 for 17, gpio17
// or GPIO17. Anything else comes back unchanged, for the driver to refuse.
func CanonicalPin(pin string) string {
	if name, _, err := periph.ParsePin(pin); err == nil {
		return name
	}
	if _, err := strconv.Atoi(pin); err == nil {
		return "GPIO" + pin
	}
	return strings.ToUpper(pin)
}

// Options adjust how Open opens a board.
type Options struct {
	// Cluster names the simulated world a sim board lives in: every process
	// of one cluster shares it.
	Cluster string
	// Observe opens a real board without driving its outputs (see
	// periph.Options.Observe). A simulated board has nothing to protect
	// and ignores it.
	Observe bool
	// Sysfs and Clock are passed to hw/periph; zero means its defaults.
	Sysfs string
	Clock hw.Clock
}

// OpenBoard opens the board of a's hardware section for the agent: outputs
// go to their safe levels.
func OpenBoard(a *config.Agent, cluster string) (hw.Board, error) {
	return Open(a, Options{Cluster: cluster})
}

// Open opens the board of a's hardware section. The error of a spec
// mistake names its key path; a device that does not answer is not an
// error but is listed in the board's Report().Failed under its key path.
func Open(a *config.Agent, opts Options) (hw.Board, error) {
	spec := Spec(a)
	switch a.Hardware.Driver {
	case config.DriverPeriph:
		return periph.Open(spec, periph.Options{Sysfs: opts.Sysfs, Clock: opts.Clock, Observe: opts.Observe})
	case config.DriverSim:
		b, err := sim.Open(spec, sim.Options{Cluster: opts.Cluster, Clock: opts.Clock})
		if err != nil {
			return nil, err
		}
		return b, nil
	case config.DriverNone:
		if n := len(spec.Outputs) + len(spec.Inputs) + len(spec.Sensors); n > 0 {
			return nil, fmt.Errorf("hardware.driver: none, but %d devices are listed", n)
		}
		return Empty(), nil
	}
	return nil, fmt.Errorf("hardware.driver: %q is not sim, periph or none", a.Hardware.Driver)
}

// Empty returns a board without devices: hardware.driver none, a node that
// only votes and witnesses nothing.
func Empty() hw.Board { return emptyBoard{} }

type emptyBoard struct{}

var _ hw.Board = emptyBoard{}

func (emptyBoard) Outputs() []hw.Output { return nil }
func (emptyBoard) Inputs() []hw.Input   { return nil }
func (emptyBoard) Sensors() []hw.Sensor { return nil }
func (emptyBoard) Output(name string) (hw.Output, error) {
	return nil, fmt.Errorf("output %q: %w", name, hw.ErrNotFound)
}
func (emptyBoard) Input(name string) (hw.Input, error) {
	return nil, fmt.Errorf("input %q: %w", name, hw.ErrNotFound)
}
func (emptyBoard) Sensor(name string) (hw.Sensor, error) {
	return nil, fmt.Errorf("sensor %q: %w", name, hw.ErrNotFound)
}
func (emptyBoard) Report() hw.Report {
	return hw.Report{Driver: string(config.DriverNone), Loaded: []string{}, Skipped: map[string]string{}, Failed: map[string]string{}}
}
func (emptyBoard) Halt() error  { return nil }
func (emptyBoard) Close() error { return nil }

// Missing lists the devices of spec that b does not hold, by key path,
// with the reason from the board's report: what a person who configured
// them needs to fix. Empty when everything opened.
func Missing(spec hw.Spec, b hw.Board) map[string]string {
	failed := b.Report().Failed
	out := map[string]string{}
	reason := func(path string) string {
		if r, ok := failed[path]; ok {
			return r
		}
		return "did not open (the driver gave no reason)"
	}
	for i, o := range spec.Outputs {
		if _, err := b.Output(o.Name); errors.Is(err, hw.ErrNotFound) {
			out[fmt.Sprintf("hardware.outputs[%d]", i)] = reason(fmt.Sprintf("hardware.outputs[%d]", i))
		}
	}
	for i, in := range spec.Inputs {
		if _, err := b.Input(in.Name); errors.Is(err, hw.ErrNotFound) {
			out[fmt.Sprintf("hardware.inputs[%d]", i)] = reason(fmt.Sprintf("hardware.inputs[%d]", i))
		}
	}
	for i, s := range spec.Sensors {
		if _, err := b.Sensor(s.Name); errors.Is(err, hw.ErrNotFound) {
			out[fmt.Sprintf("hardware.sensors[%d]", i)] = reason(fmt.Sprintf("hardware.sensors[%d]", i))
		}
	}
	return out
}
