package periph

import (
	"errors"
	"strings"
)

// Errors.
var (
	// ErrUnsupported: real hardware is driven on Linux only.
	ErrUnsupported = errors.New("periph: real GPIO needs Linux")
	// ErrPinName: a pin name that is not a Raspberry Pi GPIO.
	ErrPinName = errors.New("not a Raspberry Pi GPIO")
	// ErrObserveOnly: the board was opened with Options.Observe, which never
	// drives an output.
	ErrObserveOnly = errors.New("board opened to observe only: outputs are not driven")
	// ErrNoGPIO: no GPIO controller to drive pins with.
	ErrNoGPIO = errors.New("no GPIO controller")
	// ErrSensor: a sensor answered with something that is not a reading.
	ErrSensor = errors.New("bad sensor reading")
)

// SpecError is what Open says about a spec it can never honour, whatever
// is wired: one error per problem, each naming its key path
// (hardware.outputs[0].pin: ...). The CLI prints them one a line and exits
// 2, as for a malformed file.
type SpecError struct {
	Problems []error
}

func (e *SpecError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return "hardware spec: " + strings.Join(msgs, "; ")
}

// Unwrap lets errors.Is see each problem (ErrPinName, say).
func (e *SpecError) Unwrap() []error { return e.Problems }
