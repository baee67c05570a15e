package agreed

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

// Fuzz targets for the agreed state's two decoders: entries (proposed by
// peers, gossiped, stored in the decided log) and the snapshot (read back
// from the state file). Their seed corpora are committed under
// testdata/fuzz/<target>, so plain `go test` replays them.

// entrySeeds are entries of every type the fixtures build.
func entrySeeds(t testing.TB) []consensus.Entry {
	f := newActionFixture(t, 4)
	out := []consensus.Entry{
		f.doc("node-1", "z", defaultOutputs()...),
		f.admit("node-5", "n-1", f.operator),
		NewEjection(f.equivocation("node-2")).Encode(),
		f.assign(t, f.request(t, "r-1", "blink", map[string]string{"duration": "1s"})),
	}
	r := &Retirement{Node: "node-3", Key: pubB64(f.keys["node-3"]), Operator: "ops", Nonce: "n-2", Reason: "board died"}
	r.Sign("c", f.operator)
	return append(out, (&Entry{Type: TypeRetire, Retire: r}).Encode())
}

// An entry decodes strictly; one that decodes encodes to bytes that decode
// to the same entry, and the state judges it (Validate, the consensus
// Application's check of a proposed block) without panicking.
func FuzzDecode(f *testing.F) {
	for _, s := range entrySeeds(f) {
		f.Add([]byte(s))
	}
	fx := newActionFixture(f, 4)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode: %v, want ErrInvalid", err)
			}
			return
		}
		enc := e.Encode()
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded entry %s does not decode: %v", enc, err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("round trip changed the entry:\n got %+v\nwant %+v", again, e)
		}
		if enc2 := again.Encode(); !bytes.Equal(enc2, enc) {
			t.Fatalf("entry encodes as %s, then as %s", enc, enc2)
		}
		_ = fx.state.Validate(fx.state.Height+1, []consensus.Entry{consensus.Entry(b)})
	})
}

// snapshotSeeds are snapshots of fixture states: just after genesis and the
// adverts, and after an assignment.
func snapshotSeeds(t testing.TB) [][]byte {
	f := newActionFixture(t, 4)
	out := [][]byte{f.state.Snapshot()}
	f.applyT(t, f.assign(t, f.request(t, "r-1", "blink", nil)))
	return append(out, f.state.Snapshot())
}

// A snapshot read back from the state file restores or is refused with an
// error, never a panic. A restored state snapshots to bytes that restore to
// the same snapshot, and it can judge the next block.
func FuzzRestore(f *testing.F) {
	for _, s := range snapshotSeeds(f) {
		f.Add(s)
	}
	fx := newActionFixture(f, 4)
	next := fx.assign(f, fx.request(f, "r-9", "blink", nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Restore(b, "c", fx.state.operators)
		if err != nil {
			return
		}
		snap := s.Snapshot()
		again, err := Restore(snap, "c", fx.state.operators)
		if err != nil {
			t.Fatalf("a restored state's snapshot does not restore: %v\n%s", err, snap)
		}
		if snap2 := again.Snapshot(); !bytes.Equal(snap2, snap) {
			t.Fatalf("snapshot round trip changed the state:\n got %s\nwant %s", snap2, snap)
		}
		s.SetRules(fx.rules)
		_ = s.ValidatorNames()
		_ = s.EjectedNames()
		if err := s.Validate(s.Height+1, []consensus.Entry{next}); err == nil {
			s.Apply(s.Height+1, []consensus.Entry{next}, s.ValidatorSet())
		}
	})
}
