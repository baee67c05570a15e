package periph

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/seed44533760/pact/hw"
)

// waitSlice bounds each wait on the pin, so that WaitForEdge notices its
// context ending within this long: periph's WaitForEdge takes a timeout,
// not a context, and halting a wait from another goroutine races with the
// wait setting its own deadline.
const waitSlice = 100 * time.Millisecond

// input is a GPIO input. The kernel reports both edges; input turns them
// into debounced transitions and hands out those the spec asks for.
type input struct {
	spec hw.InputSpec
	// sleep waits d or until ctx ends; the debounce delay.
	sleep func(ctx context.Context, d time.Duration) error

	// lineMu guards line and closed. It is not held across a whole wait.
	lineMu sync.Mutex
	line   line
	closed bool

	// waitMu makes waits take turns; last is the debounced level the
	// previous wait ended on, guarded by waitMu.
	waitMu sync.Mutex
	last   gpio.Level
}

var _ hw.Input = (*input)(nil)

func (in *input) Name() string    { return in.spec.Name }
func (in *input) Kind() string    { return in.spec.Kind }
func (in *input) Watches() string { return in.spec.Watches }

func (in *input) Read() (bool, error) {
	in.lineMu.Lock()
	defer in.lineMu.Unlock()
	if in.closed {
		return false, fmt.Errorf("input %s: board closed", in.spec.Name)
	}
	l, err := in.line.Level()
	if err != nil {
		return false, fmt.Errorf("input %s on %s: %w", in.spec.Name, in.spec.Pin, err)
	}
	return bool(l), nil
}

// WaitForEdge returns the next debounced transition of the configured edge.
//
// Debouncing is by level, not by event: after any edge, wait Debounce, read
// the pin, and report a transition only if the level differs from the one
// the last transition left. A bounce that settles where it started is no
// transition, and queued bounce events fall through the same test.
func (in *input) WaitForEdge(ctx context.Context) (hw.Edge, error) {
	in.waitMu.Lock()
	defer in.waitMu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return hw.NoEdge, err
		}
		got, err := in.waitSlice()
		if err != nil {
			return hw.NoEdge, err
		}
		if !got {
			continue
		}
		if in.spec.Debounce > 0 {
			if err := in.sleep(ctx, in.spec.Debounce); err != nil {
				return hw.NoEdge, err
			}
		}
		level, err := in.Read()
		if err != nil {
			return hw.NoEdge, err
		}
		if level == bool(in.last) {
			continue
		}
		in.last = gpio.Level(level)
		edge := hw.Falling
		if level {
			edge = hw.Rising
		}
		if wants(in.spec.Edge, edge) {
			return edge, nil
		}
	}
}

// waitSlice waits one slice on the line.
func (in *input) waitSlice() (bool, error) {
	in.lineMu.Lock()
	l, closed := in.line, in.closed
	in.lineMu.Unlock()
	if closed {
		return false, fmt.Errorf("input %s: board closed", in.spec.Name)
	}
	got, err := l.WaitForEdge(waitSlice)
	if err != nil {
		return false, fmt.Errorf("input %s on %s: wait for edge: %w", in.spec.Name, in.spec.Pin, err)
	}
	return got, nil
}

// wants reports whether an input configured for edges ("rising",
// "falling", "both" or empty for both) reports e.
func wants(edges string, e hw.Edge) bool {
	switch edges {
	case "rising":
		return e == hw.Rising
	case "falling":
		return e == hw.Falling
	}
	return true
}

func (in *input) close() error {
	in.lineMu.Lock()
	if in.closed {
		in.lineMu.Unlock()
		return nil
	}
	in.closed = true
	in.lineMu.Unlock()
	// A wait in progress sees closed within one slice; release the pin only
	// after it has let go, so that no wait reads a closed descriptor.
	in.waitMu.Lock()
	defer in.waitMu.Unlock()
	return in.line.Close()
}
