package hw

import (
	"fmt"
	"sync"
	"time"
)

// retryOff is how long a limit waits before trying again to switch off an
// output whose MaxOn ran out but whose pin refused to go off.
const retryOff = time.Second

// Limit wraps out so that it keeps lim whatever it is told:
//
//   - Set(true) sooner than lim.MinOff after the output last went off (by
//     Set(false), by the MaxOn timer or by Halt) fails with an error wrapping
//     ErrLimit, and the pin is not touched;
//   - lim.MaxOn after the output went on, the limit switches it off by
//     itself; a Set(true) while it is on re-drives the pin but does not
//     restart the timer, so repeating a command cannot stretch the on-time;
//   - Halt stops the timer and puts out in its safe state; until Resume,
//     Set fails with ErrHalted.
//
// Time comes from clock (nil means SystemClock). The returned Output
// is safe for concurrent use; out is only ever called with the limit's lock
// held, so it needs no locking of its own for the limit's sake.
//
// MaxOn bounds on-time that was asked for through Set: a safe state that
// happens to be "on" (safe: high on an active-high output) is the
// configuration's choice and is not timed.
func Limit(out Output, lim Limits, clock Clock) Output {
	if lim.MaxOn < 0 {
		lim.MaxOn = 0
	}
	if lim.MinOff < 0 {
		lim.MinOff = 0
	}
	if clock == nil {
		clock = SystemClock{}
	}
	return &limited{out: out, lim: lim, clock: clock}
}

// limited is the Output Limit returns.
type limited struct {
	out   Output
	lim   Limits
	clock Clock

	mu      sync.Mutex
	on      bool      // switched on through Set, and not off since
	onAt    time.Time // when it last went on through Set
	offAt   time.Time // when it last went off; zero: never was on
	halted  bool
	timer   Stopper
	timerID uint64 // bumped whenever the timer is replaced or cancelled
}

func (l *limited) Name() string { return l.out.Name() }
func (l *limited) Kind() string { return l.out.Kind() }

// Read reads the pin back; the limit adds nothing.
func (l *limited) Read() (bool, error) { return l.out.Read() }

func (l *limited) Set(on bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.halted {
		return fmt.Errorf("%s: %w", l.out.Name(), ErrHalted)
	}
	if !on {
		if err := l.out.Set(false); err != nil {
			// The timer, if any, stays armed: it will try again.
			return err
		}
		l.wentOff()
		return nil
	}
	if l.on {
		return l.out.Set(true)
	}
	if l.lim.MinOff > 0 && !l.offAt.IsZero() {
		if rest := l.clock.Now().Sub(l.offAt); rest < l.lim.MinOff {
			return fmt.Errorf("%s: off for %v, must rest at least %v (min_off) before it goes on again: %w",
				l.out.Name(), rest.Round(time.Millisecond), l.lim.MinOff, ErrLimit)
		}
	}
	if err := l.out.Set(true); err != nil {
		return err
	}
	l.on = true
	l.onAt = l.clock.Now()
	if l.lim.MaxOn > 0 {
		l.arm(l.lim.MaxOn)
	}
	return nil
}

// LimitSetter is an Output whose limits can change while it is in use:
// what Limit returns. The agent applies a reloaded max_on and min_off
// through it.
type LimitSetter interface {
	SetLimits(Limits)
}

var _ LimitSetter = (*limited)(nil)

// SetLimits replaces the limits. MinOff applies from the next Set(true).
// An output that is on now keeps the on-time it has had: a shorter MaxOn
// switches it off once the new cap, counted from when it went on, is
// reached (at once if it already is); zero takes the cap away.
func (l *limited) SetLimits(lim Limits) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lim = Limits{MaxOn: max(lim.MaxOn, 0), MinOff: max(lim.MinOff, 0)}
	if !l.on {
		return
	}
	if l.lim.MaxOn == 0 {
		l.disarm()
		return
	}
	l.arm(max(l.lim.MaxOn-l.clock.Now().Sub(l.onAt), 0))
}

func (l *limited) Halt() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.halted = true
	err := l.out.Halt()
	l.wentOff()
	return err
}

func (l *limited) Resume() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.halted = false
	l.out.Resume()
}

// wentOff records that the output is off now: the timer is cancelled and
// the minimum off-time starts counting. Called with l.mu held.
func (l *limited) wentOff() {
	l.disarm()
	if l.on {
		l.offAt = l.clock.Now()
	}
	l.on = false
}

// arm (re)starts the timer that ends the on-time. Called with l.mu held.
func (l *limited) arm(d time.Duration) {
	l.disarm()
	id := l.timerID
	l.timer = l.clock.AfterFunc(d, func() { l.expire(id) })
}

// disarm cancels the timer. A callback that was already on its way finds
// timerID changed and does nothing. Called with l.mu held.
func (l *limited) disarm() {
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.timerID++
}

// expire is the MaxOn timer: the output has been on long enough.
func (l *limited) expire(id uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if id != l.timerID || !l.on {
		return
	}
	if err := l.out.Set(false); err != nil {
		// The pin would not go off: try its safe state, and failing
		// that try again shortly. Never leave it on unwatched.
		if err := l.out.Halt(); err != nil {
			l.arm(retryOff)
			return
		}
		// Halt got it safe; the output itself must not stay halted, the
		// limit decides what it may do next.
		l.out.Resume()
	}
	l.wentOff()
}
