package consensus

import (
	"errors"
	"fmt"
	"testing"
)

type keyring struct {
	vals    *ValidatorSet
	signers map[NodeID]Signer
}

func newKeyring(t testing.TB, n int) *keyring {
	kr := &keyring{signers: map[NodeID]Signer{}}
	var vals []Validator
	for i := 1; i <= n; i++ {
		id := NodeID(fmt.Sprintf("n%d", i))
		pub, s := testKey(byte(i))
		kr.signers[id] = s
		vals = append(vals, Validator{ID: id, PubKey: pub})
	}
	vs, err := NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	kr.vals = vs
	return kr
}

// commit builds a certificate for b signed by the named validators.
func (kr *keyring) commit(cluster string, b Block, round int32, by ...NodeID) *Commit {
	c := &Commit{Block: b, Round: round}
	sb := voteSignBytes(cluster, MsgPrecommit, b.Height, round, 0, b.Hash())
	for _, id := range by {
		c.Votes = append(c.Votes, CommitVote{From: id, Signature: kr.signers[id].Sign(sb)})
	}
	return c
}

func TestVerifyCommit(t *testing.T) {
	kr := newKeyring(t, 4) // quorum 3
	b := Block{Height: 5, Entries: []Entry{Entry("x")}}
	forged := kr.commit("c", b, 0, "n1", "n2")
	forged.Votes = append(forged.Votes, CommitVote{From: "n3", Signature: make([]byte, 64)})
	wrongRound := kr.commit("c", b, 0, "n1", "n2", "n3")
	wrongRound.Round = 1
	altered := kr.commit("c", b, 0, "n1", "n2", "n3")
	altered.Block.Entries = []Entry{Entry("y")}
	for _, tc := range []struct {
		name string
		c    *Commit
		ok   bool
	}{
		{"quorum", kr.commit("c", b, 0, "n1", "n2", "n3"), true},
		{"all four", kr.commit("c", b, 2, "n1", "n2", "n3", "n4"), true},
		{"too few", kr.commit("c", b, 0, "n1", "n2"), false},
		{"one voter three times", kr.commit("c", b, 0, "n1", "n1", "n1"), false},
		{"forged third vote", forged, false},
		{"other cluster", kr.commit("other", b, 0, "n1", "n2", "n3"), false},
		{"round changed", wrongRound, false},
		{"block changed", altered, false},
		{"nil", nil, false},
	} {
		err := VerifyCommit("c", tc.c, kr.vals, Ed25519Verifier{})
		if (err == nil) != tc.ok {
			t.Errorf("%s: VerifyCommit = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadCertificate) {
			t.Errorf("%s: error %v does not wrap ErrBadCertificate", tc.name, err)
		}
	}
}

func TestVerifyCommit_UnknownVotersDoNotCount(t *testing.T) {
	kr := newKeyring(t, 7)
	small, _ := kr.vals.Without("n7")
	small, _ = small.Without("n6")
	small, _ = small.Without("n5") // n1..n4, quorum 3
	b := Block{Height: 2, Entries: []Entry{Entry("x")}}
	c := kr.commit("c", b, 0, "n1", "n5", "n6", "n7")
	if err := VerifyCommit("c", c, small, Ed25519Verifier{}); err == nil {
		t.Fatal("votes from validators outside the set were counted")
	}
}

func newTestNode(t testing.TB, kr *keyring, id NodeID, app Application) *Node {
	cfg := DefaultConfig()
	cfg.Cluster, cfg.ID, cfg.Validators = "c", id, kr.vals
	cfg.Signer, cfg.Verifier, cfg.App = kr.signers[id], Ed25519Verifier{}, app
	n, err := NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNode_CatchUpRefusesBadCertificates(t *testing.T) {
	kr := newKeyring(t, 4)
	n := newTestNode(t, kr, "n4", testApp{})
	b1 := Block{Height: 1, Entries: []Entry{Entry("one")}}
	b2 := Block{Height: 2, Entries: []Entry{Entry("two")}}

	bad := kr.commit("c", b1, 0, "n1", "n2")
	if err := n.Step(&Message{Type: MsgCommit, From: "n1", Commit: bad}); !errors.Is(err, ErrBadCertificate) {
		t.Fatalf("short certificate: err = %v", err)
	}
	if n.Height() != 1 || n.Stats().BadCertificates != 1 {
		t.Fatalf("bad certificate changed state: height %d, stats %+v", n.Height(), n.Stats())
	}
	// A good commit for height 2 arriving first waits for height 1.
	if err := n.Step(&Message{Type: MsgCommit, From: "n1", Commit: kr.commit("c", b2, 1, "n1", "n2", "n3")}); err != nil {
		t.Fatal(err)
	}
	if n.Height() != 1 {
		t.Fatal("decided height 2 before height 1")
	}
	if err := n.Step(&Message{Type: MsgCommit, From: "n2", Commit: kr.commit("c", b1, 0, "n1", "n2", "n3")}); err != nil {
		t.Fatal(err)
	}
	if n.Height() != 3 {
		t.Fatalf("height = %d after commits 1 and 2, want 3", n.Height())
	}
	rd := n.Ready()
	if len(rd.Decided) != 2 || rd.Decided[0].Block.Height != 1 || rd.Decided[1].Block.Height != 2 {
		t.Fatalf("decided %+v", rd.Decided)
	}
	if n.Stats().CatchUpApplied != 2 {
		t.Fatalf("stats %+v", n.Stats())
	}
}

func TestNode_ServesCommitsToStatusBehind(t *testing.T) {
	kr := newKeyring(t, 4)
	n := newTestNode(t, kr, "n1", testApp{})
	for h := uint64(1); h <= 3; h++ {
		b := Block{Height: h, Entries: []Entry{Entry(fmt.Sprint(h))}}
		if err := n.Step(&Message{Type: MsgCommit, From: "n2", Commit: kr.commit("c", b, 0, "n2", "n3", "n4")}); err != nil {
			t.Fatal(err)
		}
	}
	n.Ready()
	n.Advance()
	st := signed(kr.signers["n4"], "c", Message{Type: MsgStatus, From: "n4", Height: 2})
	if err := n.Step(st); err != nil {
		t.Fatal(err)
	}
	rd := n.Ready()
	var got []uint64
	for _, m := range rd.Messages {
		if m.Type == MsgCommit && m.To == "n4" {
			got = append(got, m.Commit.Block.Height)
		}
	}
	if fmt.Sprint(got) != "[2 3]" {
		t.Fatalf("served heights %v to a peer at height 2, want [2 3]", got)
	}
	// A forged status is refused and serves nothing.
	n.Advance()
	forged := &Message{Type: MsgStatus, From: "n3", Height: 1, Signature: make([]byte, 64)}
	if err := n.Step(forged); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged status: err = %v", err)
	}
	if n.HasReady() {
		t.Fatal("forged status produced output")
	}
}
