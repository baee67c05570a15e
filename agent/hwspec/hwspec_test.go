package hwspec

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/hw"
	"github.com/seed44533760/pact/hw/periph"
)

func agentWith(h config.Hardware) *config.Agent {
	a := config.DefaultAgent()
	a.Node, a.Zone = "pi-1", "greenhouse"
	a.Hardware = h
	a.ApplyDefaults()
	return a
}

func TestSpec_MapsEveryField(t *testing.T) {
	a := agentWith(config.Hardware{
		Driver: config.DriverPeriph,
		Sensors: []config.Sensor{
			{Name: "air", Kind: config.SensorHumidity, Driver: config.SensorBME280, Bus: "/dev/i2c-1", Address: "0x77"},
			{Name: "door", Kind: config.SensorDigital, Driver: config.SensorGPIO, Pin: "5"},
			{Name: "soc", Kind: config.SensorSoCTemperature},
		},
		Outputs: []config.Output{
			{Name: "led", Kind: config.OutputLED, Pin: "gpio17"},
			{Name: "fan", Kind: config.OutputRelay, Pin: "27", Active: config.Low, Safe: config.SafeHigh, MaxOn: time.Hour, MinOff: time.Minute},
		},
		Inputs: []config.Input{
			{Name: "witness", Pin: "GPIO22", Pull: "down", Watches: "pi-2/led"},
			{Name: "btn", Kind: config.InputButton, Pin: "GPIO23", Pull: "up", Edge: "falling"},
		},
	})
	if err := a.Hardware.Sensors[2].Driver; err != config.SensorThermal {
		t.Fatalf("defaults not applied: soc driver %q", err)
	}
	s := Spec(a)
	if s.Node != "pi-1" || s.Zone != "greenhouse" {
		t.Errorf("node/zone: %q %q", s.Node, s.Zone)
	}
	wantOut := []hw.OutputSpec{
		{Name: "led", Kind: "led", Pin: "GPIO17", Safe: hw.SafeOff},
		{Name: "fan", Kind: "relay", Pin: "GPIO27", ActiveLow: true, Safe: hw.SafeHigh, Limits: hw.Limits{MaxOn: time.Hour, MinOff: time.Minute}},
	}
	for i, w := range wantOut {
		if s.Outputs[i] != w {
			t.Errorf("outputs[%d] = %+v, want %+v", i, s.Outputs[i], w)
		}
	}
	wantIn := []hw.InputSpec{
		{Name: "witness", Kind: "witness", Pin: "GPIO22", Pull: "down", Edge: "both", Watches: "pi-2/led", Debounce: WireDebounce},
		{Name: "btn", Kind: "button", Pin: "GPIO23", Pull: "up", Edge: "falling", Debounce: ContactDebounce},
	}
	for i, w := range wantIn {
		if s.Inputs[i] != w {
			t.Errorf("inputs[%d] = %+v, want %+v", i, s.Inputs[i], w)
		}
	}
	wantSensors := []hw.SensorSpec{
		{Name: "air", Kind: hw.Humidity, Driver: "bme280", Bus: "/dev/i2c-1", Address: "0x77", Unit: "%"},
		{Name: "door", Kind: hw.Digital, Driver: "gpio", Pin: "GPIO5"},
		{Name: "soc", Kind: hw.SoCTemperature, Driver: "thermal", Unit: "°C"},
	}
	for i, w := range wantSensors {
		if s.Sensors[i] != w {
			t.Errorf("sensors[%d] = %+v, want %+v", i, s.Sensors[i], w)
		}
	}
	if err := s.Validate(); err != nil {
		t.Errorf("the spec of a valid file does not validate: %v", err)
	}
}

// TestPinRule_ConfigAndPeriphAgree holds agent/config's pin check and
// hw/periph's ParsePin together: a file that validates must open, and a pin
// periph would refuse must be caught by `pact config validate`.
func TestPinRule_ConfigAndPeriphAgree(t *testing.T) {
	spellings := []string{"", "GPIO", "GPIO 17", "gpio 17", "P1_11", "GPIO017", "017", "-1", "+1", "1e1", "0x11", "GPIO17a", "BCM17", "SDA1"}
	for n := 0; n <= 30; n++ {
		spellings = append(spellings, fmt.Sprint(n), fmt.Sprintf("GPIO%d", n), fmt.Sprintf("gpio%d", n), fmt.Sprintf("Gpio%02d", n))
	}
	for _, pin := range spellings {
		yaml := fmt.Sprintf("node: pi-1\nhardware:\n  driver: periph\n  outputs:\n    - {name: led, kind: led, pin: %q}\n", pin)
		_, err := config.ParseAgent("/etc/pact/pact.yaml", []byte(yaml))
		configOK := true
		for _, p := range config.Problems(err) {
			if p.Path == "hardware.outputs[0].pin" {
				configOK = false
			}
		}
		_, _, perr := periph.ParsePin(pin)
		if configOK != (perr == nil) {
			t.Errorf("pin %q: agent/config accepts it: %v; periph.ParsePin: %v", pin, configOK, perr)
		}
	}
}

func TestOpen_NoneIsAnEmptyBoard(t *testing.T) {
	b, err := OpenBoard(agentWith(config.Hardware{Driver: config.DriverNone}), "lab")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Outputs())+len(b.Inputs())+len(b.Sensors()) != 0 || b.Report().Driver != "none" {
		t.Errorf("empty board: %+v", b.Report())
	}
	if _, err := b.Output("led"); !errors.Is(err, hw.ErrNotFound) {
		t.Errorf("Output(led) = %v", err)
	}
	if err := b.Halt(); err != nil {
		t.Error(err)
	}
	if err := b.Close(); err != nil {
		t.Error(err)
	}
	withDevices := agentWith(config.Hardware{Driver: config.DriverNone, Outputs: []config.Output{{Name: "led", Kind: config.OutputLED, Pin: "17"}}})
	if _, err := OpenBoard(withDevices, "lab"); err == nil {
		t.Error("driver none with an output opened")
	}
}

func TestOpen_Sim(t *testing.T) {
	a := agentWith(config.Hardware{
		Driver:  config.DriverSim,
		Sensors: []config.Sensor{{Name: "temp", Kind: config.SensorTemperature}},
		Outputs: []config.Output{{Name: "led", Kind: config.OutputLED, Pin: "17"}},
	})
	b, err := OpenBoard(a, "hwspec-test")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(Missing(Spec(a), b)) != 0 {
		t.Errorf("missing on a sim board: %v", Missing(Spec(a), b))
	}
	led, err := b.Output("led")
	if err != nil {
		t.Fatal(err)
	}
	if on, err := led.Read(); on || err != nil {
		t.Errorf("led at open: %v, %v; want off", on, err)
	}
	temp, _ := b.Sensor("temp")
	if _, err := temp.Sense(context.Background()); err != nil {
		t.Errorf("sim sensor: %v", err)
	}
}

func TestOpen_PeriphSpecMistakeIsASpecError(t *testing.T) {
	// Config validation catches this too; a hand-built Agent skips it.
	a := agentWith(config.Hardware{
		Driver:  config.DriverPeriph,
		Outputs: []config.Output{{Name: "led", Kind: config.OutputLED, Pin: "P1_11"}},
	})
	_, err := Open(a, Options{Observe: true})
	var se *periph.SpecError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "hardware.outputs[0].pin") {
		t.Errorf("Open = %v; want a periph.SpecError naming hardware.outputs[0].pin", err)
	}
}

func TestMissing_NamesWhatDidNotOpen(t *testing.T) {
	spec := hw.Spec{
		Outputs: []hw.OutputSpec{{Name: "led"}},
		Sensors: []hw.SensorSpec{{Name: "soc"}},
	}
	got := Missing(spec, Empty())
	if len(got) != 2 || got["hardware.outputs[0]"] == "" || got["hardware.sensors[0]"] == "" {
		t.Errorf("Missing = %v", got)
	}
}
