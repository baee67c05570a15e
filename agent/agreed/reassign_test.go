package agreed

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReassign_Reasons(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason string
		after  time.Duration // since the assignment was applied
		setup  func(t *testing.T, f *actionFixture, inst, performer string)
		spoil  func(f *actionFixture, r *Reassignment)
		why    string // "" when valid, else a word the error must contain
	}{{
		name: "deadline passed", reason: ReasonDeadline, after: 10 * time.Second,
	}, {
		name: "deadline not passed", reason: ReasonDeadline, after: 9 * time.Second, why: "deadline",
	}, {
		name: "deadline passed but the work is done", reason: ReasonDeadline, after: time.Minute,
		setup: func(t *testing.T, f *actionFixture, inst, _ string) { f.outcomes[inst] = true },
		why:   "done",
	}, {
		name: "failed outcome", reason: ReasonFailed,
		setup: func(t *testing.T, f *actionFixture, inst, _ string) { f.outcomes[inst] = false },
	}, {
		name: "failed without a known outcome", reason: ReasonFailed, after: time.Minute, why: "no outcome",
	}, {
		name: "failed but the outcome is ok", reason: ReasonFailed,
		setup: func(t *testing.T, f *actionFixture, inst, _ string) { f.outcomes[inst] = true },
		why:   "done",
	}, {
		name: "performer ejected", reason: ReasonPerformerEjected,
		setup: func(t *testing.T, f *actionFixture, _, performer string) {
			f.applyT(t, NewEjection(f.equivocation(performer)).Encode())
		},
	}, {
		name: "performer not ejected", reason: ReasonPerformerEjected, after: time.Minute, why: "not ejected",
	}, {
		name: "performer ejected after reporting the work done", reason: ReasonPerformerEjected,
		setup: func(t *testing.T, f *actionFixture, inst, performer string) {
			f.applyT(t, NewEjection(f.equivocation(performer)).Encode())
			f.outcomes[inst] = true
		},
		why: "done",
	}, {
		name: "another performer than agreed state picks", reason: ReasonDeadline, after: time.Minute,
		spoil: func(f *actionFixture, r *Reassignment) {
			r.Performer = f.state.Eligible(r.Action, r.RequestID, []string{r.From})[1]
		},
		why: "picks",
	}, {
		name: "back to the same performer", reason: ReasonDeadline, after: time.Minute,
		spoil: func(f *actionFixture, r *Reassignment) { r.Performer = r.From },
		why:   "picks",
	}, {
		name: "taken from a node that does not hold it", reason: ReasonDeadline, after: time.Minute,
		spoil: func(f *actionFixture, r *Reassignment) { r.From = r.Performer },
		why:   "is with",
	}, {
		name: "unknown instance", reason: ReasonDeadline, after: time.Minute,
		spoil: func(f *actionFixture, r *Reassignment) { r.Instance = InstanceID("c", "nope") },
		why:   "no instance",
	}, {
		name: "another request id", reason: ReasonDeadline, after: time.Minute,
		spoil: func(f *actionFixture, r *Reassignment) { r.RequestID = "r-9" },
		why:   "for request",
	}, {
		name: "unknown reason", reason: "bored", after: time.Minute, why: "unknown reason",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newActionFixture(t, 4)
			f.applyT(t, f.assign(t, f.request(t, "r-1", "blink", nil)))
			inst := InstanceID("c", "r-1")
			rec, _ := f.state.Assignment(inst)
			from := rec.Performer
			if tc.setup != nil {
				tc.setup(t, f, inst, from)
			}
			f.now = t0.Add(tc.after)
			r := &Reassignment{Action: "blink", Instance: inst, RequestID: "r-1", From: from, Reason: tc.reason}
			if next := f.state.Eligible("blink", "r-1", []string{from}); len(next) > 0 {
				r.Performer = next[0]
			}
			if tc.spoil != nil {
				tc.spoil(f, r)
			}
			entry := (&Entry{Type: TypeReassign, Reassign: r}).Encode()
			err := f.validate(entry)
			built, berr := f.state.ReassignInstance(inst, tc.reason)
			if tc.why != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
					t.Fatalf("Validate = %v, want ErrInvalid about %q", err, tc.why)
				}
				if tc.spoil == nil && berr == nil {
					t.Fatal("ReassignInstance built an invalid entry")
				}
				return
			}
			if err != nil || berr != nil {
				t.Fatalf("Validate = %v, ReassignInstance = %v", err, berr)
			}
			if string(built.Encode()) != string(entry) {
				t.Fatalf("builder made %s, want %s", built.Encode(), entry)
			}
			f.applyT(t, entry)
			got, _ := f.state.Assignment(inst)
			if got.Performer != r.Performer || got.Height != f.state.Height || slices.Compare(got.Tried, []string{from}) != 0 ||
				got.Output != "led" || f.state.LastAssigned[r.Performer] != f.state.Height {
				t.Fatalf("after the reassignment: %+v", got)
			}
		})
	}
}

func TestReassign_UntilNoNodeIsLeft(t *testing.T) {
	f := newActionFixture(t, 4)
	f.applyT(t, f.assign(t, f.request(t, "r-1", "blink", nil)))
	inst := InstanceID("c", "r-1")
	for i := 1; i < 4; i++ {
		// Each reassignment restarts the deadline.
		f.now = f.now.Add(9 * time.Second)
		if _, err := f.state.ReassignInstance(inst, ReasonDeadline); err == nil {
			t.Fatalf("reassignment %d before its deadline", i)
		}
		f.now = f.now.Add(time.Second)
		e, err := f.state.ReassignInstance(inst, ReasonDeadline)
		if err != nil {
			t.Fatalf("reassignment %d: %v", i, err)
		}
		f.applyT(t, e.Encode())
	}
	rec, _ := f.state.Assignment(inst)
	all := append(slices.Clone(rec.Tried), rec.Performer)
	slices.Sort(all)
	if slices.Compare(all, f.state.ValidatorNames()) != 0 {
		t.Fatalf("tried %v then %s", rec.Tried, rec.Performer)
	}
	f.now = f.now.Add(time.Minute)
	if _, err := f.state.ReassignInstance(inst, ReasonDeadline); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no eligible node") {
		t.Fatalf("reassignment with every node tried: %v", err)
	}
}

func TestReassign_DeadlineAfterRestoreCountsFromTheRestore(t *testing.T) {
	f := newActionFixture(t, 4)
	f.applyT(t, f.assign(t, f.request(t, "r-1", "blink", nil)))
	back, err := Restore(f.state.Snapshot(), "c", f.state.operators)
	if err != nil {
		t.Fatal(err)
	}
	restart := t0.Add(time.Hour)
	now := restart
	rules := f.rules
	rules.Now = func() time.Time { return now }
	back.SetRules(rules)
	now = restart.Add(9 * time.Second)
	if _, err := back.ReassignInstance(InstanceID("c", "r-1"), ReasonDeadline); err == nil {
		t.Fatal("deadline passed 9s after the restart")
	}
	now = restart.Add(10 * time.Second)
	if _, err := back.ReassignInstance(InstanceID("c", "r-1"), ReasonDeadline); err != nil {
		t.Fatalf("deadline 10s after the restart: %v", err)
	}
}

func TestReassign_WithoutClockDeadlineCountsAsPassed(t *testing.T) {
	f := newActionFixture(t, 4)
	f.rules.Now = nil
	f.state.SetRules(f.rules)
	f.applyT(t, f.assign(t, f.request(t, "r-1", "blink", nil)))
	if _, err := f.state.ReassignInstance(InstanceID("c", "r-1"), ReasonDeadline); err != nil {
		t.Fatal(err)
	}
}
