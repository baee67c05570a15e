package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHWProbe_SimulatedTestnetNode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tn")
	if code, _, stderr := runCLI(t, "testnet", "--nodes", "4", "--out", dir); code != exitOK {
		t.Fatalf("testnet: exit %d: %s", code, stderr)
	}
	cfg := filepath.Join(dir, "node-1", "pact.yaml")

	code, stdout, stderr := runCLI(t, "hw", "probe", "--config", cfg, "--json")
	if code != exitOK {
		t.Fatalf("probe --json: exit %d: %s", code, stderr)
	}
	var rep probeReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("probe --json printed no JSON: %v\n%s", err, stdout)
	}
	if rep.Node != "node-1" || rep.Driver != "sim" || rep.Drivers.Loaded == nil || rep.Drivers.Skipped == nil || rep.Drivers.Failed == nil {
		t.Errorf("report head: %+v", rep)
	}
	if len(rep.Sensors) == 0 || len(rep.Outputs) == 0 || len(rep.Inputs) == 0 {
		t.Fatalf("a testnet node has sensors, outputs and inputs: %s", stdout)
	}
	for _, s := range rep.Sensors {
		if s.Value == nil || s.Error != "" || s.Unit == "" {
			t.Errorf("sensor %s: no live reading: %+v", s.Name, s)
		}
	}
	for _, o := range rep.Outputs {
		if o.On == nil || *o.On || o.Pin == "" {
			t.Errorf("output %s: want a readback of off on a named pin: %+v", o.Name, o)
		}
	}
	for _, in := range rep.Inputs {
		if in.Level == "" || in.Watches == "" {
			t.Errorf("input %s: %+v", in.Name, in)
		}
	}

	code, stdout, stderr = runCLI(t, "hw", "probe", "--config", cfg)
	if code != exitOK {
		t.Fatalf("probe: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"driver sim", "temp", "°C", "led", "GPIO17", "witness"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("probe does not say %q:\n%s", want, stdout)
		}
	}

	if code, stdout, stderr := runCLI(t, "hw", "halt", "--config", cfg); code != exitOK || !strings.Contains(stdout, "led") {
		t.Errorf("halt: exit %d\n%s%s", code, stdout, stderr)
	}
}

func writeAgentFile(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pact.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHWProbe_RealBoardWithoutGPIO(t *testing.T) {
	if chips, _ := filepath.Glob("/dev/gpiochip*"); len(chips) > 0 {
		t.Skip("this machine has GPIO: the probe may well succeed")
	}
	cfg := writeAgentFile(t, `node: pi-1
hardware:
  driver: periph
  sensors:
    - {name: air, kind: temperature, driver: bme280, bus: "1", address: "0x76"}
  outputs:
    - {name: led, kind: led, pin: GPIO17}
    - {name: fan, kind: relay, pin: "27", active: low}
  inputs:
    - {name: witness, kind: witness, pin: GPIO22, pull: down, watches: pi-2/led}
`)
	code, stdout, stderr := runCLI(t, "hw", "probe", "--config", cfg, "--json")
	if code != exitFailure {
		t.Fatalf("exit %d, want %d (configured devices do not work)\n%s%s", code, exitFailure, stdout, stderr)
	}
	var rep probeReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("no JSON: %v\n%s", err, stdout)
	}
	if rep.Driver != "periph" {
		t.Errorf("driver %q", rep.Driver)
	}
	for _, path := range []string{"hardware.sensors[0]", "hardware.outputs[0]", "hardware.outputs[1]", "hardware.inputs[0]"} {
		if rep.Problems[path] == "" {
			t.Errorf("problems lack %s: %v", path, rep.Problems)
		}
		if !strings.Contains(stderr, path) {
			t.Errorf("stderr does not name %s: %s", path, stderr)
		}
	}
	if rep.Outputs[1].Pin != "GPIO27" || rep.Outputs[0].On != nil || !strings.Contains(rep.Outputs[0].Error, "gpiochip") {
		t.Errorf("outputs: %+v", rep.Outputs)
	}
	if _, ok := rep.Drivers.Skipped["ioctl-gpio"]; !ok {
		t.Errorf("the character device driver is not reported skipped: %+v", rep.Drivers)
	}

	code, stdout, stderr = runCLI(t, "hw", "probe", "--config", cfg)
	if code != exitFailure || !strings.Contains(stdout, "ioctl-gpio") || !strings.Contains(stdout, "ERROR") {
		t.Errorf("text probe: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "hw", "halt", "--config", cfg); code != exitFailure || !strings.Contains(stderr, "NOT halted") {
		t.Errorf("halt without GPIO: exit %d: %s", code, stderr)
	}
}

func TestHWProbe_MalformedHardwareExits2WithKeyPaths(t *testing.T) {
	cfg := writeAgentFile(t, `node: pi-1
hardware:
  driver: periph
  sensors:
    - {name: air, kind: temperature, driver: dht22}
  outputs:
    - {name: led, kind: led, pin: GPIO 17}
    - {name: fan, kind: relay, pin: GPIO27}
    - {name: pump, kind: relay, pin: GPIO40}
  inputs:
    - {name: witness, kind: witness, pin: "27", watches: pi-2/led}
`)
	for _, sub := range []string{"probe", "halt"} {
		code, stdout, stderr := runCLI(t, "hw", sub, "--config", cfg)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d\n%s%s", sub, code, exitUsage, stdout, stderr)
		}
		for _, path := range []string{"hardware.sensors[0].driver", "hardware.outputs[0].pin", "hardware.outputs[2].pin", "hardware.inputs[0].pin"} {
			if !strings.Contains(stderr, path) {
				t.Errorf("%s: stderr does not name %s:\n%s", sub, path, stderr)
			}
		}
	}
	if code, _, stderr := runCLI(t, "config", "validate", cfg); code != exitUsage || !strings.Contains(stderr, "hardware.outputs[2].pin") {
		t.Errorf("config validate: exit %d: %s", code, stderr)
	}
}

func TestHW_Usage(t *testing.T) {
	for _, args := range [][]string{
		{"hw"},
		{"hw", "poke"},
		{"hw", "probe", "extra"},
		{"hw", "probe", "--timeout", "0s"},
		{"hw", "probe", "--config", filepath.Join(t.TempDir(), "missing.yaml")},
	} {
		if code, _, stderr := runCLI(t, args...); code != exitUsage || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q; want %d and a reason", args, code, stderr, exitUsage)
		}
	}
	if code, stdout, _ := runCLI(t, "help", "hw"); code != exitOK || !strings.Contains(stdout, "probe") {
		t.Errorf("help hw: exit %d: %s", code, stdout)
	}
}
