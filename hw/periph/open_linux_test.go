//go:build linux

package periph

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed44533760/pact/hw"
)

// TestOpen_HostInit runs periph's real host.Init on whatever machine runs
// the tests. Off a Raspberry Pi it must still open, with the GPIO devices
// reported failed; on a Pi it touches only GPIO26 as an input with no
// edges configured, which drives nothing.
func TestOpen_HostInit(t *testing.T) {
	b, err := Open(hw.Spec{
		Inputs:  []hw.InputSpec{{Name: "probe", Kind: "generic", Pin: "GPIO26", Pull: "none", Edge: "both"}},
		Sensors: []hw.SensorSpec{{Name: "soc", Kind: hw.SoCTemperature, Driver: "thermal"}},
	}, Options{Observe: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer b.Close()
	r := b.Report()
	t.Logf("loaded %v", r.Loaded)
	t.Logf("skipped %v", r.Skipped)
	t.Logf("failed %v", r.Failed)
	if r.Driver != DriverName {
		t.Errorf("driver %q", r.Driver)
	}
	chips, _ := filepath.Glob("/dev/gpiochip*")
	if len(chips) == 0 {
		if reason := r.Failed["hardware.inputs[0]"]; !strings.Contains(reason, "no /dev/gpiochip") {
			t.Errorf("without GPIO, Failed[hardware.inputs[0]] = %q; want it to say there is no /dev/gpiochip*", reason)
		}
		if _, err := b.Input("probe"); !errors.Is(err, hw.ErrNotFound) {
			t.Errorf("Input(probe) without GPIO = %v, want ErrNotFound", err)
		}
	}
	if _, err := os.Stat("/sys/class/thermal/thermal_zone0/temp"); err != nil {
		if _, ok := r.Failed["hardware.sensors[0]"]; !ok {
			t.Error("no thermal zone here, yet the SoC sensor is not reported failed")
		}
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestOpen_RefusesABadPinBeforeTouchingHardware(t *testing.T) {
	_, err := Open(hw.Spec{Outputs: []hw.OutputSpec{{Name: "led", Kind: "led", Pin: "P1_11"}}}, Options{})
	if !errors.Is(err, ErrPinName) || !strings.Contains(err.Error(), "hardware.outputs[0].pin") {
		t.Errorf("Open = %v; want ErrPinName naming hardware.outputs[0].pin", err)
	}
}
