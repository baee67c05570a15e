package agreed

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

func (f *actionFixture) accusation(t testing.TB, by, accused string, height uint64) *wire.Accusation {
	t.Helper()
	a := &wire.Accusation{Header: wire.Header{TS: wire.Timestamp(f.now)}, Node: by, Accused: accused,
		Reason: wire.AccuseReadings, Height: height, Summary: "readings far from the zone's median"}
	if err := wire.SignAccusation("c", a, f.keys[by]); err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *actionFixture) outcomeBy(t testing.TB, performer, instance string, height uint64, ok bool) *wire.Outcome {
	t.Helper()
	o := &wire.Outcome{Action: "blink", Instance: instance, RequestID: "r-x", Performer: performer, Height: height, OK: ok,
		Started: wire.Timestamp(f.now), Finished: wire.Timestamp(f.now.Add(time.Second)), Readback: "high"}
	if !ok {
		o.Error, o.Readback = "stuck", "low"
	}
	if err := wire.SignOutcome("c", o, f.keys[performer]); err != nil {
		t.Fatal(err)
	}
	return o
}

// f+1 distinct validators' signed, recent accusations eject a node; fewer,
// repeated, forged, stale or misdirected ones do not.
func TestEject_ByAccusation(t *testing.T) {
	f := newActionFixture(t, 4) // f = 1: two accusers needed
	h := f.state.Height
	ok := func() []*wire.Accusation {
		return []*wire.Accusation{f.accusation(t, "node-1", "node-4", h), f.accusation(t, "node-2", "node-4", h)}
	}
	for _, tc := range []struct {
		name string
		acc  func() []*wire.Accusation
		why  string
	}{
		{"f+1 accusers", ok, ""},
		{"one accuser", func() []*wire.Accusation { return ok()[:1] }, "f+1"},
		{"the same accuser twice", func() []*wire.Accusation { a := ok(); a[1] = a[0]; return a }, "twice"},
		{"an accuser outside the validators", func() []*wire.Accusation {
			return []*wire.Accusation{ok()[0], f.accusation(t, "node-5", "node-4", h)}
		}, "not a validator"},
		{"a forged accusation", func() []*wire.Accusation {
			a := ok()
			a[1].Summary = "changed after signing"
			return a
		}, "bad signature"},
		{"an accusation of someone else", func() []*wire.Accusation {
			return []*wire.Accusation{ok()[0], f.accusation(t, "node-2", "node-3", h)}
		}, "someone else"},
		{"an accusation from the future", func() []*wire.Accusation {
			return []*wire.Accusation{ok()[0], f.accusation(t, "node-2", "node-4", h+1)}
		}, "from height"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewAccusedEjection("node-4", tc.acc())
			_, err := f.state.CheckEntry(e.Encode())
			if tc.why == "" {
				if err != nil {
					t.Fatalf("CheckEntry: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("CheckEntry = %v, want ErrInvalid about %q", err, tc.why)
			}
		})
	}
	// Decided: node-4 is out, and its key is kept for its evidence.
	f.applyT(t, NewAccusedEjection("node-4", ok()).Encode())
	if !f.state.IsEjected("node-4") || f.state.Ejected["node-4"].Key == "" || f.state.ValidatorSet().Len() != 3 {
		t.Fatalf("after the ejection: %+v", f.state.Ejected)
	}
	// Old accusations do not count forever.
	g := newActionFixture(t, 4)
	old := []*wire.Accusation{g.accusation(t, "node-1", "node-4", g.state.Height), g.accusation(t, "node-2", "node-4", g.state.Height)}
	for range MaxAccusationAge + 1 {
		g.applyT(t, g.doc("node-1", "z", defaultOutputs()...))
	}
	if _, err := g.state.CheckEntry(NewAccusedEjection("node-4", old).Encode()); !errors.Is(err, ErrInvalid) {
		t.Errorf("accusations %d heights old: %v", MaxAccusationAge+1, err)
	}
}

// A signed outcome for work the state never gave the signer, and two
// different outcomes for one assignment, are self-proving.
func TestEject_ByOutcomes(t *testing.T) {
	f := newActionFixture(t, 4)
	f.applyT(t, f.assign(t, f.request(t, "r-1", "blink", nil)))
	inst := InstanceID("c", "r-1")
	rec, _ := f.state.Assignment(inst)
	other := "node-1"
	if rec.Performer == other {
		other = "node-2"
	}
	check := func(e *Entry) error { _, err := f.state.CheckEntry(e.Encode()); return err }

	if err := check(NewOutcomeEjection(other, ReasonUnassignedOutcome, f.outcomeBy(t, other, inst, rec.Height, true))); err != nil {
		t.Errorf("an outcome for work assigned to %s, signed by %s: %v", rec.Performer, other, err)
	}
	if err := check(NewOutcomeEjection(other, ReasonUnassignedOutcome, f.outcomeBy(t, other, "i-never", rec.Height, true))); err != nil {
		t.Errorf("an outcome for an instance never assigned: %v", err)
	}
	if err := check(NewOutcomeEjection(rec.Performer, ReasonUnassignedOutcome, f.outcomeBy(t, rec.Performer, inst, rec.Height, true))); !errors.Is(err, ErrInvalid) {
		t.Errorf("the performer's own outcome passed as unassigned: %v", err)
	}
	if err := check(NewOutcomeEjection(other, ReasonUnassignedOutcome, f.outcomeBy(t, other, "i-never", rec.Height+5, true))); !errors.Is(err, ErrInvalid) {
		t.Errorf("an outcome for a height not decided yet: %v", err)
	}
	forged := f.outcomeBy(t, other, inst, rec.Height, true)
	forged.Performer = rec.Performer // signed by other, claimed for the performer
	if err := check(NewOutcomeEjection(rec.Performer, ReasonUnassignedOutcome, forged)); !errors.Is(err, ErrInvalid) {
		t.Errorf("a forged outcome ejects its supposed signer: %v", err)
	}

	a, b := f.outcomeBy(t, rec.Performer, inst, rec.Height, true), f.outcomeBy(t, rec.Performer, inst, rec.Height, false)
	if err := check(NewOutcomeEjection(rec.Performer, ReasonConflictingOutcomes, a, b)); err != nil {
		t.Errorf("two conflicting outcomes: %v", err)
	}
	if err := check(NewOutcomeEjection(rec.Performer, ReasonConflictingOutcomes, a, a)); !errors.Is(err, ErrInvalid) {
		t.Errorf("one outcome twice: %v", err)
	}
	c := f.outcomeBy(t, rec.Performer, inst, rec.Height-1, false)
	if err := check(NewOutcomeEjection(rec.Performer, ReasonConflictingOutcomes, a, c)); !errors.Is(err, ErrInvalid) {
		t.Errorf("outcomes of two assignments: %v", err)
	}
}

// A frame a validator signed that carries an entry with a signature that
// does not verify ejects that validator; a frame carrying a genuine entry,
// or signed by someone else, does not.
func TestEject_ForgedEntry(t *testing.T) {
	f := newActionFixture(t, 4)
	genuine := f.doc("node-1", "z", defaultOutputs()...)
	e, _ := Decode(genuine)
	e.Doc.Zone = "elsewhere" // changed after node-1 signed it
	forged := e.Encode()
	if f.state.Forged(forged) == "" || f.state.Forged(genuine) != "" {
		t.Fatalf("Forged: forged %q, genuine %q", f.state.Forged(forged), f.state.Forged(genuine))
	}
	frame := func(by string, entry []byte) []byte {
		return ed25519.Sign(f.keys[by], EntryFrameSignBytes("c", entry))
	}
	check := func(ej *Entry) error { _, err := f.state.CheckEntry(ej.Encode()); return err }
	if err := check(NewForgedEntryEjection("node-4", frame("node-4", forged), forged)); err != nil {
		t.Errorf("node-4 sent a forged advert: %v", err)
	}
	if err := check(NewForgedEntryEjection("node-4", frame("node-4", genuine), genuine)); !errors.Is(err, ErrInvalid) {
		t.Errorf("a genuine entry ejects its sender: %v", err)
	}
	if err := check(NewForgedEntryEjection("node-4", frame("node-3", forged), forged)); !errors.Is(err, ErrInvalid) {
		t.Errorf("node-3's frame ejects node-4: %v", err)
	}
	req := f.request(t, "r-9", "blink", nil)
	req.Params = map[string]string{"duration": "2s"} // after signing
	bad, _ := f.state.AssignRequest(f.request(t, "r-8", "blink", nil))
	bad.Assign.Request = req
	raw := bad.Encode()
	if err := check(NewForgedEntryEjection("node-2", frame("node-2", raw), raw)); err != nil {
		t.Errorf("node-2 sent an assignment with a forged request: %v", err)
	}
}
