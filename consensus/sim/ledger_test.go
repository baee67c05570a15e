package sim

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// accuse is node from's signed accusation of node to, made at height h.
func (f *fixture) accuse(from, to int, reason string, h uint64) consensus.Entry {
	return accuseEntry("sim", f.signers[NodeName(from)], accusation{accuser: NodeName(from), accused: NodeName(to), reason: reason, height: h})
}

func TestApplication_ValidateAccusation(t *testing.T) {
	f := newFixture(t)
	good := f.accuse(1, 4, wire.AccuseReadings, 5)
	forged := accuseEntry("sim", f.signers["node-4"], accusation{accuser: "node-1", accused: "node-2", reason: wire.AccuseWitness, height: 5})
	otherCluster := accuseEntry("other", f.signers["node-1"], accusation{accuser: "node-1", accused: "node-4", reason: wire.AccuseReadings, height: 5})
	stranger := consensus.FakeSigner{Key: consensus.PublicKey("stranger")}
	tests := []struct {
		name  string
		entry consensus.Entry
		want  error // nil: valid
	}{
		{"signed by the accuser", good, nil},
		{"witness contradiction", f.accuse(2, 3, wire.AccuseWitness, 10), nil},
		{"in another validator's name", forged, errBadAccusation},
		{"signed for another cluster", otherCluster, errBadAccusation},
		{"by a stranger", accuseEntry("sim", stranger, accusation{accuser: "node-9", accused: "node-1", reason: wire.AccuseReadings, height: 5}), errBadAccusation},
		{"of a stranger", f.accuse(1, 9, wire.AccuseReadings, 5), errBadAccusation},
		{"of itself", f.accuse(2, 2, wire.AccuseReadings, 5), errBadAccusation},
		{"unknown reason", f.accuse(1, 4, "bad-vibes", 5), errBadAccusation},
		{"dated in the future", f.accuse(1, 4, wire.AccuseReadings, 11), errBadAccusation},
		{"without a signature", consensus.Entry("accuse/node-1/node-4/inconsistent-readings/5"), errMalformedEntry},
		{"a part missing", append(consensus.Entry("accuse/node-1/node-4/5\x00"), good[len(good)-8:]...), errMalformedEntry},
		{"a height that is no number", append(consensus.Entry("accuse/node-1/node-4/inconsistent-readings/x\x00"), good[len(good)-8:]...), errMalformedEntry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newApplication("sim", f.genesis, consensus.FakeVerifier{})
			for h := uint64(1); h < 10; h++ {
				app.Apply(h, nil, app.vals)
			}
			err := app.Validate(10, []consensus.Entry{tt.entry})
			if tt.want == nil && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}

	// An accusation accuseWindow heights old can no longer be decided; one
	// a height younger can.
	app := newApplication("sim", f.genesis, consensus.FakeVerifier{})
	for h := uint64(1); h <= accuseWindow+5; h++ {
		app.Apply(h, nil, app.vals)
	}
	if err := app.Validate(accuseWindow+6, []consensus.Entry{f.accuse(1, 4, wire.AccuseReadings, 6)}); !errors.Is(err, errBadAccusation) {
		t.Errorf("stale accusation: %v", err)
	}
	if err := app.Validate(accuseWindow+6, []consensus.Entry{f.accuse(1, 4, wire.AccuseReadings, 7)}); err != nil {
		t.Errorf("accusation within the window refused: %v", err)
	}
}

// TestLedger_FPlusOneAccusersEject: with n = 4 (f = 1) one accuser, however
// often it accuses, ejects nobody; a second distinct one does, from the next
// height, and the ejection names both.
func TestLedger_FPlusOneAccusersEject(t *testing.T) {
	f := newFixture(t)
	l := newLedger(f.genesis)
	if ej := l.apply(1, []consensus.Entry{f.accuse(1, 4, wire.AccuseReadings, 1), f.accuse(1, 4, wire.AccuseWitness, 1)}); len(ej) != 0 {
		t.Fatalf("one accuser ejected: %v", ej)
	}
	if ej := l.apply(2, []consensus.Entry{f.accuse(1, 4, wire.AccuseReadings, 2), OpEntry("x")}); len(ej) != 0 {
		t.Fatalf("one accuser, twice, ejected: %v", ej)
	}
	ej := l.apply(3, []consensus.Entry{f.accuse(3, 4, wire.AccuseReadings, 3)})
	want := []Ejection{{Node: "node-4", Height: 3, Reason: reasonAccused, Accusers: []string{"node-1", "node-3"},
		Grounds: []string{wire.AccuseReadings}}}
	if !reflect.DeepEqual(ej, want) {
		t.Fatalf("ejections %+v, want %+v", ej, want)
	}
	if l.vals.Has("node-4") || l.vals.Len() != 3 {
		t.Errorf("set after the ejection: %v", l.vals.IDs())
	}
	// Accusations of a node that is gone change nothing.
	if ej := l.apply(4, []consensus.Entry{f.accuse(2, 4, wire.AccuseReadings, 4)}); len(ej) != 0 {
		t.Errorf("ejected again: %v", ej)
	}
}

// TestLedger_OnlyRecentAccusationsOfValidatorsCount: an accusation decided
// accuseWindow heights ago has expired, an ejected accuser's no longer
// counts, and f is that of the set in force.
func TestLedger_OnlyRecentAccusationsOfValidatorsCount(t *testing.T) {
	f := newFixture(t)
	l := newLedger(f.genesis)
	l.apply(1, []consensus.Entry{f.accuse(1, 3, wire.AccuseReadings, 1)})
	for h := uint64(2); h <= accuseWindow; h++ {
		l.apply(h, nil)
	}
	if ej := l.apply(accuseWindow+1, []consensus.Entry{f.accuse(2, 3, wire.AccuseReadings, accuseWindow)}); len(ej) != 0 {
		t.Fatalf("an expired accusation counted: %v", ej)
	}

	// In seven validators (f = 2), node-7 accuses node-1 and is then
	// ejected for equivocating: the six left tolerate f = 1, and node-5's
	// accusation of node-1 with node-7's, which no longer counts, is one
	// accuser, not two.
	g := newFixtureN(t, 7)
	l = newLedger(g.genesis)
	l.apply(1, []consensus.Entry{g.accuse(7, 1, wire.AccuseReadings, 1)})
	a := g.vote("node-7", consensus.MsgPrevote, 1, 0, consensus.Hash{1})
	b := g.vote("node-7", consensus.MsgPrevote, 1, 0, consensus.Hash{2})
	ej := l.apply(2, []consensus.Entry{EjectEntry(&consensus.Evidence{A: a, B: b}), g.accuse(5, 1, wire.AccuseReadings, 2)})
	if len(ej) != 1 || ej[0].Node != "node-7" || ej[0].Reason != reasonEquivocation {
		t.Fatalf("ejections %+v, want node-7 for equivocation only", ej)
	}
	if ej := l.apply(3, []consensus.Entry{g.accuse(4, 1, wire.AccuseWitness, 3)}); len(ej) != 1 || ej[0].Node != "node-1" ||
		!slices.Equal(ej[0].Accusers, []string{"node-4", "node-5"}) || !slices.Equal(ej[0].Grounds, []string{wire.AccuseReadings, wire.AccuseWitness}) {
		t.Errorf("ejections %+v, want node-1 by node-4 and node-5 on both grounds", ej)
	}
}

// TestLedger_SevenNodesNeedThree: with n = 7 (f = 2), two colluding accusers
// eject nobody.
func TestLedger_SevenNodesNeedThree(t *testing.T) {
	g := newFixtureN(t, 7)
	l := newLedger(g.genesis)
	two := []consensus.Entry{
		g.accuse(6, 1, wire.AccuseReadings, 1), g.accuse(7, 1, wire.AccuseReadings, 1),
		g.accuse(6, 2, wire.AccuseWitness, 1), g.accuse(7, 2, wire.AccuseWitness, 1),
	}
	if ej := l.apply(1, two); len(ej) != 0 {
		t.Fatalf("f accusers ejected: %v", ej)
	}
	ej := l.apply(2, []consensus.Entry{g.accuse(3, 1, wire.AccuseReadings, 1)})
	if len(ej) != 1 || ej[0].Node != "node-1" || !slices.Equal(ej[0].Accusers, []string{"node-3", "node-6", "node-7"}) {
		t.Errorf("ejections %+v, want node-1 by node-3, node-6, node-7", ej)
	}
}
