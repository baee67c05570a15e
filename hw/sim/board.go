package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/seed44533760/pact/hw"
)

// Errors.
var (
	// ErrNodeOpen: a board of that node is already open in the World.
	ErrNodeOpen = errors.New("sim: node already open")
	// ErrClosed: the board was closed.
	ErrClosed = errors.New("sim: board closed")
)

// Options say where a simulated board lives.
type Options struct {
	// World is the environment the board is in. Nil: SharedWorld(Cluster),
	// the world every process of the cluster computes alike.
	World *World
	// Cluster names the shared world when World is nil.
	Cluster string
	// Clock times the board's output limits and input debounce. Nil: the
	// World's clock, which is what it should be unless a test wants the two
	// apart.
	Clock hw.Clock
}

// Board is a simulated node's hardware, opened from the same Spec as a
// real one. It implements hw.Board.
type Board struct {
	node, zone string
	world      *World
	clock      hw.Clock

	outputs       []*output
	outputsByName map[string]*output
	limited       []hw.Output // outputs wrapped by hw.Limit: what callers get
	inputs        []*input
	sensors       []hw.Sensor
	digital       map[string]*digitalSensor
	report        hw.Report

	closeOnce sync.Once
	closed    atomic.Bool
}

// Open builds the board spec describes and puts it in its world: outputs
// at their safe level, witness inputs wired to the outputs they watch (on
// any board of the same World, opened before or after), sensors reading
// the zone. A device the simulation cannot provide is listed under
// Report().Failed by its key path (hardware.sensors[2]) and left out; a spec that fails Validate, or a node
// already open in the World, is an error.
func Open(spec hw.Spec, opts Options) (*Board, error) {
	if spec.Node == "" {
		return nil, errors.New("sim: the spec names no node")
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("sim: %s: %w", spec.Node, err)
	}
	w := opts.World
	if w == nil {
		w = SharedWorld(opts.Cluster)
	}
	clock := opts.Clock
	if clock == nil {
		clock = w.clock
	}
	b := &Board{
		node:          spec.Node,
		zone:          spec.Zone,
		world:         w,
		clock:         clock,
		outputsByName: map[string]*output{},
		digital:       map[string]*digitalSensor{},
		report:        hw.Report{Driver: "sim", Loaded: []string{}, Skipped: map[string]string{}, Failed: map[string]string{}},
	}
	for _, ospec := range spec.Outputs {
		o := newOutput(b, ospec)
		b.outputs = append(b.outputs, o)
		b.outputsByName[ospec.Name] = o
		b.limited = append(b.limited, hw.Limit(o, ospec.Limits, clock))
		b.loaded("%s (%s output on %s%s)", ospec.Name, ospec.Kind, o.pin.N, map[bool]string{true: ", active low"}[ospec.ActiveLow])
	}
	for i, is := range spec.Inputs {
		in, err := newInput(is, clock)
		if err != nil {
			b.fail(fmt.Sprintf("hardware.inputs[%d]", i), fmt.Sprintf("input %s on %s", is.Name, is.Pin), err)
			continue
		}
		b.inputs = append(b.inputs, in)
		wired := ""
		if is.Watches != "" {
			wired = ", wired to " + is.Watches
		}
		b.loaded("%s (%s input on %s%s)", is.Name, is.Kind, in.pin.N, wired)
	}
	for i, ss := range spec.Sensors {
		s, desc, err := b.newSensor(ss)
		if err != nil {
			b.fail(fmt.Sprintf("hardware.sensors[%d]", i), fmt.Sprintf("sensor %s (%s)", ss.Name, ss.Driver), err)
			continue
		}
		b.sensors = append(b.sensors, s)
		b.report.Loaded = append(b.report.Loaded, desc)
	}
	if err := w.attach(b); err != nil {
		return nil, err
	}
	// Drive every output to where it rests, as a real driver does at start;
	// fans and wires take note through the world.
	for _, o := range b.outputs {
		if err := o.Halt(); err != nil {
			w.detach(b)
			return nil, err
		}
	}
	return b, nil
}

// fail lists a device the simulation cannot provide under its key path in
// the agent file, as hw/periph does.
func (b *Board) fail(path, what string, err error) {
	b.report.Failed[path] = fmt.Sprintf("%s: %v", what, err)
}

func (b *Board) loaded(format string, args ...any) {
	b.report.Loaded = append(b.report.Loaded, fmt.Sprintf(format, args...))
}

// newSensor makes the sensor spec asks for, and says what it loaded.
func (b *Board) newSensor(spec hw.SensorSpec) (hw.Sensor, string, error) {
	if u, ok := units[spec.Kind]; !ok {
		return nil, "", fmt.Errorf("kind %q: want temperature, humidity, pressure, digital or soc_temperature", spec.Kind)
	} else if spec.Unit != "" && spec.Unit != u && spec.Kind != hw.Digital {
		return nil, "", fmt.Errorf("unit %q: %s readings are in %s", spec.Unit, spec.Kind, u)
	}
	unsupported := fmt.Errorf("the %q driver does not measure %s", spec.Driver, spec.Kind)
	switch spec.Kind {
	case hw.Temperature, hw.Humidity, hw.Pressure:
		switch spec.Driver {
		case "", "sim", "bme280":
			s, desc, err := newEnvSensor(b, spec)
			if err != nil {
				return nil, "", fmt.Errorf("bme280: %w", err)
			}
			return s, desc, nil
		case "ds18b20":
			if spec.Kind != hw.Temperature {
				return nil, "", unsupported
			}
			return b.valueSensor(spec, func(t time.Time, noise *rand.Rand) float64 {
				return b.world.temperature(b.zone, t) + noise.NormFloat64()*b.world.opts.TemperatureNoise
			}), fmt.Sprintf("%s (temperature, ds18b20 simulated on 1-wire)", spec.Name), nil
		}
	case hw.SoCTemperature:
		switch spec.Driver {
		case "", "sim", "thermal":
			return b.valueSensor(spec, func(t time.Time, noise *rand.Rand) float64 {
				return b.world.soc(b.node, t) + noise.NormFloat64()*b.world.opts.SoCNoise
			}), fmt.Sprintf("%s (soc_temperature, simulated thermal zone)", spec.Name), nil
		}
	case hw.Digital:
		switch spec.Driver {
		case "", "sim", "gpio":
			name, num := pinName(spec.Pin, spec.Name)
			s := &digitalSensor{board: b, spec: spec, pin: &gpiotest.Pin{N: name, Num: num, Fn: "In"}}
			b.digital[spec.Name] = s
			return s, fmt.Sprintf("%s (digital input on %s)", spec.Name, name), nil
		}
	}
	return nil, "", unsupported
}

func (b *Board) valueSensor(spec hw.SensorSpec, value func(time.Time, *rand.Rand) float64) *valueSensor {
	return &valueSensor{board: b, spec: spec, value: value, noise: b.world.rng("sensor", b.node, spec.Name)}
}

// usable is nil when a sensor of the board may be read.
func (b *Board) usable(ctx context.Context) error {
	if b.closed.Load() {
		return fmt.Errorf("%s: %w", b.node, ErrClosed)
	}
	return ctx.Err()
}

// Node is the board's node name.
func (b *Board) Node() string { return b.node }

// World is the world the board lives in; tests inject faults through it.
func (b *Board) World() *World { return b.world }

// Outputs are the board's outputs, each wrapped by hw.Limit.
func (b *Board) Outputs() []hw.Output { return append([]hw.Output(nil), b.limited...) }

// Inputs are the board's inputs.
func (b *Board) Inputs() []hw.Input {
	ins := make([]hw.Input, len(b.inputs))
	for i, in := range b.inputs {
		ins[i] = in
	}
	return ins
}

// Sensors are the board's sensors.
func (b *Board) Sensors() []hw.Sensor { return append([]hw.Sensor(nil), b.sensors...) }

// Output returns the named output, wrapped by hw.Limit.
func (b *Board) Output(name string) (hw.Output, error) {
	for _, o := range b.limited {
		if o.Name() == name {
			return o, nil
		}
	}
	return nil, fmt.Errorf("%s: output %q: %w", b.node, name, hw.ErrNotFound)
}

// Input returns the named input.
func (b *Board) Input(name string) (hw.Input, error) {
	for _, in := range b.inputs {
		if in.Name() == name {
			return in, nil
		}
	}
	return nil, fmt.Errorf("%s: input %q: %w", b.node, name, hw.ErrNotFound)
}

// Sensor returns the named sensor.
func (b *Board) Sensor(name string) (hw.Sensor, error) {
	for _, s := range b.sensors {
		if s.Name() == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%s: sensor %q: %w", b.node, name, hw.ErrNotFound)
}

// Report says driver "sim" and lists every device it loaded.
func (b *Board) Report() hw.Report {
	r := b.report
	r.Loaded = append([]string(nil), r.Loaded...)
	r.Skipped, r.Failed = copyMap(r.Skipped), copyMap(r.Failed)
	return r
}

func copyMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// OutputState reports whether the named output's pin is at its active
// level: what the world, its witnesses and its fan see, stuck pins
// included. False for an output the board does not have.
func (b *Board) OutputState(name string) (on bool) {
	o, ok := b.outputsByName[name]
	if !ok {
		return false
	}
	on, _ = o.Read()
	return on
}

// SetLevel sets the level of an input or a digital sensor's pin from
// outside, as a button or a circuit would; edges follow, debounced. A
// witness input's level holds until the output it watches changes again.
func (b *Board) SetLevel(name string, level gpio.Level) error {
	if b.closed.Load() {
		return fmt.Errorf("%s: %w", b.node, ErrClosed)
	}
	for _, in := range b.inputs {
		if in.Name() == name {
			in.sense(level)
			return nil
		}
	}
	if s, ok := b.digital[name]; ok {
		return s.pin.Out(level)
	}
	return fmt.Errorf("%s: input %q: %w", b.node, name, hw.ErrNotFound)
}

// Halt puts every output in its safe state; they refuse Set until
// Resume.
func (b *Board) Halt() error {
	var errs []error
	for _, o := range b.limited {
		errs = append(errs, o.Halt())
	}
	return errors.Join(errs...)
}

// Close halts every output, stops the inputs (WaitForEdge returns
// ErrClosed) and takes the board out of its world, so its node may be
// opened again. Idempotent.
func (b *Board) Close() error {
	var err error
	b.closeOnce.Do(func() {
		err = b.Halt()
		b.closed.Store(true)
		for _, in := range b.inputs {
			in.close()
		}
		b.world.detach(b)
		for _, o := range b.outputs {
			o.close()
		}
	})
	return err
}

// pinName turns a spec's pin ("GPIO17", or a bare "17") into a gpiotest
// pin's name and number; a device without a pin is named after itself.
func pinName(pin, device string) (string, int) {
	if pin == "" {
		return "SIM-" + strings.ToUpper(device), -1
	}
	digits := strings.TrimPrefix(strings.ToUpper(pin), "GPIO")
	if n, err := strconv.Atoi(digits); err == nil {
		return "GPIO" + digits, n
	}
	return pin, -1
}

var _ hw.Board = (*Board)(nil)

var _ hw.Wiring = (*Board)(nil)

// SharesWorld reports whether node's board is open in this board's World.
func (b *Board) SharesWorld(node string) bool {
	b.world.mu.Lock()
	defer b.world.mu.Unlock()
	_, ok := b.world.boards[node]
	return ok
}

// Wired reports whether the named witness input is connected to the output
// it watches: that output is open on a board of the same World.
func (b *Board) Wired(name string) bool {
	for _, in := range b.inputs {
		if in.spec.Name != name || in.spec.Watches == "" {
			continue
		}
		b.world.mu.Lock()
		defer b.world.mu.Unlock()
		return b.world.watched(in.spec.Watches) != nil
	}
	return false
}
