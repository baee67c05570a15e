package consensus

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"reflect"
	"testing"
)

func sampleMessages() []*Message {
	blk := &Block{Height: 7, Entries: []Entry{Entry("advertise/n1"), Entry(""), Entry("assign/blink/1")}}
	return []*Message{
		{Type: MsgProposal, From: "node-1", Height: 7, Round: 2, POLRound: 1, BlockHash: blk.Hash(), Block: blk, Signature: bytes.Repeat([]byte{1}, 64)},
		{Type: MsgPrevote, From: "node-2", Height: 7, Round: 0, BlockHash: blk.Hash(), Signature: bytes.Repeat([]byte{2}, 64)},
		{Type: MsgPrecommit, From: "node-3", Height: 1 << 40, Round: 1 << 20, Signature: []byte{3}},
		{Type: MsgStatus, From: "n", Height: 12},
		{Type: MsgCommit, From: "node-4", Height: 7, Round: 2, Commit: &Commit{Block: *blk, Round: 2, Votes: []CommitVote{{"node-1", []byte{9, 9}}, {"node-2", []byte{8}}}}},
	}
}

func TestCodec_RoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		got, err := Unmarshal(m.Marshal())
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		want := *m
		if !reflect.DeepEqual(normalize(got), normalize(&want)) {
			t.Errorf("round trip changed the message:\n got %#v\nwant %#v", got, &want)
		}
		if !bytes.Equal(got.Marshal(), m.Marshal()) {
			t.Errorf("%s: re-encoding differs", m)
		}
	}
}

// normalize maps empty and nil slices to nil so DeepEqual compares content.
func normalize(m *Message) *Message {
	c := *m
	if len(c.Signature) == 0 {
		c.Signature = nil
	}
	fix := func(b *Block) {
		for i, e := range b.Entries {
			if len(e) == 0 {
				b.Entries[i] = nil
			}
		}
	}
	if c.Block != nil {
		fix(c.Block)
	}
	if c.Commit != nil {
		fix(&c.Commit.Block)
	}
	return &c
}

func TestCodec_MalformedIsRefused(t *testing.T) {
	good := sampleMessages()[0].Marshal()
	for name, b := range map[string][]byte{
		"empty":              nil,
		"wrong version":      append([]byte{9}, good[1:]...),
		"unknown type":       append([]byte{1, 42}, good[2:]...),
		"truncated":          good[:len(good)/2],
		"trailing bytes":     append(append([]byte(nil), good...), 0),
		"huge entry count":   {1, 1, 1, 'a', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 5, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"round out of range": (&Message{Type: MsgPrevote, From: "a", Round: -5}).Marshal(),
		"oversized":          make([]byte, MaxMessageSize+1),
	} {
		if _, err := Unmarshal(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestSignBytes_BindClusterTypeHeightRound(t *testing.T) {
	base := &Message{Type: MsgPrevote, Height: 3, Round: 1, BlockHash: Hash{1}}
	ref := SignBytes("greenhouse", base)
	variants := map[string][]byte{
		"cluster": SignBytes("lab", base),
		"type":    SignBytes("greenhouse", &Message{Type: MsgPrecommit, Height: 3, Round: 1, BlockHash: Hash{1}}),
		"height":  SignBytes("greenhouse", &Message{Type: MsgPrevote, Height: 4, Round: 1, BlockHash: Hash{1}}),
		"round":   SignBytes("greenhouse", &Message{Type: MsgPrevote, Height: 3, Round: 2, BlockHash: Hash{1}}),
		"value":   SignBytes("greenhouse", &Message{Type: MsgPrevote, Height: 3, Round: 1}),
	}
	for what, sb := range variants {
		if bytes.Equal(sb, ref) {
			t.Errorf("sign bytes do not depend on the %s", what)
		}
	}
	// The sender and routing are not part of what is signed: the signature
	// itself binds the sender's key.
	other := *base
	other.From, other.To = "x", "y"
	if !bytes.Equal(SignBytes("greenhouse", &other), ref) {
		t.Error("sign bytes depend on From or To")
	}
}

func TestEd25519_SignVerify(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	s := Ed25519Signer{Key: priv}
	if !bytes.Equal(s.PublicKey(), pub) {
		t.Fatal("public key mismatch")
	}
	msg := []byte("hello")
	sig := s.Sign(msg)
	v := Ed25519Verifier{}
	if !v.Verify(PublicKey(pub), msg, sig) {
		t.Fatal("valid signature refused")
	}
	sig[0] ^= 1
	if v.Verify(PublicKey(pub), msg, sig) || v.Verify(PublicKey(pub[:5]), msg, sig) || v.Verify(PublicKey(pub), msg, sig[:10]) {
		t.Fatal("bad signature or key accepted")
	}
}

func TestFakeSigner_BindsKeyAndMessage(t *testing.T) {
	a, b := FakeSigner{Key: PublicKey("a")}, FakeSigner{Key: PublicKey("b")}
	sig := a.Sign([]byte("m"))
	v := FakeVerifier{}
	if !v.Verify(PublicKey("a"), []byte("m"), sig) {
		t.Fatal("fake signature refused")
	}
	if v.Verify(PublicKey("b"), []byte("m"), sig) || v.Verify(PublicKey("a"), []byte("n"), sig) || bytes.Equal(sig, b.Sign([]byte("m"))) {
		t.Fatal("fake signature does not bind key and message")
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(m.Marshal())
	}
	f.Add([]byte{})
	f.Add([]byte{1, 2, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not wrapping ErrMalformed: %v", err)
			}
			return
		}
		// Whatever decodes re-encodes to the same bytes and decodes again
		// to the same message: the encoding is canonical.
		again := m.Marshal()
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in  %x\n out %x", b, again)
		}
		_ = m.String()
		_ = SignBytes("c", m)
	})
}

func FuzzUnmarshalEvidence(f *testing.F) {
	a := &Message{Type: MsgPrevote, From: "n4", Height: 1, Round: 0, BlockHash: Hash{1}, Signature: []byte{1}}
	b := &Message{Type: MsgPrevote, From: "n4", Height: 1, Round: 0, BlockHash: Hash{2}, Signature: []byte{2}}
	ev := newEvidence(a, b)
	f.Add(ev.Marshal())
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, buf []byte) {
		ev, err := UnmarshalEvidence(buf)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not wrapping ErrMalformed: %v", err)
			}
			return
		}
		_ = ev.Verify("c", PublicKey("n4"), FakeVerifier{})
		_ = ev.String()
		// Decoded evidence re-encodes to evidence of the same value. (Not
		// to the same bytes: the first message's length prefix may use
		// more varint bytes than it needs. Evidence is judged by its
		// messages, never compared as bytes.)
		again, err := UnmarshalEvidence(ev.Marshal())
		if err != nil {
			t.Fatalf("re-encoded evidence does not decode: %v", err)
		}
		if !reflect.DeepEqual(normalize(&again.A), normalize(&ev.A)) || !reflect.DeepEqual(normalize(&again.B), normalize(&ev.B)) {
			t.Fatalf("round trip changed the evidence:\n got %v\nwant %v", again, ev)
		}
	})
}
