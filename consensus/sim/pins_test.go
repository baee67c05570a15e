package sim

import (
	"errors"
	"testing"
	"time"
)

func TestOpTime(t *testing.T) {
	tests := []struct {
		op   string
		want time.Duration
		ok   bool
	}{
		{"op/17@1250", 1250 * time.Millisecond, true},
		{"op/a@b@30", 30 * time.Millisecond, true},
		{"op/17", 0, false},
		{"op/17@", 0, false},
		{"op/17@-5", 0, false},
		{"op/17@1e3", 0, false},
	}
	for _, tt := range tests {
		got, ok := opTime([]byte(tt.op))
		if got != tt.want || ok != tt.ok {
			t.Errorf("opTime(%q) = %v, %v; want %v, %v", tt.op, got, ok, tt.want, tt.ok)
		}
	}
	if got, ok := opTime(timedOp(3, 1234567*time.Microsecond)); !ok || got != 1234*time.Millisecond {
		t.Errorf("timedOp round trip: %v, %v", got, ok)
	}
}

func TestParseMark(t *testing.T) {
	node, nonce, ok, err := parseMark(markEntry("node-2", "9f3a"))
	if !ok || err != nil || node != "node-2" || nonce != "9f3a" {
		t.Fatalf("parseMark = %q %q %v %v", node, nonce, ok, err)
	}
	if _, _, ok, _ := parseMark(OpEntry("1@0")); ok {
		t.Error("an op parsed as a marker")
	}
	for _, bad := range []string{"mark/", "mark/node-1", "mark/node-1/", "mark//x", "mark/a/b/c"} {
		if _, _, ok, err := parseMark([]byte(bad)); !ok || !errors.Is(err, errMalformedEntry) {
			t.Errorf("parseMark(%q): ok %v, err %v; want malformed", bad, ok, err)
		}
	}
}

// TestPinWatch_Judge: every drive of a rise needs an op of its own, decided
// below the rise's marker and with a window the drive may have begun in;
// the earliest deadline goes first, so an op a later rise needs is kept.
func TestPinWatch_Judge(t *testing.T) {
	ms := time.Millisecond
	s := time.Second
	tests := []struct {
		name  string
		ops   []bookedOp
		rises []rise
		want  []int // how many ops each unexplained rise found, in order
	}{
		{"one drive, one op", []bookedOp{{height: 5, requested: 1 * s}}, []rise{{from: 1100 * ms, until: 1400 * ms, bound: 9}}, nil},
		{"no op", nil, []rise{{from: 1100 * ms, until: 1400 * ms, bound: 9}}, []int{0}},
		{"the op is decided with the marker or later", []bookedOp{{height: 9, requested: 1 * s}}, []rise{{from: 1100 * ms, until: 1400 * ms, bound: 9}}, []int{0}},
		{"requested after the rise ended", []bookedOp{{height: 5, requested: 1300 * ms}}, []rise{{from: 1100 * ms, until: 1400 * ms, bound: 9}}, []int{0}},
		{"requested too long before", []bookedOp{{height: 5, requested: 1 * s}}, []rise{{from: 1*s + opDeadline + driveLead + ms, until: 1*s + opDeadline + 400*ms, bound: 9}}, []int{0}},
		{"two overlapping drives need two ops", []bookedOp{{height: 5, requested: 1 * s}}, []rise{{from: 1100 * ms, until: 1500 * ms, bound: 9}}, []int{1}},
		{"two overlapping drives, two ops", []bookedOp{{height: 5, requested: 1 * s}, {height: 6, requested: 1100 * ms}}, []rise{{from: 1100 * ms, until: 1500 * ms, bound: 9}}, nil},
		{"a later drive of the merged rise may start after the first's op window",
			[]bookedOp{{height: 5, requested: 1 * s}, {height: 6, requested: 1200 * ms}}, []rise{{from: 1100 * ms, until: 1600 * ms, bound: 9}}, nil},
		{"earliest deadline first keeps the op the second rise needs",
			[]bookedOp{{height: 5, requested: 1 * s}, {height: 6, requested: 2 * s}},
			[]rise{{from: 2200 * ms, until: 2500 * ms, bound: 9}, {from: 1*s + opDeadline + 50*ms, until: 1*s + opDeadline + 350*ms, bound: 12}}, nil},
		{"a rogue rise between two honest ones",
			[]bookedOp{{height: 5, requested: 1 * s}, {height: 6, requested: 3 * s}},
			[]rise{{from: 1100 * ms, until: 1400 * ms, bound: 7}, {from: 2 * s, until: 2300 * ms, bound: 7}, {from: 3100 * ms, until: 3400 * ms, bound: 8}}, []int{0}},
		{"a rise not yet bound waits", []bookedOp{}, []rise{{from: 1100 * ms, until: 1400 * ms}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pw := &pinWatch{ops: tt.ops, rises: tt.rises}
			var got []int
			for _, u := range pw.judge() {
				got = append(got, u.found)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("unexplained rises found %v ops; want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("unexplained rises found %v ops; want %v", got, tt.want)
				}
			}
		})
	}
}
