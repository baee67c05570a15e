package consensus

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
)

func testKey(seed byte) (PublicKey, Ed25519Signer) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	s := Ed25519Signer{Key: priv}
	return s.PublicKey(), s
}

func signed(s Signer, cluster string, m Message) *Message {
	m.Signature = s.Sign(SignBytes(cluster, &m))
	return &m
}

func TestEvidence_Verify(t *testing.T) {
	pub, signer := testKey(4)
	otherPub, otherSigner := testKey(5)
	vote := func(s Signer, cluster string, t MsgType, round int32, h Hash) *Message {
		return signed(s, cluster, Message{Type: t, From: "n4", Height: 9, Round: round, BlockHash: h})
	}
	blkA, blkB := &Block{Height: 9, Entries: []Entry{Entry("a")}}, &Block{Height: 9, Entries: []Entry{Entry("b")}}
	propA := signed(signer, "c", Message{Type: MsgProposal, From: "n4", Height: 9, Round: 1, POLRound: -1, BlockHash: blkA.Hash(), Block: blkA})
	propB := signed(signer, "c", Message{Type: MsgProposal, From: "n4", Height: 9, Round: 1, POLRound: -1, BlockHash: blkB.Hash(), Block: blkB})

	for _, tc := range []struct {
		name string
		a, b *Message
		pub  PublicKey
		want error
	}{
		{"two prevotes", vote(signer, "c", MsgPrevote, 0, Hash{1}), vote(signer, "c", MsgPrevote, 0, Hash{2}), pub, nil},
		{"value and nil precommits", vote(signer, "c", MsgPrecommit, 3, Hash{1}), vote(signer, "c", MsgPrecommit, 3, Hash{}), pub, nil},
		{"two proposals", propA, propB, pub, nil},
		{"same vote twice", vote(signer, "c", MsgPrevote, 0, Hash{1}), vote(signer, "c", MsgPrevote, 0, Hash{1}), pub, ErrMalformed},
		{"different rounds", vote(signer, "c", MsgPrevote, 0, Hash{1}), vote(signer, "c", MsgPrevote, 1, Hash{2}), pub, ErrMalformed},
		{"different types", vote(signer, "c", MsgPrevote, 0, Hash{1}), vote(signer, "c", MsgPrecommit, 0, Hash{2}), pub, ErrMalformed},
		{"other key", vote(signer, "c", MsgPrevote, 0, Hash{1}), vote(signer, "c", MsgPrevote, 0, Hash{2}), otherPub, ErrBadSignature},
		{"one forged", vote(signer, "c", MsgPrevote, 0, Hash{1}), vote(otherSigner, "c", MsgPrevote, 0, Hash{2}), pub, ErrBadSignature},
		{"signed for another cluster", vote(signer, "c", MsgPrevote, 0, Hash{1}), vote(signer, "other", MsgPrevote, 0, Hash{2}), pub, ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := newEvidence(tc.a, tc.b)
			err := ev.Verify("c", tc.pub, Ed25519Verifier{})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			// Evidence survives the wire, blocks stripped.
			back, err2 := UnmarshalEvidence(ev.Marshal())
			if err2 != nil {
				t.Fatalf("UnmarshalEvidence: %v", err2)
			}
			if back.A.Block != nil || back.B.Block != nil {
				t.Fatal("evidence kept a block")
			}
			if err3 := back.Verify("c", tc.pub, Ed25519Verifier{}); (err3 == nil) != (err == nil) {
				t.Fatalf("decoded evidence verifies %v, original %v", err3, err)
			}
		})
	}
}

func TestEvidence_CanonicalOrder(t *testing.T) {
	_, signer := testKey(4)
	a := signed(signer, "c", Message{Type: MsgPrevote, From: "n4", Height: 1, BlockHash: Hash{1}})
	b := signed(signer, "c", Message{Type: MsgPrevote, From: "n4", Height: 1, BlockHash: Hash{2}})
	x, y := newEvidence(a, b), newEvidence(b, a)
	if !bytes.Equal(x.Marshal(), y.Marshal()) {
		t.Fatal("evidence depends on the order the two messages arrived in")
	}
}

func TestUnmarshalEvidence_RefusesGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {200, 1}, {3, 1, 2, 3}} {
		if _, err := UnmarshalEvidence(b); err == nil {
			t.Errorf("%x: accepted", b)
		}
	}
}
