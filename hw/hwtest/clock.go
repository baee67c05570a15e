// Package hwtest holds fakes for testing code that uses package hw: a Clock
// that moves only when told, and an Output that records what it was told.
// They live beside the interfaces, as periph's gpiotest does, so that the
// agent's tests and hw's own use the same ones.
package hwtest

import (
	"sort"
	"sync"
	"time"

	"github.com/seed44533760/pact/hw"
)

// Clock is a fake hw.Clock. Time stands still until Advance; Advance runs
// every AfterFunc that falls due, in order of due time, on the goroutine
// that calls Advance, so a test sees all their effects as soon as Advance
// returns. Safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers []*timer
}

// NewClock returns a Clock that reads start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start}
}

type timer struct {
	c   *Clock
	due time.Time
	seq uint64 // ties broken by creation order
	f   func()
}

// Stop implements hw.Stopper.
func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for i, o := range t.c.timers {
		if o == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			return true
		}
	}
	return false
}

// Now implements hw.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc implements hw.Clock. A d of zero or less falls due at the next
// Advance, even Advance(0).
func (c *Clock) AfterFunc(d time.Duration, f func()) hw.Stopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &timer{c: c, due: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock d forward, running the timers that fall due on
// the way; the clock reads each timer's due time while it runs. Timers that
// those callbacks set within the window run too.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.SliceStable(c.timers, func(i, j int) bool {
			a, b := c.timers[i], c.timers[j]
			if !a.due.Equal(b.due) {
				return a.due.Before(b.due)
			}
			return a.seq < b.seq
		})
		if len(c.timers) == 0 || c.timers[0].due.After(end) {
			c.now = end
			c.mu.Unlock()
			return
		}
		t := c.timers[0]
		c.timers = c.timers[1:]
		if t.due.After(c.now) {
			c.now = t.due
		}
		c.mu.Unlock()
		t.f()
	}
}

// Pending is how many AfterFuncs wait to fall due.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

var _ hw.Clock = (*Clock)(nil)
