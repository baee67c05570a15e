package hw_test

import (
	"errors"
	"testing"
	"time"

	"github.com/seed44533760/pact/hw"
	"github.com/seed44533760/pact/hw/hwtest"
)

// New limits take effect on an output in use: a shorter max_on cuts an
// output that is on now (counted from when it went on), a longer one lets
// it run on, zero lifts the cap, and min_off applies from the next Set.
func TestLimit_SetLimitsWhileInUse(t *testing.T) {
	for _, tc := range []struct {
		name     string
		before   hw.Limits
		onFor    time.Duration // on this long when the limits change
		after    hw.Limits
		thenWait time.Duration
		wantOn   bool
	}{
		{"shorter cap cuts at the new cap", hw.Limits{MaxOn: 10 * time.Second}, 2 * time.Second, hw.Limits{MaxOn: 3 * time.Second}, time.Second, false},
		{"shorter cap not reached yet", hw.Limits{MaxOn: 10 * time.Second}, 2 * time.Second, hw.Limits{MaxOn: 5 * time.Second}, time.Second, true},
		{"cap already passed cuts at once", hw.Limits{MaxOn: 10 * time.Second}, 4 * time.Second, hw.Limits{MaxOn: 3 * time.Second}, 0, false},
		{"longer cap runs on", hw.Limits{MaxOn: 3 * time.Second}, 2 * time.Second, hw.Limits{MaxOn: 10 * time.Second}, 2 * time.Second, true},
		{"cap lifted", hw.Limits{MaxOn: 3 * time.Second}, 2 * time.Second, hw.Limits{}, time.Hour, true},
		{"cap added", hw.Limits{}, 2 * time.Second, hw.Limits{MaxOn: 3 * time.Second}, time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := hwtest.NewClock(epoch)
			inner := hwtest.NewOutput("fan", "relay")
			out := hw.Limit(inner, tc.before, clock)
			if err := out.Set(true); err != nil {
				t.Fatal(err)
			}
			clock.Advance(tc.onFor)
			out.(hw.LimitSetter).SetLimits(tc.after)
			clock.Advance(tc.thenWait)
			if inner.On() != tc.wantOn {
				t.Fatalf("on = %v, want %v", inner.On(), tc.wantOn)
			}
		})
	}
}

func TestLimit_SetLimitsMinOffAppliesNextTime(t *testing.T) {
	clock := hwtest.NewClock(epoch)
	out := hw.Limit(hwtest.NewOutput("fan", "relay"), hw.Limits{}, clock)
	_ = out.Set(true)
	_ = out.Set(false)
	out.(hw.LimitSetter).SetLimits(hw.Limits{MinOff: 5 * time.Second})
	clock.Advance(time.Second)
	if err := out.Set(true); !errors.Is(err, hw.ErrLimit) {
		t.Fatalf("Set(true) 1s after off with min_off 5s: %v, want ErrLimit", err)
	}
	out.(hw.LimitSetter).SetLimits(hw.Limits{})
	if err := out.Set(true); err != nil {
		t.Fatalf("min_off lifted: %v", err)
	}
}
