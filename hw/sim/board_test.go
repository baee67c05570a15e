package sim

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/seed44533760/pact/hw"
)

// node-2's LED drives node-1's witness input, whichever board opens first:
// edges arrive after the debounce, in order, and Read follows the wire.
func TestBoard_WitnessSeesTheWatchedOutput(t *testing.T) {
	for _, witnessFirst := range []bool{true, false} {
		name := map[bool]string{true: "witness opened first", false: "performer opened first"}[witnessFirst]
		t.Run(name, func(t *testing.T) {
			w, clock := newTestWorld(t, 1, WorldOptions{})
			s1 := spec("node-1", "greenhouse", false, "node-2/led")
			s1.Inputs[0].Debounce = 50 * time.Millisecond
			var n1, n2 *Board
			if witnessFirst {
				n1 = open(t, w, s1)
				n2 = open(t, w, spec("node-2", "greenhouse", false, ""))
			} else {
				n2 = open(t, w, spec("node-2", "greenhouse", false, ""))
				n1 = open(t, w, s1)
			}
			led, witness := mustOutput(t, n2, "led"), mustInput(t, n1, "witness")
			if witness.Watches() != "node-2/led" || witness.Kind() != "witness" {
				t.Fatalf("witness %q watches %q", witness.Kind(), witness.Watches())
			}
			noEdge(t, witness)

			if err := led.Set(true); err != nil {
				t.Fatal(err)
			}
			if high, _ := witness.Read(); !high {
				t.Fatal("the wire is not high after the LED went on")
			}
			noEdge(t, witness) // still debouncing
			clock.Advance(50 * time.Millisecond)
			if e := nextEdge(t, witness); e != hw.Rising {
				t.Fatalf("edge %s, want rising", e)
			}
			if err := led.Set(false); err != nil {
				t.Fatal(err)
			}
			clock.Advance(50 * time.Millisecond)
			if e := nextEdge(t, witness); e != hw.Falling {
				t.Fatalf("edge %s, want falling", e)
			}
			noEdge(t, witness)
		})
	}
}

// A goroutine already waiting gets the edge; one whose context ends gets
// the context's error.
func TestInput_WaitForEdgeHandoverAndCancel(t *testing.T) {
	w, clock := newTestWorld(t, 1, WorldOptions{})
	n1 := open(t, w, spec("node-1", "z", false, "node-2/led"))
	n2 := open(t, w, spec("node-2", "z", false, ""))
	witness := mustInput(t, n1, "witness")

	type result struct {
		e   hw.Edge
		err error
	}
	got := make(chan result, 1)
	go func() {
		e, err := witness.WaitForEdge(context.Background())
		got <- result{e, err}
	}()
	if err := mustOutput(t, n2, "led").Set(true); err != nil {
		t.Fatal(err)
	}
	clock.Advance(0)
	select {
	case r := <-got:
		if r.err != nil || r.e != hw.Rising {
			t.Fatalf("waiter got %s, %v", r.e, r.err)
		}
	case <-time.After(generous):
		t.Fatal("the waiting goroutine never got the edge")
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		e, err := witness.WaitForEdge(ctx)
		got <- result{e, err}
	}()
	cancel()
	select {
	case r := <-got:
		if !errors.Is(r.err, context.Canceled) || r.e != hw.NoEdge {
			t.Fatalf("cancelled waiter got %s, %v", r.e, r.err)
		}
	case <-time.After(generous):
		t.Fatal("cancel did not wake the waiter")
	}
}

// Debounce: a bounce shorter than the debounce time is never seen, a level
// that holds is reported once, and the edge filter drops what it should.
func TestInput_Debounce(t *testing.T) {
	const debounce = 20 * time.Millisecond
	type level struct {
		after time.Duration // wait before setting it
		high  bool
	}
	for _, tc := range []struct {
		name   string
		edge   string
		levels []level
		want   []hw.Edge
	}{
		{"clean press", "both", []level{{0, true}}, []hw.Edge{hw.Rising}},
		{"press and release", "both", []level{{0, true}, {100 * time.Millisecond, false}}, []hw.Edge{hw.Rising, hw.Falling}},
		{"bouncy press", "both", []level{{0, true}, {5 * time.Millisecond, false}, {5 * time.Millisecond, true}, {5 * time.Millisecond, false}, {5 * time.Millisecond, true}}, []hw.Edge{hw.Rising}},
		{"glitch shorter than debounce", "both", []level{{0, true}, {19 * time.Millisecond, false}}, nil},
		{"rising only", "rising", []level{{0, true}, {50 * time.Millisecond, false}, {50 * time.Millisecond, true}}, []hw.Edge{hw.Rising, hw.Rising}},
		{"falling only", "falling", []level{{0, true}, {50 * time.Millisecond, false}}, []hw.Edge{hw.Falling}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, clock := newTestWorld(t, 1, WorldOptions{})
			s := hw.Spec{Node: "node-1", Inputs: []hw.InputSpec{{Name: "button", Kind: "button", Pin: "GPIO5", Pull: "down", Edge: tc.edge, Debounce: debounce}}}
			b := open(t, w, s)
			in := mustInput(t, b, "button")
			for _, l := range tc.levels {
				clock.Advance(l.after)
				if err := b.SetLevel("button", gpio.Level(l.high)); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(time.Second)
			for _, want := range tc.want {
				if e := nextEdge(t, in); e != want {
					t.Fatalf("edge %s, want %s", e, want)
				}
			}
			noEdge(t, in)
		})
	}
}

// A pull-up input idles high; with no debounce an edge is immediate.
func TestInput_PullUpNoDebounce(t *testing.T) {
	w, _ := newTestWorld(t, 1, WorldOptions{})
	b := open(t, w, hw.Spec{Node: "n", Inputs: []hw.InputSpec{{Name: "door", Kind: "switch", Pin: "4", Pull: "up"}}})
	in := mustInput(t, b, "door")
	if high, _ := in.Read(); !high {
		t.Fatal("a pull-up input idles low")
	}
	if err := b.SetLevel("door", gpio.Low); err != nil {
		t.Fatal(err)
	}
	if e := nextEdge(t, in); e != hw.Falling {
		t.Fatalf("edge %s", e)
	}
}

// A stuck pin: Set succeeds, but readback, the witness and OutputState all
// see the stuck level; clearing the fault puts the pin where it was told.
func TestWorld_StuckOutput(t *testing.T) {
	w, clock := newTestWorld(t, 1, WorldOptions{})
	n1 := open(t, w, spec("node-1", "z", false, "node-2/led"))
	n2 := open(t, w, spec("node-2", "z", false, ""))
	led, witness := mustOutput(t, n2, "led"), mustInput(t, n1, "witness")

	w.StuckOutput("node-2", "led", gpio.Low)
	if err := led.Set(true); err != nil {
		t.Fatalf("Set on a stuck pin: %v", err)
	}
	clock.Advance(time.Second)
	if on, _ := led.Read(); on {
		t.Error("readback says on: a stuck-low pin must read off")
	}
	if n2.OutputState("led") {
		t.Error("OutputState says on")
	}
	noEdge(t, witness)

	w.ClearFaults("node-2")
	if on, _ := led.Read(); !on {
		t.Error("after repair the pin is not where it was told")
	}
	if e := nextEdge(t, witness); e != hw.Rising {
		t.Errorf("witness saw %s after the repair, want rising", e)
	}

	// Stuck high while off: the witness sees it go on without any Set.
	if err := led.Set(false); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if e := nextEdge(t, witness); e != hw.Falling {
		t.Fatalf("witness saw %s, want falling", e)
	}
	w.StuckOutput("node-2", "led", gpio.High)
	clock.Advance(time.Second)
	if !n2.OutputState("led") {
		t.Error("stuck high does not show")
	}
	if e := nextEdge(t, witness); e != hw.Rising {
		t.Errorf("witness saw %s when the pin stuck high, want rising", e)
	}
}

// A fault injected before the board opens is there when it does.
func TestWorld_StuckBeforeOpen(t *testing.T) {
	w, _ := newTestWorld(t, 1, WorldOptions{})
	w.StuckOutput("node-1", "fan", gpio.High)
	b := open(t, w, spec("node-1", "z", true, ""))
	if !b.OutputState("fan") || w.Fans("z") != 1 {
		t.Fatalf("fan stuck on: state %v, %d fans running", b.OutputState("fan"), w.Fans("z"))
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Fans("z") != 0 {
		t.Fatal("a closed board's fan still cools")
	}
}

// Sensor faults: an offset from now on, a drift that grows with time, and
// the repair. Other nodes' sensors are untouched.
func TestWorld_SensorFaults(t *testing.T) {
	w, clock := newTestWorld(t, 1, WorldOptions{Quiet: true})
	liar := open(t, w, spec("node-1", "z", false, ""))
	honest := open(t, w, spec("node-2", "z", false, ""))
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 0.011 {
			t.Errorf("%s: %.3f, want %.3f", what, got, want)
		}
	}

	w.OffsetSensor("node-1", "temp", 3)
	near("offset", sense(t, liar, "temp"), w.Temperature("z")+3)
	near("honest", sense(t, honest, "temp"), w.Temperature("z"))

	w.DriftSensor("node-1", "temp", 0.1)
	clock.Advance(60 * time.Second)
	near("offset and 60 s of drift", sense(t, liar, "temp"), w.Temperature("z")+3+6)
	clock.Advance(30 * time.Second)
	near("offset and 90 s of drift", sense(t, liar, "temp"), w.Temperature("z")+3+9)
	near("honest", sense(t, honest, "temp"), w.Temperature("z"))

	w.ClearFaults("node-1")
	near("repaired", sense(t, liar, "temp"), w.Temperature("z"))
}

// Every sensor kind reads what the world holds, through the driver it
// names, within its noise; readings carry name, kind, unit and time.
func TestBoard_Sensors(t *testing.T) {
	for _, tc := range []struct {
		sensor hw.SensorSpec
		want   func(w *World) float64
		tol    float64 // noisy: about 5 σ plus resolution
		unit   string
	}{
		{hw.SensorSpec{Name: "t", Kind: hw.Temperature, Driver: "sim"}, func(w *World) float64 { return w.Temperature("z") }, 0.26, "°C"},
		{hw.SensorSpec{Name: "t", Kind: hw.Temperature, Driver: "bme280", Bus: "1", Address: "0x77"}, func(w *World) float64 { return w.Temperature("z") }, 0.26, "°C"},
		{hw.SensorSpec{Name: "t", Kind: hw.Temperature, Driver: "ds18b20"}, func(w *World) float64 { return w.Temperature("z") }, 0.26, "°C"},
		{hw.SensorSpec{Name: "h", Kind: hw.Humidity, Driver: "bme280", Bus: "1", Address: "0x76"}, func(w *World) float64 { return w.Humidity("z") }, 1.5, "%"},
		{hw.SensorSpec{Name: "p", Kind: hw.Pressure}, func(w *World) float64 { return w.Pressure("z") }, 0.5, "hPa"},
		{hw.SensorSpec{Name: "cpu", Kind: hw.SoCTemperature, Driver: "thermal"}, func(*World) float64 { return 45 }, 2.5, "°C"},
	} {
		t.Run(string(tc.sensor.Kind)+"/"+tc.sensor.Driver, func(t *testing.T) {
			w, clock := newTestWorld(t, 11, WorldOptions{})
			b := open(t, w, hw.Spec{Node: "node-1", Zone: "z", Sensors: []hw.SensorSpec{tc.sensor}})
			s, err := b.Sensor(tc.sensor.Name)
			if err != nil {
				t.Fatal(err)
			}
			var values []float64
			for range 20 {
				clock.Advance(3 * time.Second)
				r, err := s.Sense(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if r.Sensor != tc.sensor.Name || r.Kind != tc.sensor.Kind || r.Unit != tc.unit || !r.At.Equal(clock.Now()) {
					t.Fatalf("reading %+v", r)
				}
				if want := tc.want(w); math.Abs(r.Value-want) > tc.tol {
					t.Fatalf("read %.3f, world %.3f", r.Value, want)
				}
				values = append(values, r.Value-tc.want(w))
			}
			if tc.sensor.Kind != hw.SoCTemperature && allEqual(values) {
				t.Errorf("no noise in %v", values)
			}
		})
	}
}

func allEqual(v []float64) bool {
	for _, x := range v {
		if x != v[0] {
			return false
		}
	}
	return true
}

func TestBoard_DigitalSensor(t *testing.T) {
	w, _ := newTestWorld(t, 1, WorldOptions{})
	b := open(t, w, hw.Spec{Node: "n", Sensors: []hw.SensorSpec{{Name: "float", Kind: hw.Digital, Driver: "gpio", Pin: "GPIO6"}}})
	if v := sense(t, b, "float"); v != 0 {
		t.Fatalf("idle digital sensor reads %v", v)
	}
	if err := b.SetLevel("float", gpio.High); err != nil {
		t.Fatal(err)
	}
	if v := sense(t, b, "float"); v != 1 {
		t.Fatalf("high digital sensor reads %v", v)
	}
}

// Outputs: the active level and the safe state reach the pin; limits are
// enforced on the board's outputs; a fan at MaxOn stops cooling.
func TestBoard_Outputs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		out       hw.OutputSpec
		pinAtOpen gpio.Level
		pinWhenOn gpio.Level
	}{
		{"active high, safe off", hw.OutputSpec{Name: "led", Kind: "led", Pin: "GPIO17", Safe: hw.SafeOff}, gpio.Low, gpio.High},
		{"active low relay, safe off", hw.OutputSpec{Name: "pump", Kind: "relay", Pin: "GPIO27", ActiveLow: true, Safe: hw.SafeOff}, gpio.High, gpio.Low},
		{"active low relay, safe low (on)", hw.OutputSpec{Name: "pump", Kind: "relay", Pin: "GPIO27", ActiveLow: true, Safe: hw.SafeLow}, gpio.Low, gpio.Low},
		{"active high, safe high", hw.OutputSpec{Name: "heater", Kind: "generic", Pin: "GPIO5", Safe: hw.SafeHigh}, gpio.High, gpio.High},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := newTestWorld(t, 1, WorldOptions{})
			b := open(t, w, hw.Spec{Node: "n", Outputs: []hw.OutputSpec{tc.out}})
			pin := b.outputsByName[tc.out.Name].pin
			if got := pin.Read(); got != tc.pinAtOpen {
				t.Errorf("pin %s at open, want %s", got, tc.pinAtOpen)
			}
			o := mustOutput(t, b, tc.out.Name)
			if err := o.Set(true); err != nil {
				t.Fatal(err)
			}
			if got := pin.Read(); got != tc.pinWhenOn {
				t.Errorf("pin %s when on, want %s", got, tc.pinWhenOn)
			}
			if on, _ := o.Read(); !on || !b.OutputState(tc.out.Name) {
				t.Error("readback says off")
			}
			if err := b.Halt(); err != nil {
				t.Fatal(err)
			}
			if got := pin.Read(); got != tc.pinAtOpen {
				t.Errorf("pin %s after halt, want the safe %s", got, tc.pinAtOpen)
			}
			if err := o.Set(true); !errors.Is(err, hw.ErrHalted) {
				t.Errorf("Set after Halt: %v", err)
			}
		})
	}
}

func TestBoard_FanLimits(t *testing.T) {
	w, clock := newTestWorld(t, 1, WorldOptions{})
	s := spec("node-1", "z", true, "")
	s.Outputs[1].Limits = hw.Limits{MaxOn: 10 * time.Second, MinOff: 5 * time.Second}
	b := open(t, w, s)
	fan := mustOutput(t, b, "fan")
	if err := fan.Set(true); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	if b.OutputState("fan") || w.Fans("z") != 0 {
		t.Fatal("the fan runs past its MaxOn")
	}
	if err := fan.Set(true); !errors.Is(err, hw.ErrLimit) {
		t.Fatalf("on again within MinOff: %v", err)
	}
	clock.Advance(5 * time.Second)
	if err := fan.Set(true); err != nil {
		t.Fatal(err)
	}
}

func TestBoard_Report(t *testing.T) {
	w, _ := newTestWorld(t, 1, WorldOptions{})
	s := spec("node-1", "z", true, "node-2/led")
	s.Sensors = append(s.Sensors,
		hw.SensorSpec{Name: "cpu", Kind: hw.SoCTemperature},
		hw.SensorSpec{Name: "rh", Kind: hw.Humidity, Driver: "ds18b20"},
		hw.SensorSpec{Name: "f", Kind: hw.Temperature, Unit: "°F"},
	)
	b := open(t, w, s)
	r := b.Report()
	if r.Driver != "sim" {
		t.Errorf("driver %q", r.Driver)
	}
	loaded := strings.Join(r.Loaded, "\n")
	for _, want := range []string{"led (led output on GPIO17)", "fan (relay output on GPIO27)", "witness (witness input on GPIO22, wired to node-2/led)", "temp (temperature via bmxx80, BME280 at 0x76 on sim-i2c)", "cpu (soc_temperature"} {
		if !strings.Contains(loaded, want) {
			t.Errorf("loaded lacks %q:\n%s", want, loaded)
		}
	}
	if len(r.Failed) != 2 || !strings.Contains(r.Failed["hardware.sensors[2]"], "sensor rh (ds18b20)") || !strings.Contains(r.Failed["hardware.sensors[3]"], "°C") {
		t.Errorf("failed: %v", r.Failed)
	}
	if len(b.Sensors()) != 2 || len(b.Outputs()) != 2 || len(b.Inputs()) != 1 {
		t.Errorf("%d sensors, %d outputs, %d inputs", len(b.Sensors()), len(b.Outputs()), len(b.Inputs()))
	}
	r.Failed["x"] = "mutated"
	if _, ok := b.Report().Failed["x"]; ok {
		t.Error("Report hands out its own map")
	}
}

func TestBoard_NotFound(t *testing.T) {
	w, _ := newTestWorld(t, 1, WorldOptions{})
	b := open(t, w, spec("node-1", "z", false, ""))
	if _, err := b.Output("nope"); !errors.Is(err, hw.ErrNotFound) {
		t.Error(err)
	}
	if _, err := b.Input("nope"); !errors.Is(err, hw.ErrNotFound) {
		t.Error(err)
	}
	if _, err := b.Sensor("nope"); !errors.Is(err, hw.ErrNotFound) {
		t.Error(err)
	}
	if err := b.SetLevel("nope", gpio.High); !errors.Is(err, hw.ErrNotFound) {
		t.Error(err)
	}
	if b.OutputState("nope") {
		t.Error("an unknown output is on")
	}
}

// One node per world; Close is idempotent, frees the name, halts outputs,
// wakes waiters and refuses reads; the witness of a closed board falls back
// to idle.
func TestBoard_OpenAndClose(t *testing.T) {
	w, clock := newTestWorld(t, 1, WorldOptions{})
	n1 := open(t, w, spec("node-1", "z", false, "node-2/led"))
	n2, err := Open(spec("node-2", "z", false, ""), Options{World: w})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(spec("node-2", "z", false, ""), Options{World: w}); !errors.Is(err, ErrNodeOpen) {
		t.Fatalf("second node-2: %v", err)
	}
	if _, err := Open(hw.Spec{Node: "x", Outputs: []hw.OutputSpec{{Name: "a", Pin: "GPIO1"}, {Name: "a", Pin: "GPIO2"}}}, Options{World: w}); err == nil {
		t.Fatal("a spec with a duplicate name opened")
	}
	if _, err := Open(hw.Spec{}, Options{World: w}); err == nil {
		t.Fatal("a spec without a node opened")
	}

	led, witness := mustOutput(t, n2, "led"), mustInput(t, n1, "witness")
	if err := led.Set(true); err != nil {
		t.Fatal(err)
	}
	clock.Advance(0)
	if e := nextEdge(t, witness); e != hw.Rising {
		t.Fatal(e)
	}
	if err := n2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n2.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n2.OutputState("led") {
		t.Error("closed board's LED still on")
	}
	if e := nextEdge(t, witness); e != hw.Falling {
		t.Errorf("witness of a closed board saw %s, want falling", e)
	}
	if err := led.Set(true); !errors.Is(err, hw.ErrHalted) {
		t.Errorf("Set after Close: %v", err)
	}
	led.Resume()
	if err := led.Set(true); !errors.Is(err, ErrClosed) {
		t.Errorf("Set after Close and Resume: %v", err)
	}
	if s, _ := n2.Sensor("temp"); s != nil {
		if _, err := s.Sense(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Sense after Close: %v", err)
		}
	}
	if _, err := Open(spec("node-2", "z", false, ""), Options{World: w}); err != nil {
		t.Fatalf("reopen after Close: %v", err)
	}

	if err := n1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := witness.WaitForEdge(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitForEdge after Close: %v", err)
	}
}

// A sensor honours a context that has already ended.
func TestSensor_Context(t *testing.T) {
	w, _ := newTestWorld(t, 1, WorldOptions{})
	b := open(t, w, spec("node-1", "z", false, ""))
	s, _ := b.Sensor("temp")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// Options without a World put the board in the cluster's shared world.
func TestOpen_DefaultsToTheSharedWorld(t *testing.T) {
	b, err := Open(spec("node-1", "z", false, ""), Options{Cluster: "open-default-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.World() != SharedWorld("open-default-test") {
		t.Fatal("not in the shared world")
	}
}
