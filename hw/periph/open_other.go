//go:build !linux

package periph

import (
	"fmt"
	"runtime"

	"github.com/seed44533760/pact/hw"
)

// Open fails: real GPIO is driven through Linux's GPIO character device.
// The stub keeps pact building (and its simulated hardware working) on
// other systems.
func Open(spec hw.Spec, opts Options) (hw.Board, error) {
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w (this is %s/%s); use hardware.driver: sim to run pact here", ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}
