package consensus

import (
	"errors"
	"testing"
)

// FuzzVerifyCommit joins FuzzUnmarshal and FuzzUnmarshalEvidence
// (codec_test.go). Their seed corpora are committed under
// testdata/fuzz/<target>, so plain `go test` replays them; `make fuzz`
// explores further.

// commitSeeds are MsgCommit encodings whose certificates verify against
// fuzzValidators.
func commitSeeds() [][]byte {
	var out [][]byte
	for _, n := range []int{3, 4} {
		blk := Block{Height: 9, Entries: []Entry{Entry("advertise/n1"), Entry("assign/blink/2")}}
		c := &Commit{Block: blk, Round: 1}
		for _, id := range fuzzValidatorIDs[:n] {
			sig := FakeSigner{Key: PublicKey(id)}.Sign(voteSignBytes("c", MsgPrecommit, blk.Height, c.Round, 0, blk.Hash()))
			c.Votes = append(c.Votes, CommitVote{From: id, Signature: sig})
		}
		m := &Message{Type: MsgCommit, From: "n4", Height: 9, Round: 1, Commit: c}
		out = append(out, m.Marshal())
	}
	return out
}

var fuzzValidatorIDs = []NodeID{"n1", "n2", "n3", "n4"}

func fuzzValidators(t testing.TB) *ValidatorSet {
	var vals []Validator
	for _, id := range fuzzValidatorIDs {
		vals = append(vals, Validator{ID: id, PubKey: PublicKey(id)})
	}
	vs, err := NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// A commit from a peer or from the node's own decided log is checked against
// a validator set without panicking, whatever its certificate holds, and a
// certificate that verifies still verifies after a round trip.
func FuzzVerifyCommit(f *testing.F) {
	for _, s := range commitSeeds() {
		f.Add(s)
	}
	vals := fuzzValidators(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil || m.Commit == nil {
			return
		}
		err = VerifyCommit("c", m.Commit, vals, FakeVerifier{})
		if err != nil && !errors.Is(err, ErrBadCertificate) {
			t.Fatalf("VerifyCommit: %v, want nil or ErrBadCertificate", err)
		}
		again, derr := Unmarshal(m.Marshal())
		if derr != nil {
			t.Fatalf("re-encoded commit does not decode: %v", derr)
		}
		if err2 := VerifyCommit("c", again.Commit, vals, FakeVerifier{}); (err == nil) != (err2 == nil) {
			t.Fatalf("VerifyCommit %v before the round trip, %v after", err, err2)
		}
	})
}
