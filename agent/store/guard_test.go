package store

import (
	"errors"
	"reflect"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

func TestGuard_SurvivesReopen(t *testing.T) {
	s := openTest(t, nil)
	g := testGuard(7, 2, consensus.StepPrecommit)
	g.POLRound = 1
	if err := s.SaveGuard(g); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, nil)
	got, err := s.Guard()
	if err != nil {
		t.Fatal(err)
	}
	if got != g {
		t.Errorf("Guard() = %v, want %v", got, g)
	}
}

func TestSaveGuard_Order(t *testing.T) {
	base := testGuard(10, 1, consensus.StepPrevote)
	differentBlock := base
	differentBlock.BlockHash[5] ^= 1
	for _, tc := range []struct {
		name string
		next consensus.SignState
		err  error
	}{
		{"later step", testGuard(10, 1, consensus.StepPrecommit), nil},
		{"later round", testGuard(10, 2, consensus.StepPropose), nil},
		{"later height", testGuard(11, 0, consensus.StepPropose), nil},
		{"the same again", base, nil},
		{"earlier step", testGuard(10, 1, consensus.StepPropose), ErrRefused},
		{"earlier round", testGuard(10, 0, consensus.StepPrecommit), ErrRefused},
		{"earlier height", testGuard(9, 5, consensus.StepPrecommit), ErrRefused},
		{"never signed", consensus.SignState{}, ErrRefused},
		{"another block at the same step", differentBlock, ErrRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, nil)
			if err := s.SaveGuard(base); err != nil {
				t.Fatal(err)
			}
			err := s.SaveGuard(tc.next)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("SaveGuard(%v) after %v: %v, want %v", tc.next, base, err, tc.err)
			}
			want := base
			if tc.err == nil {
				want = tc.next
			}
			if got, _ := s.Guard(); got != want {
				t.Errorf("Guard() = %v, want %v", got, want)
			}
			if s.Err() != nil {
				t.Errorf("a refused guard made the store unusable: %v", s.Err())
			}
		})
	}
}

// The fixed-size encoding must cover every field of SignState: a field added
// in consensus without a new guard version here would be dropped on disk.
func TestGuardCodec_CoversEveryField(t *testing.T) {
	typ := reflect.TypeFor[consensus.SignState]()
	var size uintptr
	for i := range typ.NumField() {
		size += typ.Field(i).Type.Size()
	}
	if typ.NumField() != 7 || size != guardLen-1 {
		t.Fatalf("consensus.SignState has %d fields of %d bytes; the guard encoding knows 7 of %d: encode the new ones under a new guardVersion",
			typ.NumField(), size, guardLen-1)
	}
	g := consensus.SignState{Height: 1<<64 - 1, Round: 1 << 30, Step: consensus.StepPrecommit, POLRound: -1, LockedRound: 1<<30 - 1}
	for i := range g.BlockHash {
		g.BlockHash[i], g.LockedHash[i] = byte(i), byte(255-i)
	}
	b := encodeGuard(g)
	if len(b) != guardLen {
		t.Fatalf("encoded guard is %d bytes, want %d", len(b), guardLen)
	}
	got, err := decodeGuard(b)
	if err != nil || got != g {
		t.Fatalf("round trip: %v, %v; want %v", got, err, g)
	}
}

func FuzzDecodeGuard(f *testing.F) {
	f.Add(encodeGuard(testGuard(3, 1, consensus.StepPrevote)))
	f.Add([]byte{guardVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := decodeGuard(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode error %v is not ErrCorrupt", err)
			}
			return
		}
		if again := encodeGuard(g); string(again) != string(b) {
			t.Fatalf("decoded %v re-encodes to %x, not %x", g, again, b)
		}
	})
}
