package periph

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"

	"github.com/seed44533760/pact/hw"
)

// Board is a real board's devices: those of the Spec that opened. Devices
// that did not open are absent, and Report().Failed says why, keyed by
// their key path in the agent file (hardware.outputs[0]).
type Board struct {
	report  hw.Report
	observe bool

	outputs []hw.Output
	inputs  []hw.Input
	sensors []hw.Sensor

	// closers release devices in reverse order of opening.
	closers []func() error

	closeOnce sync.Once
	closeErr  error
}

var _ hw.Board = (*Board)(nil)

// env is what build needs from the platform: the host drivers' report and
// the ways to reach pins and buses. Open fills it on Linux; tests fill it
// with periph's fakes.
type env struct {
	report hw.Report
	// gpio takes pins; nil when the board has no usable GPIO controller,
	// with gpioErr saying why.
	gpio    lineOpener
	gpioErr error
	// i2c opens a bus by periph name ("1"); nil when no I²C driver loaded.
	i2c func(bus string) (i2c.BusCloser, error)
}

// build opens every device of spec it can. It fails only for mistakes in
// spec itself, which no amount of wiring fixes; a device that does not
// answer is recorded in the report and left out.
func build(spec hw.Spec, opts Options, e env) (*Board, error) {
	opts = opts.withDefaults()
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	b := &Board{report: e.report, observe: opts.Observe}
	if b.report.Skipped == nil {
		b.report.Skipped = map[string]string{}
	}
	if b.report.Failed == nil {
		b.report.Failed = map[string]string{}
	}
	fail := func(path, what string, err error) {
		b.report.Failed[path] = fmt.Sprintf("%s: %v", what, err)
	}
	gpioFor := func() (lineOpener, error) {
		if e.gpio == nil {
			return nil, e.gpioErr
		}
		return e.gpio, nil
	}

	for i, ospec := range spec.Outputs {
		path := fmt.Sprintf("hardware.outputs[%d]", i)
		out, err := b.openOutput(ospec, opts, gpioFor)
		if err != nil {
			fail(path, fmt.Sprintf("output %s on %s", ospec.Name, ospec.Pin), err)
			continue
		}
		b.outputs = append(b.outputs, hw.Limit(out, ospec.Limits, opts.Clock))
		b.closers = append(b.closers, out.close)
	}
	for i, is := range spec.Inputs {
		path := fmt.Sprintf("hardware.inputs[%d]", i)
		in, err := b.openInput(is, opts, gpioFor)
		if err != nil {
			fail(path, fmt.Sprintf("input %s on %s", is.Name, is.Pin), err)
			continue
		}
		b.inputs = append(b.inputs, in)
		b.closers = append(b.closers, in.close)
	}
	chips := map[string]*bmxx80Chip{}
	buses := map[string]i2c.BusCloser{}
	for i, ss := range spec.Sensors {
		path := fmt.Sprintf("hardware.sensors[%d]", i)
		s := &sensor{spec: ss, unit: defaultUnit(ss.Kind), now: opts.Clock.Now}
		var err error
		switch ss.Driver {
		case "thermal":
			var z *thermalZone
			if z, err = newThermalZone(opts.Sysfs); err == nil {
				s.read = func(context.Context) (float64, error) { return z.read() }
			}
		case "ds18b20":
			var d *ds18b20
			if d, err = newDS18B20(opts.Sysfs, ss.Address); err == nil {
				s.read = func(context.Context) (float64, error) { return d.read() }
			}
		case "bme280":
			var c *bmxx80Chip
			if c, err = b.openBMxx80(ss, e, chips, buses); err == nil {
				kind := ss.Kind
				s.read = func(context.Context) (float64, error) { return c.read(kind) }
			}
		case "gpio":
			var l line
			if l, err = b.openDigital(ss, gpioFor); err == nil {
				s.read = func(context.Context) (float64, error) {
					v, err := l.Level()
					if v {
						return 1, err
					}
					return 0, err
				}
			}
		}
		if err != nil {
			fail(path, fmt.Sprintf("sensor %s (%s)", ss.Name, ss.Driver), err)
			continue
		}
		b.sensors = append(b.sensors, s)
	}
	return b, nil
}

func (b *Board) openOutput(spec hw.OutputSpec, opts Options, gpioFor func() (lineOpener, error)) (*output, error) {
	g, err := gpioFor()
	if err != nil {
		return nil, err
	}
	name, n, _ := ParsePin(spec.Pin) // checkSpec parsed it
	spec.Pin = name
	var l line
	if opts.Observe {
		l, err = g.Observe(name, n)
	} else {
		l, err = g.Output(name, n, safeLevel(spec))
	}
	if err != nil {
		return nil, err
	}
	return &output{spec: spec, observe: opts.Observe, line: l}, nil
}

func (b *Board) openInput(spec hw.InputSpec, opts Options, gpioFor func() (lineOpener, error)) (*input, error) {
	g, err := gpioFor()
	if err != nil {
		return nil, err
	}
	name, n, _ := ParsePin(spec.Pin)
	spec.Pin = name
	l, err := g.Input(name, n, pullOf(spec.Pull), true)
	if err != nil {
		return nil, err
	}
	level, err := l.Level()
	if err != nil {
		_ = l.Close()
		return nil, err
	}
	clock := opts.Clock
	return &input{spec: spec, line: l, last: level, sleep: func(ctx context.Context, d time.Duration) error {
		return sleepOn(ctx, clock, d)
	}}, nil
}

func (b *Board) openDigital(spec hw.SensorSpec, gpioFor func() (lineOpener, error)) (line, error) {
	g, err := gpioFor()
	if err != nil {
		return nil, err
	}
	name, n, _ := ParsePin(spec.Pin)
	l, err := g.Input(name, n, gpio.PullNoChange, false)
	if err != nil {
		return nil, err
	}
	b.closers = append(b.closers, l.Close)
	return l, nil
}

// openBMxx80 returns the chip at spec's bus and address, opening the bus
// and the chip the first time one of its sensors asks.
func (b *Board) openBMxx80(spec hw.SensorSpec, e env, chips map[string]*bmxx80Chip, buses map[string]i2c.BusCloser) (*bmxx80Chip, error) {
	addr, _ := i2cAddr(spec.Address) // checkSpec parsed it
	busName := i2cBusName(spec.Bus)
	key := fmt.Sprintf("%s/%#x", busName, addr)
	if c, ok := chips[key]; ok {
		if c == nil {
			return nil, fmt.Errorf("the chip at %#x on bus %s did not open (see the first sensor on it)", addr, busName)
		}
		return checkHumidity(c, spec)
	}
	chips[key] = nil
	bus, ok := buses[busName]
	if !ok {
		if e.i2c == nil {
			return nil, errors.New("no I²C bus on this machine (no /dev/i2c-*): enable I²C with raspi-config, or dtparam=i2c_arm=on in config.txt")
		}
		var err error
		if bus, err = e.i2c(busName); err != nil {
			return nil, fmt.Errorf("I²C bus %s: %w (is I²C enabled, and is the pact user in the i2c group?)", busName, err)
		}
		buses[busName] = bus
		b.closers = append(b.closers, bus.Close)
	}
	c, err := newBMxx80(bus, addr)
	if err != nil {
		return nil, fmt.Errorf("no BME280/BMP280 answers at %#x on bus %s: %w", addr, busName, err)
	}
	chips[key] = c
	b.closers = append(b.closers, c.halt)
	return checkHumidity(c, spec)
}

func checkHumidity(c *bmxx80Chip, spec hw.SensorSpec) (*bmxx80Chip, error) {
	if spec.Kind == hw.Humidity && !c.humidity {
		return nil, fmt.Errorf("the chip at %s on bus %s is a BMP280, which measures no humidity", spec.Address, spec.Bus)
	}
	return c, nil
}

func pullOf(p string) gpio.Pull {
	switch p {
	case "up":
		return gpio.PullUp
	case "down":
		return gpio.PullDown
	case "none":
		return gpio.Float
	}
	return gpio.PullNoChange
}

// sleepOn waits d on clock, or until ctx ends.
func sleepOn(ctx context.Context, clock hw.Clock, d time.Duration) error {
	done := make(chan struct{})
	t := clock.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}

// checkSpec refuses what this driver cannot do whatever is wired: invalid
// specs, pins that are not Raspberry Pi GPIOs, sensor drivers it does not
// have. Every problem names its key path.
func checkSpec(spec hw.Spec) error {
	errs := []error{spec.Validate()}
	pin := func(path, p string) {
		if _, _, err := ParsePin(p); err != nil {
			errs = append(errs, fmt.Errorf("%s.pin: %w", path, err))
		}
	}
	for i, o := range spec.Outputs {
		pin(fmt.Sprintf("hardware.outputs[%d]", i), o.Pin)
		if o.Safe != hw.SafeOff && o.Safe != hw.SafeLow && o.Safe != hw.SafeHigh && o.Safe != "" {
			errs = append(errs, fmt.Errorf("hardware.outputs[%d].safe: %q is not off, low or high", i, o.Safe))
		}
	}
	for i, in := range spec.Inputs {
		path := fmt.Sprintf("hardware.inputs[%d]", i)
		pin(path, in.Pin)
		switch in.Pull {
		case "up", "down", "none", "":
		default:
			errs = append(errs, fmt.Errorf("%s.pull: %q is not up, down or none", path, in.Pull))
		}
		switch in.Edge {
		case "rising", "falling", "both", "":
		default:
			errs = append(errs, fmt.Errorf("%s.edge: %q is not rising, falling or both", path, in.Edge))
		}
	}
	for i, s := range spec.Sensors {
		path := fmt.Sprintf("hardware.sensors[%d]", i)
		if s.Unit != "" && s.Unit != defaultUnit(s.Kind) {
			errs = append(errs, fmt.Errorf("%s.unit: the periph driver reports %s in %q, not %q", path, s.Kind, defaultUnit(s.Kind), s.Unit))
		}
		kinds, ok := sensorDrivers[s.Driver]
		if !ok {
			errs = append(errs, fmt.Errorf("%s.driver: %q is not a periph sensor driver (%s); a sim sensor needs hardware.driver: sim", path, s.Driver, "bme280, ds18b20, thermal, gpio"))
			continue
		}
		if !slices.Contains(kinds, s.Kind) {
			errs = append(errs, fmt.Errorf("%s.kind: the %s driver does not measure %s", path, s.Driver, s.Kind))
		}
		switch s.Driver {
		case "gpio":
			pin(path, s.Pin)
		case "bme280":
			if _, err := i2cAddr(s.Address); err != nil {
				errs = append(errs, fmt.Errorf("%s.address: %w", path, err))
			}
			if s.Bus == "" {
				errs = append(errs, fmt.Errorf("%s.bus: required: the I²C bus, e.g. 1", path))
			}
		}
	}
	var problems []error
	for _, err := range errs {
		// hw.Spec.Validate joins its problems: list them one by one.
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			problems = append(problems, j.Unwrap()...)
		} else if err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return &SpecError{Problems: problems}
}

// sensorDrivers are the sensor drivers this package has and what each
// measures.
var sensorDrivers = map[string][]hw.SensorKind{
	"bme280":  {hw.Temperature, hw.Humidity, hw.Pressure},
	"ds18b20": {hw.Temperature},
	"thermal": {hw.SoCTemperature},
	"gpio":    {hw.Digital},
}

// Outputs returns the outputs that opened, each wrapped in its limits.
func (b *Board) Outputs() []hw.Output { return slices.Clone(b.outputs) }

// Inputs returns the inputs that opened.
func (b *Board) Inputs() []hw.Input { return slices.Clone(b.inputs) }

// Sensors returns the sensors that opened.
func (b *Board) Sensors() []hw.Sensor { return slices.Clone(b.sensors) }

func (b *Board) Output(name string) (hw.Output, error) {
	return find(b.outputs, name, hw.Output.Name, "output")
}

func (b *Board) Input(name string) (hw.Input, error) {
	return find(b.inputs, name, hw.Input.Name, "input")
}

func (b *Board) Sensor(name string) (hw.Sensor, error) {
	return find(b.sensors, name, hw.Sensor.Name, "sensor")
}

func find[T any](list []T, name string, nameOf func(T) string, what string) (T, error) {
	for _, d := range list {
		if nameOf(d) == name {
			return d, nil
		}
	}
	var zero T
	return zero, fmt.Errorf("%s %q: %w", what, name, hw.ErrNotFound)
}

// Report says which host drivers loaded, which were skipped and which
// failed, and which of the spec's devices failed to open.
func (b *Board) Report() hw.Report {
	r := b.report
	r.Loaded = slices.Clone(r.Loaded)
	r.Skipped = maps.Clone(r.Skipped)
	r.Failed = maps.Clone(r.Failed)
	return r
}

// Halt puts every output in its safe state. On an observing board it fails
// with ErrObserveOnly and drives nothing.
func (b *Board) Halt() error {
	if b.observe {
		return ErrObserveOnly
	}
	var errs []error
	for _, o := range b.outputs {
		errs = append(errs, o.Halt())
	}
	return errors.Join(errs...)
}

// Close halts every output (unless observing) and releases the pins, buses
// and sensors. Idempotent; later calls return the first call's error.
func (b *Board) Close() error {
	b.closeOnce.Do(func() {
		var errs []error
		if !b.observe {
			errs = append(errs, b.Halt())
		}
		for i := len(b.closers) - 1; i >= 0; i-- {
			errs = append(errs, b.closers[i]())
		}
		b.closeErr = errors.Join(errs...)
	})
	return b.closeErr
}
