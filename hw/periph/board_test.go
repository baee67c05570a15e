package periph

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/seed44533760/pact/hw"
	"github.com/seed44533760/pact/hw/hwtest"
)

// fakeBoard is a Raspberry Pi made of periph's fakes: gpiotest pins GPIO0
// to GPIO27 and I²C buses that replay recorded traffic.
type fakeBoard struct {
	pins  map[string]*gpiotest.Pin
	buses map[string]*i2ctest.Playback
	clock *hwtest.Clock
	sysfs string
}

func newFakeBoard(t *testing.T) *fakeBoard {
	f := &fakeBoard{
		pins:  map[string]*gpiotest.Pin{},
		buses: map[string]*i2ctest.Playback{},
		clock: hwtest.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)),
		sysfs: fakeSysfs(t, map[string]string{"class/thermal/thermal_zone0/temp": "47236\n"}),
	}
	for n := 0; n <= MaxPin; n++ {
		name := fmt.Sprintf("GPIO%d", n)
		f.pins[name] = &gpiotest.Pin{N: name, Num: n, EdgesChan: make(chan gpio.Level, 16)}
	}
	return f
}

func (f *fakeBoard) env() env {
	return env{
		report: hw.Report{Driver: DriverName, Loaded: []string{"fake"}},
		gpio: pinOpener(func(name string) (gpio.PinIO, error) {
			if p, ok := f.pins[name]; ok {
				return p, nil
			}
			return nil, fmt.Errorf("no pin %s", name)
		}),
		i2c: func(bus string) (i2c.BusCloser, error) {
			if b, ok := f.buses[bus]; ok {
				return b, nil
			}
			return nil, fmt.Errorf("no bus %s", bus)
		},
	}
}

func (f *fakeBoard) open(t *testing.T, spec hw.Spec, observe bool) *Board {
	t.Helper()
	b, err := build(spec, Options{Sysfs: f.sysfs, Clock: f.clock, Observe: observe}, f.env())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func (f *fakeBoard) level(name string) gpio.Level { return f.pins[name].Read() }

func (f *fakeBoard) setLevel(name string, l gpio.Level) { _ = f.pins[name].Out(l) }

func TestBuild_OutputsStartAtTheirSafeLevel(t *testing.T) {
	f := newFakeBoard(t)
	for _, p := range []string{"GPIO17", "GPIO27", "GPIO22", "GPIO23"} {
		f.setLevel(p, gpio.High)
	}
	f.setLevel("GPIO27", gpio.Low)
	f.open(t, hw.Spec{Outputs: []hw.OutputSpec{
		{Name: "led", Kind: "led", Pin: "GPIO17", Safe: hw.SafeOff},
		{Name: "relay", Kind: "relay", Pin: "27", ActiveLow: true, Safe: hw.SafeOff},
		{Name: "valve", Kind: "relay", Pin: "GPIO22", Safe: hw.SafeLow},
		{Name: "vent", Kind: "relay", Pin: "gpio23", ActiveLow: true, Safe: hw.SafeHigh},
	}}, false)
	for pin, want := range map[string]gpio.Level{"GPIO17": gpio.Low, "GPIO27": gpio.High, "GPIO22": gpio.Low, "GPIO23": gpio.High} {
		if got := f.level(pin); got != want {
			t.Errorf("%s = %s at open, want %s", pin, got, want)
		}
	}
}

func TestOutput_SetReadHaltResume(t *testing.T) {
	f := newFakeBoard(t)
	b := f.open(t, hw.Spec{Outputs: []hw.OutputSpec{
		{Name: "relay", Kind: "relay", Pin: "GPIO27", ActiveLow: true, Safe: hw.SafeOff},
	}}, false)
	relay, err := b.Output("relay")
	if err != nil {
		t.Fatal(err)
	}
	if err := relay.Set(true); err != nil {
		t.Fatal(err)
	}
	if f.level("GPIO27") != gpio.Low {
		t.Error("an active-low output switched on is not low")
	}
	if on, err := relay.Read(); !on || err != nil {
		t.Errorf("Read = %v, %v; want on", on, err)
	}
	// Readback reads the pin, not what was asked: something else pulls it.
	f.setLevel("GPIO27", gpio.High)
	if on, _ := relay.Read(); on {
		t.Error("Read reports on with the pin at the inactive level")
	}
	if err := b.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := relay.Set(true); !errors.Is(err, hw.ErrHalted) {
		t.Errorf("Set after Halt = %v, want ErrHalted", err)
	}
	if f.level("GPIO27") != gpio.High {
		t.Error("halted output is not at its safe level")
	}
	relay.Resume()
	if err := relay.Set(true); err != nil {
		t.Fatalf("Set after Resume: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if f.level("GPIO27") != gpio.High {
		t.Error("Close left the output on")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := relay.Set(true); err == nil {
		t.Error("Set after Close succeeded")
	}
}

func TestOutput_LimitsAreApplied(t *testing.T) {
	f := newFakeBoard(t)
	b := f.open(t, hw.Spec{Outputs: []hw.OutputSpec{
		{Name: "fan", Kind: "fan", Pin: "GPIO18", Safe: hw.SafeOff, Limits: hw.Limits{MaxOn: time.Minute, MinOff: 30 * time.Second}},
	}}, false)
	fan, _ := b.Output("fan")
	if err := fan.Set(true); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if f.level("GPIO18") != gpio.Low {
		t.Error("fan still on after MaxOn")
	}
	if err := fan.Set(true); !errors.Is(err, hw.ErrLimit) {
		t.Errorf("Set within MinOff = %v, want ErrLimit", err)
	}
}

func TestBuild_ObserveDrivesNothing(t *testing.T) {
	f := newFakeBoard(t)
	f.setLevel("GPIO17", gpio.High)
	f.setLevel("GPIO27", gpio.Low)
	b := f.open(t, hw.Spec{Outputs: []hw.OutputSpec{
		{Name: "led", Kind: "led", Pin: "GPIO17", Safe: hw.SafeOff},
		{Name: "relay", Kind: "relay", Pin: "GPIO27", ActiveLow: true, Safe: hw.SafeOff},
	}}, true)
	if f.level("GPIO17") != gpio.High || f.level("GPIO27") != gpio.Low {
		t.Fatal("observing moved an output")
	}
	for _, o := range b.Outputs() {
		if on, err := o.Read(); !on || err != nil {
			t.Errorf("%s: Read = %v, %v; want on", o.Name(), on, err)
		}
		if err := o.Set(false); !errors.Is(err, ErrObserveOnly) {
			t.Errorf("%s: Set = %v, want ErrObserveOnly", o.Name(), err)
		}
	}
	if err := b.Halt(); !errors.Is(err, ErrObserveOnly) {
		t.Errorf("Halt = %v, want ErrObserveOnly", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if f.level("GPIO17") != gpio.High || f.level("GPIO27") != gpio.Low {
		t.Error("closing an observing board moved an output")
	}
}

func TestBuild_SpecMistakesAreErrorsWithKeyPaths(t *testing.T) {
	f := newFakeBoard(t)
	_, err := build(hw.Spec{
		Outputs: []hw.OutputSpec{{Name: "led", Kind: "led", Pin: "GPIO 17"}},
		Inputs:  []hw.InputSpec{{Name: "btn", Kind: "button", Pin: "GPIO28", Pull: "sideways"}},
		Sensors: []hw.SensorSpec{
			{Name: "t", Kind: hw.Temperature, Driver: "sim"},
			{Name: "soc", Kind: hw.SoCTemperature, Driver: "thermal", Unit: "°F"},
			{Name: "air", Kind: hw.Temperature, Driver: "bme280", Bus: "1", Address: "0x400"},
		},
	}, Options{Sysfs: f.sysfs, Clock: f.clock}, f.env())
	var se *SpecError
	if !errors.As(err, &se) || len(se.Problems) != 6 {
		t.Fatalf("build = %v; want a SpecError with 6 problems", err)
	}
	if !errors.Is(err, ErrPinName) {
		t.Error("a bad pin does not wrap ErrPinName")
	}
	for _, want := range []string{
		"hardware.outputs[0].pin", "hardware.inputs[0].pin", "hardware.inputs[0].pull",
		"hardware.sensors[0].driver", "hardware.sensors[1].unit", "hardware.sensors[2].address",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

func TestBuild_DevicesThatDoNotAnswerAreReportedByKeyPath(t *testing.T) {
	f := newFakeBoard(t)
	e := f.env()
	e.gpio, e.gpioErr = nil, fmt.Errorf("%w: no /dev/gpiochip*", ErrNoGPIO)
	b, err := build(hw.Spec{
		Outputs: []hw.OutputSpec{{Name: "led", Kind: "led", Pin: "GPIO17"}},
		Inputs:  []hw.InputSpec{{Name: "btn", Kind: "button", Pin: "GPIO22"}},
		Sensors: []hw.SensorSpec{
			{Name: "soc", Kind: hw.SoCTemperature, Driver: "thermal"},
			{Name: "soil", Kind: hw.Temperature, Driver: "ds18b20"},
			{Name: "air", Kind: hw.Temperature, Driver: "bme280", Bus: "1", Address: "0x76"},
		},
	}, Options{Sysfs: f.sysfs, Clock: f.clock}, e)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(b.Outputs())+len(b.Inputs()) != 0 || len(b.Sensors()) != 1 {
		t.Fatalf("board holds %d outputs, %d inputs, %d sensors; want only the SoC sensor", len(b.Outputs()), len(b.Inputs()), len(b.Sensors()))
	}
	failed := b.Report().Failed
	for path, want := range map[string]string{
		"hardware.outputs[0]": "no /dev/gpiochip",
		"hardware.inputs[0]":  "no /dev/gpiochip",
		"hardware.sensors[1]": "w1-gpio",
		"hardware.sensors[2]": "no bus 1",
	} {
		if !strings.Contains(failed[path], want) {
			t.Errorf("Failed[%s] = %q, want it to say %q", path, failed[path], want)
		}
	}
	if _, ok := failed["hardware.sensors[0]"]; ok {
		t.Error("the SoC sensor that opened is reported failed")
	}
	if got, _ := b.Output("led"); got != nil {
		t.Error("a failed output is on the board")
	}
	if _, err := b.Output("led"); !errors.Is(err, hw.ErrNotFound) {
		t.Errorf("Output(led) = %v, want ErrNotFound", err)
	}
}

// bme280Init is a BME280's (0x60) or BMP280's (0x58) traffic when opened with bmxx80.DefaultOpts at
// 0x76 (recorded by periph's bmxx80 tests).
func bme280Init(chipID byte) []i2ctest.IO {
	ops := []i2ctest.IO{
		{Addr: 0x76, W: []byte{0xd0}, R: []byte{chipID}},
		{Addr: 0x76, W: []byte{0x88}, R: []byte{0x10, 0x6e, 0x6c, 0x66, 0x32, 0x0, 0x5d, 0x95, 0xb8, 0xd5, 0xd0, 0xb, 0x77, 0x1e, 0x9d, 0xff, 0xf9, 0xff, 0xac, 0x26, 0xa, 0xd8, 0xbd, 0x10, 0x0, 0x4b}},
	}
	if chipID == 0x60 {
		return append(ops,
			i2ctest.IO{Addr: 0x76, W: []byte{0xe1}, R: []byte{0x6e, 0x1, 0x0, 0x13, 0x5, 0x0, 0x1e}},
			i2ctest.IO{Addr: 0x76, W: []byte{0xf4, 0x6c, 0xf2, 0x3, 0xf5, 0xa0, 0xf4, 0x6c}})
	}
	return append(ops, i2ctest.IO{Addr: 0x76, W: []byte{0xf4, 0x6c, 0xf5, 0xa0, 0xf4, 0x6c}})
}

// bme280Sense is one forced conversion; a BMP280 sends no humidity bytes.
func bme280Sense(chipID byte) []i2ctest.IO {
	data := []byte{0x4a, 0x52, 0xc0, 0x80, 0x96, 0xc0, 0x7a, 0x76}
	if chipID != 0x60 {
		data = data[:6]
	}
	return []i2ctest.IO{
		{Addr: 0x76, W: []byte{0xF4, 0x6d}},
		{Addr: 0x76, W: []byte{0xF3}, R: []byte{0}},
		{Addr: 0x76, W: []byte{0xf7}, R: data},
	}
}

func TestBME280_OneChipServesThreeSensors(t *testing.T) {
	f := newFakeBoard(t)
	ops := bme280Init(0x60)
	for range 3 {
		ops = append(ops, bme280Sense(0x60)...)
	}
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	f.buses["1"] = bus
	b := f.open(t, hw.Spec{Sensors: []hw.SensorSpec{
		{Name: "air", Kind: hw.Temperature, Driver: "bme280", Bus: "/dev/i2c-1", Address: "0x76"},
		{Name: "rh", Kind: hw.Humidity, Driver: "bme280", Bus: "1", Address: "118"},
		{Name: "baro", Kind: hw.Pressure, Driver: "bme280", Bus: "1", Address: "0x76"},
	}}, false)
	if fails := b.Report().Failed; len(fails) > 0 {
		t.Fatalf("failed: %v", fails)
	}
	want := map[string]struct {
		v    float64
		unit string
	}{"air": {23.72, "°C"}, "rh": {65.3056, "%"}, "baro": {1009.42695, "hPa"}}
	for _, s := range b.Sensors() {
		r, err := s.Sense(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", s.Name(), err)
		}
		w := want[s.Name()]
		if math.Abs(r.Value-w.v) > 1e-3 || r.Unit != w.unit || s.Unit() != w.unit {
			t.Errorf("%s = %v %s, want %v %s", s.Name(), r.Value, r.Unit, w.v, w.unit)
		}
		if !r.At.Equal(f.clock.Now()) || r.Sensor != s.Name() || r.Kind != s.Kind() {
			t.Errorf("%s: reading %+v", s.Name(), r)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if bus.Count != len(bus.Ops) {
		t.Errorf("bus replayed %d of %d operations", bus.Count, len(bus.Ops))
	}
}

func TestBME280_HumidityOnABMP280Fails(t *testing.T) {
	f := newFakeBoard(t)
	f.buses["1"] = &i2ctest.Playback{Ops: append(bme280Init(0x58), bme280Sense(0x58)...), DontPanic: true}
	b := f.open(t, hw.Spec{Sensors: []hw.SensorSpec{
		{Name: "air", Kind: hw.Temperature, Driver: "bme280", Bus: "1", Address: "0x76"},
		{Name: "rh", Kind: hw.Humidity, Driver: "bme280", Bus: "1", Address: "0x76"},
	}}, false)
	if got := b.Report().Failed["hardware.sensors[1]"]; !strings.Contains(got, "BMP280") {
		t.Errorf("Failed[hardware.sensors[1]] = %q, want it to name the BMP280", got)
	}
	air, err := b.Sensor("air")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := air.Sense(context.Background()); err != nil || math.Abs(r.Value-23.72) > 1e-3 {
		t.Errorf("air = %+v, %v", r, err)
	}
}

func TestSensors_ThermalAndDigital(t *testing.T) {
	f := newFakeBoard(t)
	f.setLevel("GPIO5", gpio.High)
	b := f.open(t, hw.Spec{Sensors: []hw.SensorSpec{
		{Name: "soc", Kind: hw.SoCTemperature, Driver: "thermal"},
		{Name: "door", Kind: hw.Digital, Driver: "gpio", Pin: "5"},
	}}, false)
	soc, _ := b.Sensor("soc")
	if r, err := soc.Sense(context.Background()); err != nil || r.Value != 47.236 || r.Unit != "°C" {
		t.Errorf("soc = %+v, %v", r, err)
	}
	door, _ := b.Sensor("door")
	if r, err := door.Sense(context.Background()); err != nil || r.Value != 1 {
		t.Errorf("door = %+v, %v", r, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := soc.Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Sense with an ended context = %v", err)
	}
}

func TestInput_EdgesFilteredAsConfigured(t *testing.T) {
	f := newFakeBoard(t)
	b := f.open(t, hw.Spec{Inputs: []hw.InputSpec{
		{Name: "witness", Kind: "witness", Pin: "GPIO22", Pull: "down", Edge: "both", Watches: "node-2/led"},
		{Name: "btn", Kind: "button", Pin: "GPIO23", Pull: "down", Edge: "rising"},
	}}, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	w, _ := b.Input("witness")
	if w.Watches() != "node-2/led" || w.Kind() != "witness" {
		t.Errorf("witness: %q %q", w.Kind(), w.Watches())
	}
	pin := f.pins["GPIO22"]
	pin.EdgesChan <- gpio.High
	if e, err := w.WaitForEdge(ctx); e != hw.Rising || err != nil {
		t.Errorf("WaitForEdge = %v, %v; want rising", e, err)
	}
	if high, _ := w.Read(); !high {
		t.Error("Read after a rising edge is low")
	}
	pin.EdgesChan <- gpio.Low
	if e, err := w.WaitForEdge(ctx); e != hw.Falling || err != nil {
		t.Errorf("WaitForEdge = %v, %v; want falling", e, err)
	}

	btn, _ := b.Input("btn")
	bp := f.pins["GPIO23"]
	bp.EdgesChan <- gpio.High
	bp.EdgesChan <- gpio.Low // filtered: the button reports rising edges only
	bp.EdgesChan <- gpio.High
	for i := range 2 {
		if e, err := btn.WaitForEdge(ctx); e != hw.Rising || err != nil {
			t.Errorf("press %d: WaitForEdge = %v, %v; want rising", i, e, err)
		}
	}
}

func TestInput_DebounceIgnoresABounceThatSettlesBack(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO23", Num: 23, EdgesChan: make(chan gpio.Level, 16)}
	bounces := 0
	in := &input{
		spec: hw.InputSpec{Name: "btn", Kind: "button", Pin: "GPIO23", Edge: "both", Debounce: 20 * time.Millisecond},
		line: pinLine{pin},
		last: gpio.Low,
		sleep: func(ctx context.Context, d time.Duration) error {
			if bounces == 0 {
				// The first edge was contact bounce: by the end of the
				// debounce delay the pin is back low, then really pressed.
				_ = pin.Out(gpio.Low)
				pin.EdgesChan <- gpio.High
			}
			bounces++
			return nil
		},
	}
	pin.EdgesChan <- gpio.High
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if e, err := in.WaitForEdge(ctx); e != hw.Rising || err != nil {
		t.Fatalf("WaitForEdge = %v, %v; want rising", e, err)
	}
	if bounces != 2 {
		t.Errorf("debounced %d edges, want 2 (the bounce, then the press)", bounces)
	}
}

func TestInput_WaitForEdgeEndsWithItsContext(t *testing.T) {
	f := newFakeBoard(t)
	b := f.open(t, hw.Spec{Inputs: []hw.InputSpec{{Name: "btn", Kind: "button", Pin: "GPIO23", Pull: "up"}}}, false)
	btn, _ := b.Input("btn")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := btn.WaitForEdge(ctx)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("WaitForEdge = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitForEdge did not return after its context ended")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := btn.WaitForEdge(context.Background()); err == nil {
		t.Error("WaitForEdge on a closed board succeeded")
	}
}
