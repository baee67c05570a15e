package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Hardware is what a node drives and reads. The hardware layer will refine
// these structs; they are typed now so the capability document and action
// matching have something firm to stand on.
type Hardware struct {
	// Driver is sim (simulated world), periph (real GPIO, I²C and 1-wire
	// through periph.io) or none. Default periph.
	Driver HardwareDriver `yaml:"driver"`
	// Sensors are read periodically and published as signed readings.
	Sensors []Sensor `yaml:"sensors,omitempty"`
	// Outputs are what actions drive.
	Outputs []Output `yaml:"outputs,omitempty"`
	// Inputs are read on edges: buttons, and witness wires that let this
	// node confirm another node's output.
	Inputs []Input `yaml:"inputs,omitempty"`
}

// HardwareDriver selects the hardware implementation.
type HardwareDriver string

const (
	DriverSim    HardwareDriver = "sim"
	DriverPeriph HardwareDriver = "periph"
	DriverNone   HardwareDriver = "none"
)

// HardwareDrivers lists the valid HardwareDriver values.
var HardwareDrivers = []HardwareDriver{DriverSim, DriverPeriph, DriverNone}

// Output is a GPIO output.
type Output struct {
	// Name is how actions refer to it ("led", "fan"). Unique on the node.
	Name string `yaml:"name"`
	// Kind is led, relay, fan, buzzer or generic.
	Kind OutputKind `yaml:"kind"`
	// Pin is the GPIO in BCM numbering, GPIO0 to GPIO27 (a bare 17 means
	// GPIO17).
	Pin string `yaml:"pin"`
	// Active is the electrical level that means "on": high, or low for
	// relay boards that switch on a low input. Default high.
	Active Level `yaml:"active"`
	// Safe is the state the pin is put in at start, on halt and on exit:
	// off (inactive), low or high. Default off.
	Safe SafeState `yaml:"safe"`
	// MaxOn caps how long the output stays on, whatever a request says.
	// Zero means no cap.
	MaxOn time.Duration `yaml:"max_on,omitempty"`
	// MinOff is the least time the output rests between two activations
	// (relays and compressors wear). Zero means none.
	MinOff time.Duration `yaml:"min_off,omitempty"`
}

// OutputKind is what an output is connected to.
type OutputKind string

const (
	OutputLED     OutputKind = "led"
	OutputRelay   OutputKind = "relay"
	OutputFan     OutputKind = "fan"
	OutputBuzzer  OutputKind = "buzzer"
	OutputGeneric OutputKind = "generic"
)

// OutputKinds lists the valid OutputKind values.
var OutputKinds = []OutputKind{OutputLED, OutputRelay, OutputFan, OutputBuzzer, OutputGeneric}

// SafeState is an output's state when nothing drives it.
type SafeState string

const (
	SafeOff  SafeState = "off"
	SafeLow  SafeState = "low"
	SafeHigh SafeState = "high"
)

// SafeStates lists the valid SafeState values.
var SafeStates = []SafeState{SafeOff, SafeLow, SafeHigh}

// Input is a GPIO input.
type Input struct {
	// Name is unique on the node.
	Name string `yaml:"name"`
	// Kind is witness, button, switch or generic. Default witness when
	// Watches is set, generic otherwise.
	Kind InputKind `yaml:"kind"`
	// Pin is the GPIO in BCM numbering, as for outputs.
	Pin string `yaml:"pin"`
	// Pull is the internal resistor: up, down or none. Default none.
	Pull Pull `yaml:"pull"`
	// Edge is which transitions are reported: rising, falling or both.
	// Default both.
	Edge Edge `yaml:"edge"`
	// Watches is "node/output": the other node's output this input is wired
	// to, so this node can witness that node's outcomes. Kind witness only.
	Watches string `yaml:"watches,omitempty"`
}

// InputKind is what an input is connected to.
type InputKind string

const (
	InputWitness InputKind = "witness"
	InputButton  InputKind = "button"
	InputSwitch  InputKind = "switch"
	InputGeneric InputKind = "generic"
)

// InputKinds lists the valid InputKind values.
var InputKinds = []InputKind{InputWitness, InputButton, InputSwitch, InputGeneric}

// Pull is an input's internal resistor.
type Pull string

// Pulls lists the valid Pull values.
var Pulls = []Pull{"up", "down", "none"}

// Edge selects the transitions an input reports.
type Edge string

// Edges lists the valid Edge values.
var Edges = []Edge{"rising", "falling", "both"}

// Sensor is something the node measures.
type Sensor struct {
	// Name is unique on the node.
	Name string `yaml:"name"`
	// Kind is temperature, humidity, pressure, digital or soc_temperature.
	Kind SensorKind `yaml:"kind"`
	// Driver reads it: bme280 (I²C), ds18b20 (1-wire), thermal (the SoC's
	// thermal zone), gpio (a digital pin) or sim. Default sim with the sim
	// hardware driver, thermal for soc_temperature.
	Driver SensorDriver `yaml:"driver"`
	// Bus is the I²C bus ("1" or "/dev/i2c-1") for bme280.
	Bus string `yaml:"bus,omitempty"`
	// Address is the I²C address for bme280 (0x76 or 0x77), or the 1-wire
	// device id for ds18b20 (28-0316a2791dff; default the first found).
	Address string `yaml:"address,omitempty"`
	// Pin is the GPIO pin of a gpio sensor.
	Pin string `yaml:"pin,omitempty"`
	// Unit of the readings. Default by kind: °C, %, hPa.
	Unit string `yaml:"unit,omitempty"`
}

// SensorKind is what a sensor measures.
type SensorKind string

const (
	SensorTemperature    SensorKind = "temperature"
	SensorHumidity       SensorKind = "humidity"
	SensorPressure       SensorKind = "pressure"
	SensorDigital        SensorKind = "digital"
	SensorSoCTemperature SensorKind = "soc_temperature"
)

// SensorKinds lists the valid SensorKind values.
var SensorKinds = []SensorKind{SensorTemperature, SensorHumidity, SensorPressure, SensorDigital, SensorSoCTemperature}

// SensorDriver names a sensor driver.
type SensorDriver string

const (
	SensorBME280  SensorDriver = "bme280"
	SensorDS18B20 SensorDriver = "ds18b20"
	SensorThermal SensorDriver = "thermal"
	SensorGPIO    SensorDriver = "gpio"
	SensorSim     SensorDriver = "sim"
)

// SensorDrivers lists the valid SensorDriver values.
var SensorDrivers = []SensorDriver{SensorBME280, SensorDS18B20, SensorThermal, SensorGPIO, SensorSim}

// driverKinds says which kinds each driver can measure.
var driverKinds = map[SensorDriver][]SensorKind{
	SensorBME280:  {SensorTemperature, SensorHumidity, SensorPressure},
	SensorDS18B20: {SensorTemperature},
	SensorThermal: {SensorSoCTemperature},
	SensorGPIO:    {SensorDigital},
	SensorSim:     SensorKinds,
}

// defaultUnits are the units readings of each kind carry.
var defaultUnits = map[SensorKind]string{
	SensorTemperature:    "°C",
	SensorSoCTemperature: "°C",
	SensorHumidity:       "%",
	SensorPressure:       "hPa",
}

func (h *Hardware) applyDefaults() {
	for i := range h.Outputs {
		o := &h.Outputs[i]
		if o.Active == "" {
			o.Active = High
		}
		if o.Safe == "" {
			o.Safe = SafeOff
		}
	}
	for i := range h.Inputs {
		in := &h.Inputs[i]
		if in.Kind == "" {
			in.Kind = InputGeneric
			if in.Watches != "" {
				in.Kind = InputWitness
			}
		}
		if in.Pull == "" {
			in.Pull = "none"
		}
		if in.Edge == "" {
			in.Edge = "both"
		}
	}
	for i := range h.Sensors {
		s := &h.Sensors[i]
		if s.Driver == "" {
			switch {
			case h.Driver == DriverSim:
				s.Driver = SensorSim
			case s.Kind == SensorSoCTemperature:
				s.Driver = SensorThermal
			}
		}
		if s.Unit == "" {
			s.Unit = defaultUnits[s.Kind]
		}
	}
}

var oneWireIDRE = regexp.MustCompile(`^[0-9a-f]{2}-[0-9a-f]{12}$`)

// validate checks the hardware section.
func (h Hardware) validate(r *report) {
	h.applyDefaults() // a copy: empty means default
	const path = "hardware"
	if msg := oneOf(h.Driver, HardwareDrivers); msg != "" {
		r.errorf(keyPath(path, "driver"), "%s", msg)
	}
	if h.Driver == DriverNone && len(h.Sensors)+len(h.Outputs)+len(h.Inputs) > 0 {
		r.errorf(keyPath(path, "driver"), "is none, but devices are listed: use periph for real hardware or sim for a simulated one")
	}

	names := map[string]string{} // device name → path of its first use
	pins := map[string]string{}  // normalized pin → path of its first use
	claimName := func(p, name string) {
		if msg := checkName(name); msg != "" {
			r.errorf(keyPath(p, "name"), "%s", msg)
			return
		}
		if first, dup := names[name]; dup {
			r.errorf(keyPath(p, "name"), "%q is already the name of %s", name, first)
			return
		}
		names[name] = p
	}
	claimPin := func(p, pin string, required bool) {
		switch {
		case pin == "" && required:
			r.errorf(keyPath(p, "pin"), "required: the GPIO pin, e.g. GPIO17")
		case pin == "":
		case !pinRE.MatchString(pin):
			r.errorf(keyPath(p, "pin"), "%q is not a pin name: a Raspberry Pi GPIO is GPIO0 to GPIO27 (BCM numbering, as `pinout` prints them) or the bare number", pin)
		default:
			if first, dup := pins[normalPin(pin)]; dup {
				r.errorf(keyPath(p, "pin"), "pin %s is already used by %s", pin, first)
				return
			}
			pins[normalPin(pin)] = p
		}
	}

	type busAddr struct{ bus, addr string }
	devices := map[busAddr]string{}
	for i, s := range h.Sensors {
		p := indexPath(keyPath(path, "sensors"), i)
		claimName(p, s.Name)
		kindOK := oneOf(s.Kind, SensorKinds) == ""
		if !kindOK {
			r.errorf(keyPath(p, "kind"), "%s", oneOf(s.Kind, SensorKinds))
		}
		if s.Driver == "" {
			r.errorf(keyPath(p, "driver"), "required: %s", joinWords(SensorDrivers))
			continue
		}
		if msg := oneOf(s.Driver, SensorDrivers); msg != "" {
			r.errorf(keyPath(p, "driver"), "%s", msg)
			continue
		}
		if s.Driver == SensorSim && h.Driver != DriverSim {
			r.errorf(keyPath(p, "driver"), "sim sensors need hardware.driver: sim; a real board reads bme280, ds18b20, thermal or gpio")
		}
		if kinds := driverKinds[s.Driver]; kindOK && oneOf(s.Kind, kinds) != "" {
			r.errorf(keyPath(p, "kind"), "the %s driver measures %s, not %s", s.Driver, joinWords(kinds), s.Kind)
		}
		switch s.Driver {
		case SensorBME280:
			if s.Bus == "" {
				r.errorf(keyPath(p, "bus"), "required for bme280: the I²C bus, e.g. 1 for /dev/i2c-1")
			}
			if a, err := strconv.ParseUint(s.Address, 0, 8); err != nil || (a != 0x76 && a != 0x77) {
				r.errorf(keyPath(p, "address"), "a BME280 answers at 0x76 or 0x77, got %q", s.Address)
			} else {
				// The same chip reports several kinds; two sensors of one
				// kind on one address are a copy-paste slip.
				key := busAddr{s.Bus, fmt.Sprintf("%#x/%s", a, s.Kind)}
				if first, dup := devices[key]; dup {
					r.errorf(keyPath(p, "address"), "%s on bus %s at %s is already read by %s", s.Kind, s.Bus, s.Address, first)
				}
				devices[key] = p
			}
			// I²C bus 1 is GPIO2 (SDA) and GPIO3 (SCL) on every Pi: taking
			// either as a GPIO would switch the bus's pin away from it.
			if s.Bus == "1" || s.Bus == "/dev/i2c-1" {
				for _, pin := range []string{"GPIO2 (I²C bus 1's SDA)", "GPIO3 (I²C bus 1's SCL)"} {
					name, role, _ := strings.Cut(pin, " ")
					if _, taken := pins[name]; !taken {
						pins[name] = p + " " + role
					}
				}
			}
		case SensorDS18B20:
			if s.Address != "" && !oneWireIDRE.MatchString(strings.ToLower(s.Address)) {
				r.errorf(keyPath(p, "address"), "%q is not a 1-wire id such as 28-0316a2791dff (see /sys/bus/w1/devices)", s.Address)
			}
		case SensorGPIO:
			claimPin(p, s.Pin, true)
		}
	}

	for i, o := range h.Outputs {
		p := indexPath(keyPath(path, "outputs"), i)
		claimName(p, o.Name)
		if msg := oneOf(o.Kind, OutputKinds); msg != "" {
			r.errorf(keyPath(p, "kind"), "%s", msg)
		}
		claimPin(p, o.Pin, true)
		if msg := oneOf(o.Active, Levels); msg != "" {
			r.errorf(keyPath(p, "active"), "%s", msg)
		}
		if msg := oneOf(o.Safe, SafeStates); msg != "" {
			r.errorf(keyPath(p, "safe"), "%s", msg)
		}
		if o.MaxOn < 0 {
			r.errorf(keyPath(p, "max_on"), "%v is negative", o.MaxOn)
		}
		if o.MinOff < 0 {
			r.errorf(keyPath(p, "min_off"), "%v is negative", o.MinOff)
		}
	}

	for i, in := range h.Inputs {
		p := indexPath(keyPath(path, "inputs"), i)
		claimName(p, in.Name)
		if msg := oneOf(in.Kind, InputKinds); msg != "" {
			r.errorf(keyPath(p, "kind"), "%s", msg)
		}
		claimPin(p, in.Pin, true)
		if msg := oneOf(in.Pull, Pulls); msg != "" {
			r.errorf(keyPath(p, "pull"), "%s", msg)
		}
		if msg := oneOf(in.Edge, Edges); msg != "" {
			r.errorf(keyPath(p, "edge"), "%s", msg)
		}
		switch {
		case in.Watches != "":
			if msg := checkWatches(in.Watches); msg != "" {
				r.errorf(keyPath(p, "watches"), "%s", msg)
			} else if in.Kind != InputWitness {
				r.errorf(keyPath(p, "watches"), "only a witness input watches an output; set kind: witness")
			}
		case in.Kind == InputWitness:
			r.errorf(keyPath(p, "watches"), "required for a witness input: the node/output it is wired to, e.g. node-2/led")
		}
	}
}

// checkWatches checks the "node/output" form of an input's Watches.
func checkWatches(w string) string {
	node, output, ok := strings.Cut(w, "/")
	if !ok || strings.Contains(output, "/") {
		return fmt.Sprintf("%q must be node/output, e.g. node-2/led", w)
	}
	if msg := checkName(node); msg != "" {
		return fmt.Sprintf("%q: node %s", w, msg)
	}
	if msg := checkName(output); msg != "" {
		return fmt.Sprintf("%q: output %s", w, msg)
	}
	return ""
}
