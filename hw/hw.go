package hw

import (
	"context"
	"errors"
	"time"

	"periph.io/x/conn/v3/physic"
)

// Errors.
var (
	// ErrLimit: an Output refused a command that would break its limits
	// (switched on again before its minimum off-time).
	ErrLimit = errors.New("output limit")
	// ErrHalted: the Output was halted and refuses to be driven until
	// Resume.
	ErrHalted = errors.New("output halted")
	// ErrNotFound: no device of that name on the board.
	ErrNotFound = errors.New("no such device")
)

// Output is something the node drives: on or off. Implementations must be
// safe for concurrent use.
type Output interface {
	// Name is the output's name on the node ("led", "fan").
	Name() string
	// Kind is led, relay, fan, buzzer or generic.
	Kind() string
	// Set switches the output on or off (the active level is the output's
	// business: a relay board that switches on low is still "on").
	Set(on bool) error
	// Read reads the pin back: whether the output is on now.
	Read() (on bool, err error)
	// Halt puts the output in its safe state and keeps it there: Set fails
	// with ErrHalted until Resume. Idempotent.
	Halt() error
	// Resume lets a halted output be driven again.
	Resume()
}

// Edge is a transition an Input saw.
type Edge int

// Edges.
const (
	NoEdge Edge = iota
	Rising
	Falling
)

func (e Edge) String() string {
	switch e {
	case Rising:
		return "rising"
	case Falling:
		return "falling"
	}
	return "none"
}

// Input is something the node reads: a button, or a witness wire on which it
// sees another node's output. Implementations must be safe for concurrent
// use.
type Input interface {
	Name() string
	// Kind is witness, button, switch or generic.
	Kind() string
	// Watches is "node/output" for a witness input, empty otherwise.
	Watches() string
	// Read returns the current level: true is high.
	Read() (bool, error)
	// WaitForEdge blocks until the configured edge, debounced, or until ctx
	// ends (returning ctx.Err()).
	WaitForEdge(ctx context.Context) (Edge, error)
}

// SensorKind is what a sensor measures.
type SensorKind string

// Sensor kinds.
const (
	Temperature    SensorKind = "temperature"
	Humidity       SensorKind = "humidity"
	Pressure       SensorKind = "pressure"
	Digital        SensorKind = "digital"
	SoCTemperature SensorKind = "soc_temperature"
)

// Reading is one measurement. Value is in Unit: °C for temperatures, % for
// humidity, hPa for pressure, 0 or 1 for digital.
type Reading struct {
	Sensor string
	Kind   SensorKind
	Value  float64
	Unit   string
	At     time.Time
}

// Sensor is something the node measures. Implementations must be safe for
// concurrent use.
type Sensor interface {
	Name() string
	Kind() SensorKind
	Unit() string
	// Sense takes one reading; it may block for the conversion time of the
	// device, and returns early with ctx.Err() when ctx ends.
	Sense(ctx context.Context) (Reading, error)
}

// Celsius converts a periph temperature to degrees Celsius.
func Celsius(t physic.Temperature) float64 {
	return float64(t-physic.ZeroCelsius) / float64(physic.Celsius)
}

// Percent converts a periph relative humidity to percent.
func Percent(h physic.RelativeHumidity) float64 {
	return float64(h) / float64(physic.PercentRH)
}

// Hectopascal converts a periph pressure to hPa.
func Hectopascal(p physic.Pressure) float64 {
	return float64(p) / float64(100*physic.Pascal)
}

// Board is a node's hardware: its devices by name, and what the driver
// found when it opened.
type Board interface {
	Outputs() []Output
	Inputs() []Input
	Sensors() []Sensor
	Output(name string) (Output, error)
	Input(name string) (Input, error)
	Sensor(name string) (Sensor, error)
	// Report says which drivers loaded, which were skipped and which failed.
	Report() Report
	// Halt puts every output in its safe state.
	Halt() error
	// Close halts every output and releases the devices. Idempotent.
	Close() error
}

// Wiring is implemented by boards that can tell whether a witness input is
// connected to the output it watches. A simulated board can (the output
// must be open in the same World); a real one cannot, and the agent file's
// word — the input's watches — is taken for it.
type Wiring interface {
	Wired(input string) bool
	// SharesWorld reports whether the named node's board acts on, and
	// senses, the same world as this one: whether its fan can cool this
	// board's sensors. A simulated board shares its World only with the
	// boards of its own process; real boards share the physical one.
	SharesWorld(node string) bool
}

// Report is what `pact hw probe` prints about drivers.
type Report struct {
	Driver  string            `json:"driver"`
	Loaded  []string          `json:"loaded"`
	Skipped map[string]string `json:"skipped"`
	Failed  map[string]string `json:"failed"`
}
