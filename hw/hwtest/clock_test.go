package hwtest

import (
	"testing"
	"time"
)

func TestClock_RunsTimersInOrderAtTheirTime(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewClock(start)
	var got []string
	note := func(name string) func() {
		return func() { got = append(got, name+"@"+c.Now().Sub(start).String()) }
	}
	c.AfterFunc(3*time.Second, note("c"))
	c.AfterFunc(time.Second, note("a"))
	c.AfterFunc(time.Second, note("b")) // same due time: creation order
	stopped := c.AfterFunc(2*time.Second, note("never"))
	c.AfterFunc(2*time.Second, func() {
		note("d")()
		c.AfterFunc(500*time.Millisecond, note("e")) // set by a callback, due in the window
		c.AfterFunc(time.Hour, note("late"))
	})
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop reports wrongly")
	}
	c.Advance(3 * time.Second)
	want := []string{"a@1s", "b@1s", "d@2s", "e@2.5s", "c@3s"}
	if len(got) != len(want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ran %v, want %v", got, want)
		}
	}
	if c.Now() != start.Add(3*time.Second) || c.Pending() != 1 {
		t.Fatalf("now +%v, %d pending", c.Now().Sub(start), c.Pending())
	}
	c.AfterFunc(0, note("zero"))
	c.Advance(0)
	if got[len(got)-1] != "zero@3s" {
		t.Fatalf("a zero-delay timer did not run at Advance(0): %v", got)
	}
}
