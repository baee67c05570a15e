package hw

import "time"

// Clock is where the hardware layer gets its time: limits arm their MaxOn
// timers on it, simulated inputs debounce on it and the simulated world's
// temperatures follow it. Injecting it keeps every timing test
// deterministic (hw/hwtest has a fake one that only moves when told).
// Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once d has passed, unless the returned Stopper is
	// stopped first. f must not assume which goroutine it runs on: the
	// system clock runs it on its own goroutine, a fake clock on the one
	// that advances time.
	AfterFunc(d time.Duration, f func()) Stopper
}

// Stopper cancels a pending AfterFunc. Stop reports whether it stopped the
// call before it started; false means f has run, is running, or was stopped
// already. *time.Timer is a Stopper.
type Stopper interface {
	Stop() bool
}

// SystemClock is the wall clock: time.Now and time.AfterFunc.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) Stopper { return time.AfterFunc(d, f) }

var _ Clock = SystemClock{}
