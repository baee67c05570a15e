package hw_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed44533760/pact/hw"
	"github.com/seed44533760/pact/hw/hwtest"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// step is one line of a limit scenario: let time pass, do op, then check
// the error and the level of the output under the limit.
type step struct {
	wait   time.Duration
	op     string // on, off, halt, resume, or "" to only wait
	err    error  // errors.Is target; nil means success
	on     bool   // level of the wrapped output after the step
	timers int    // pending(n): n timers pending after the step; 0: not checked
}

// pending marks a step's expected count of pending timers (zero is "not
// checked").
func pending(n int) int { return n + 1 }

func TestLimit_Scenarios(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		name  string
		lim   hw.Limits
		steps []step
	}{
		{"no limits: on stays on", hw.Limits{}, []step{
			{op: "on", on: true, timers: pending(0)},
			{wait: time.Hour, on: true, timers: pending(0)},
			{op: "off", on: false},
			{op: "on", on: true},
		}},
		{"max_on switches off by itself", hw.Limits{MaxOn: 10 * s}, []step{
			{op: "on", on: true, timers: pending(1)},
			{wait: 10*s - time.Millisecond, on: true, timers: pending(1)},
			{wait: time.Millisecond, on: false, timers: pending(0)},
		}},
		{"a repeated on does not stretch max_on", hw.Limits{MaxOn: 10 * s}, []step{
			{op: "on", on: true},
			{wait: 6 * s, op: "on", on: true, timers: pending(1)},
			{wait: 4 * s, on: false, timers: pending(0)},
		}},
		{"off cancels the timer and the next on restarts it", hw.Limits{MaxOn: 10 * s}, []step{
			{op: "on", on: true},
			{wait: 5 * s, op: "off", on: false, timers: pending(0)},
			{op: "on", on: true, timers: pending(1)},
			{wait: 9 * s, on: true},
			{wait: s, on: false, timers: pending(0)},
		}},
		{"the first on needs no rest", hw.Limits{MinOff: 5 * s}, []step{
			{op: "on", on: true},
		}},
		{"min_off refuses an early on", hw.Limits{MinOff: 5 * s}, []step{
			{op: "on", on: true},
			{op: "off", on: false},
			{wait: 5*s - time.Millisecond, op: "on", err: hw.ErrLimit, on: false},
			{wait: time.Millisecond, op: "on", on: true},
		}},
		{"min_off counts from the max_on switch-off", hw.Limits{MaxOn: 10 * s, MinOff: 5 * s}, []step{
			{op: "on", on: true},
			{wait: 10 * s, on: false},
			{wait: 2 * s, op: "on", err: hw.ErrLimit, on: false, timers: pending(0)},
			{wait: 3 * s, op: "on", on: true, timers: pending(1)},
		}},
		{"an off while off does not restart min_off", hw.Limits{MinOff: 5 * s}, []step{
			{op: "on", on: true},
			{op: "off"},
			{wait: 3 * s, op: "off"},
			{wait: 2 * s, op: "on", on: true},
		}},
		{"a refused on leaves an output that is on alone", hw.Limits{MinOff: 5 * s}, []step{
			{op: "on", on: true},
			{wait: s, op: "on", on: true},
		}},
		{"halted refuses every set until resume", hw.Limits{}, []step{
			{op: "halt"},
			{op: "on", err: hw.ErrHalted},
			{op: "off", err: hw.ErrHalted},
			{op: "resume"},
			{op: "on", on: true},
		}},
		{"halt stops the max_on timer", hw.Limits{MaxOn: 10 * s}, []step{
			{op: "on", on: true, timers: pending(1)},
			{wait: s, op: "halt", on: false, timers: pending(0)},
			{op: "halt", on: false, timers: pending(0)},
		}},
		{"min_off counts from halt", hw.Limits{MinOff: 5 * s}, []step{
			{op: "on", on: true},
			{op: "halt"},
			{wait: s, op: "resume"},
			{op: "on", err: hw.ErrLimit},
			{wait: 4 * s, op: "on", on: true},
		}},
		{"negative limits are none", hw.Limits{MaxOn: -s, MinOff: -s}, []step{
			{op: "on", on: true, timers: pending(0)},
			{op: "off"},
			{op: "on", on: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := hwtest.NewClock(epoch)
			inner := hwtest.NewOutput("fan", "relay")
			out := hw.Limit(inner, tc.lim, clock)
			for i, st := range tc.steps {
				clock.Advance(st.wait)
				var err error
				switch st.op {
				case "on":
					err = out.Set(true)
				case "off":
					err = out.Set(false)
				case "halt":
					err = out.Halt()
				case "resume":
					out.Resume()
				case "":
				default:
					t.Fatalf("step %d: unknown op %q", i, st.op)
				}
				if st.err == nil && err != nil {
					t.Fatalf("step %d (%s at +%v): %v", i, st.op, clock.Now().Sub(epoch), err)
				}
				if st.err != nil && !errors.Is(err, st.err) {
					t.Fatalf("step %d (%s at +%v): error %v, want %v", i, st.op, clock.Now().Sub(epoch), err, st.err)
				}
				if got := inner.On(); got != st.on {
					t.Fatalf("step %d (%s at +%v): output on = %v, want %v", i, st.op, clock.Now().Sub(epoch), got, st.on)
				}
				if st.timers != 0 {
					if got := clock.Pending(); got != st.timers-1 {
						t.Fatalf("step %d: %d timers pending, want %d", i, got, st.timers-1)
					}
				}
				if got, _ := out.Read(); got != inner.On() {
					t.Fatalf("step %d: Read = %v, the pin is %v", i, got, inner.On())
				}
			}
		})
	}
}

func TestLimit_ErrorNamesTheRule(t *testing.T) {
	clock := hwtest.NewClock(epoch)
	out := hw.Limit(hwtest.NewOutput("fan", "relay"), hw.Limits{MinOff: 5 * time.Second}, clock)
	_ = out.Set(true)
	_ = out.Set(false)
	clock.Advance(1500 * time.Millisecond)
	err := out.Set(true)
	for _, want := range []string{"fan", "1.5s", "5s", "min_off"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := out.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := out.Set(true); err == nil || !strings.Contains(err.Error(), "fan") {
		t.Errorf("halted error %q does not name the output", err)
	}
}

// When the pin refuses to go off at the end of MaxOn, the limit falls back
// to Halt and does not leave the output halted underneath it.
func TestLimit_MaxOnFallsBackToHalt(t *testing.T) {
	clock := hwtest.NewClock(epoch)
	inner := hwtest.NewOutput("fan", "relay")
	out := hw.Limit(inner, hw.Limits{MaxOn: time.Second}, clock)
	if err := out.Set(true); err != nil {
		t.Fatal(err)
	}
	inner.FailSets(errors.New("pin busy"))
	clock.Advance(time.Second)
	if inner.On() || inner.Halts() != 1 || inner.Halted() {
		t.Fatalf("on=%v halts=%d halted=%v, want off by one Halt and resumed", inner.On(), inner.Halts(), inner.Halted())
	}
	inner.FailSets(nil)
	if err := out.Set(true); err != nil {
		t.Fatalf("after the fallback: %v", err)
	}
}

// A Set(false) that fails leaves the MaxOn timer armed, so the limit still
// gets the output off.
func TestLimit_FailedOffKeepsTheTimer(t *testing.T) {
	clock := hwtest.NewClock(epoch)
	inner := hwtest.NewOutput("fan", "relay")
	out := hw.Limit(inner, hw.Limits{MaxOn: 10 * time.Second}, clock)
	_ = out.Set(true)
	inner.FailSets(errors.New("pin busy"))
	if err := out.Set(false); err == nil {
		t.Fatal("Set(false) succeeded on a failing pin")
	}
	if clock.Pending() != 1 {
		t.Fatalf("%d timers pending, want the MaxOn timer", clock.Pending())
	}
	clock.Advance(10 * time.Second)
	if inner.On() {
		t.Fatal("output still on after MaxOn")
	}
}

// Many goroutines drive one limited output while time moves; under -race
// this checks the locking, and the invariant checked at the end holds
// whatever the interleaving: never on longer than MaxOn.
func TestLimit_ConcurrentUse(t *testing.T) {
	clock := hwtest.NewClock(epoch)
	inner := hwtest.NewOutput("led", "led")
	out := hw.Limit(inner, hw.Limits{MaxOn: time.Second, MinOff: 10 * time.Millisecond}, clock)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				switch (g + i) % 5 {
				case 0, 1:
					_ = out.Set(true)
				case 2:
					_ = out.Set(false)
				case 3:
					_, _ = out.Read()
				case 4:
					if g == 0 && i%50 == 4 {
						_ = out.Halt()
						out.Resume()
					}
				}
			}
		}()
	}
	for range 200 {
		clock.Advance(7 * time.Millisecond)
	}
	wg.Wait()
	clock.Advance(time.Second)
	if inner.On() {
		t.Fatal("output on after MaxOn with nobody driving it")
	}
}

// A nil clock is the system clock: a limit without MaxOn never needs it to
// fire, so this runs instantly.
func TestLimit_NilClockIsTheSystemClock(t *testing.T) {
	inner := hwtest.NewOutput("led", "led")
	out := hw.Limit(inner, hw.Limits{MinOff: time.Hour}, nil)
	if err := out.Set(true); err != nil {
		t.Fatal(err)
	}
	_ = out.Set(false)
	if err := out.Set(true); !errors.Is(err, hw.ErrLimit) {
		t.Fatalf("on again within an hour: %v", err)
	}
}
