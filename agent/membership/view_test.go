package membership

import (
	"fmt"
	"net"
	"slices"
	"testing"
	"time"
)

func TestView_PrunesDepartedMembers(t *testing.T) {
	v := newView()
	now := time.Now()
	set := func(name string, s State, at time.Time) {
		v.update(name, true, func(e *entry) bool { e.State, e.Since = s, at; return true })
	}
	set("alive-old", StateAlive, now.Add(-48*time.Hour))
	set("dead-old", StateDead, now.Add(-2*departedRetention))
	set("left-recent", StateLeft, now.Add(-time.Minute))
	for i := range maxDeparted + 10 {
		set(fmt.Sprintf("ghost-%03d", i), StateDead, now.Add(-time.Duration(maxDeparted+10-i)*time.Second))
	}
	v.prune(now)
	if _, ok := v.get("alive-old"); !ok {
		t.Error("an alive member was pruned")
	}
	if _, ok := v.get("dead-old"); ok {
		t.Error("a member dead for two hours is still listed")
	}
	if _, ok := v.get("left-recent"); !ok {
		t.Error("the most recent departure was pruned")
	}
	for i := range 11 {
		if _, ok := v.get(fmt.Sprintf("ghost-%03d", i)); ok {
			t.Errorf("ghost-%03d, among the oldest departures past the cap, is still listed", i)
		}
	}
	if n := len(v.list()); n != 1+maxDeparted {
		t.Errorf("%d members listed, want 1 alive + %d departed", n, maxDeparted)
	}
}

// The join loop knocks again on the members declared dead, and only on
// them: not on live, suspect, departed or gate-refused ones.
func TestView_DeadAddrs(t *testing.T) {
	v := newView()
	now := time.Now()
	add := func(name, ip string, port uint16, s State, hidden bool) {
		v.update(name, true, func(e *entry) bool {
			e.ip, e.port, e.hidden = net.ParseIP(ip), port, hidden
			return e.setState(s, now)
		})
	}
	add("alive", "10.0.0.1", 7946, StateAlive, false)
	add("suspect", "10.0.0.2", 7946, StateSuspect, false)
	add("dead-b", "10.0.0.4", 7947, StateDead, false)
	add("dead-a", "10.0.0.3", 7946, StateDead, false)
	add("left", "10.0.0.5", 7946, StateLeft, false)
	add("ejected", "10.0.0.6", 7946, StateDead, true)
	add("unknown-addr", "", 0, StateDead, false)
	got := v.deadAddrs()
	want := []string{"10.0.0.3:7946", "10.0.0.4:7947"}
	if !slices.Equal(got, want) {
		t.Fatalf("deadAddrs = %v, want %v", got, want)
	}
}
