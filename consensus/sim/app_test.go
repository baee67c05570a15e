package sim

import (
	"errors"
	"reflect"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

func TestApplication_Validate(t *testing.T) {
	f := newFixture(t)
	a := f.vote("node-4", consensus.MsgPrevote, 1, 0, consensus.Hash{1})
	b := f.vote("node-4", consensus.MsgPrevote, 1, 0, consensus.Hash{2})
	good := EjectEntry(&consensus.Evidence{A: a, B: b})
	same := EjectEntry(&consensus.Evidence{A: a, B: a})
	forged := b
	forged.Signature = a.Signature
	bad := EjectEntry(&consensus.Evidence{A: a, B: forged})
	wrongName := append([]byte("eject/node-3\x00"), good[len("eject/node-4\x00"):]...)

	tests := []struct {
		name    string
		entries []string
		want    error // nil: valid
	}{
		{"ops", []string{"op/1", "op/2"}, nil},
		{"ejection with evidence", []string{"op/1", string(good)}, nil},
		{"empty op", []string{"op/"}, errMalformedEntry},
		{"unknown entry", []string{"hello"}, errMalformedEntry},
		{"twice in a block", []string{"op/1", "op/1"}, errDuplicateEntry},
		{"decided before", []string{"op/old"}, errDuplicateEntry},
		{"evidence that does not conflict", []string{string(same)}, errBadEjection},
		{"evidence with a bad signature", []string{string(bad)}, errBadEjection},
		{"evidence against someone else", []string{string(wrongName)}, errBadEjection},
		{"eject without evidence", []string{"eject/node-4"}, errMalformedEntry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newApplication("sim", f.genesis, consensus.FakeVerifier{})
			app.Apply(1, []consensus.Entry{consensus.Entry("op/old")}, f.genesis)
			var entries []consensus.Entry
			for _, e := range tt.entries {
				entries = append(entries, consensus.Entry(e))
			}
			err := app.Validate(2, entries)
			if tt.want == nil && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestApplication_EjectTakesEffectNextHeight(t *testing.T) {
	f := newFixture(t)
	a := f.vote("node-4", consensus.MsgPrevote, 1, 0, consensus.Hash{1})
	b := f.vote("node-4", consensus.MsgPrevote, 1, 0, consensus.Hash{2})
	eject := EjectEntry(&consensus.Evidence{A: a, B: b})

	app := newApplication("sim", f.genesis, consensus.FakeVerifier{})
	var got []Ejection
	app.onEject = func(e Ejection) { got = append(got, e) }
	// Two accusations of one node decided together eject it once.
	next := app.Apply(1, []consensus.Entry{eject, EjectEntry(&consensus.Evidence{A: b, B: a})}, f.genesis)
	if next.Has("node-4") || next.Len() != 3 {
		t.Fatalf("set after ejection: %v", next.IDs())
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], Ejection{Node: "node-4", Height: 1, Reason: reasonEquivocation}) {
		t.Errorf("ejections %v, want node-4 once at height 1", got)
	}
	// A second ejection of the same node is no longer valid.
	c := f.vote("node-4", consensus.MsgPrecommit, 1, 0, consensus.Hash{3})
	d := f.vote("node-4", consensus.MsgPrecommit, 1, 0, consensus.Hash{4})
	again := EjectEntry(&consensus.Evidence{A: c, B: d})
	if err := app.Validate(2, []consensus.Entry{again}); !errors.Is(err, errBadEjection) {
		t.Errorf("ejecting an ejected node: %v", err)
	}
}
