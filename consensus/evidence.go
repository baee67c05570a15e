package consensus

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Evidence proves that a validator equivocated: A and B are two messages it
// signed for the same height, round and type that say different things. It
// is self-proving — anyone holding the validator's public key and the cluster
// name can check it with Verify, no trust in the reporter needed. Proposals
// are kept without their blocks (the block hash is signed), so evidence stays
// small.
type Evidence struct {
	A, B Message
}

// Offender is the validator that signed both messages.
func (e *Evidence) Offender() NodeID { return e.A.From }

func (e *Evidence) String() string {
	return fmt.Sprintf("equivocation by %s at h=%d r=%d %s: %s vs %s",
		e.A.From, e.A.Height, e.A.Round, e.A.Type, e.A.BlockHash, e.B.BlockHash)
}

// newEvidence builds evidence from two conflicting messages, stripping blocks
// and routing and putting the pair in a canonical order so that every node
// that sees the same two messages produces identical evidence.
func newEvidence(a, b *Message) Evidence {
	strip := func(m *Message) Message {
		c := *m
		c.Block, c.Commit, c.To = nil, nil, ""
		return c
	}
	x, y := strip(a), strip(b)
	if string(y.Signature) < string(x.Signature) {
		x, y = y, x
	}
	return Evidence{A: x, B: y}
}

// conflicts reports whether two messages from one sender for the same height,
// round and type are an equivocation.
func conflicts(a, b *Message) bool {
	if a.From != b.From || a.Type != b.Type || a.Height != b.Height || a.Round != b.Round {
		return false
	}
	switch a.Type {
	case MsgProposal:
		return a.BlockHash != b.BlockHash || a.POLRound != b.POLRound
	case MsgPrevote, MsgPrecommit:
		return a.BlockHash != b.BlockHash
	}
	return false
}

// Verify checks that the evidence proves equivocation by a validator whose
// public key is pub, in the named cluster: two well-formed messages of one
// type, height and round from the same sender, conflicting, both signed.
func (e *Evidence) Verify(cluster string, pub PublicKey, v Verifier) error {
	if !e.A.Type.Valid() || stepOf(e.A.Type) == 0 {
		return fmt.Errorf("%w: evidence of type %s", ErrMalformed, e.A.Type)
	}
	if !conflicts(&e.A, &e.B) {
		return fmt.Errorf("%w: the two messages do not conflict", ErrMalformed)
	}
	for _, m := range []*Message{&e.A, &e.B} {
		if !v.Verify(pub, SignBytes(cluster, m), m.Signature) {
			return fmt.Errorf("%w: %s", ErrBadSignature, m)
		}
	}
	return nil
}

// Marshal encodes the evidence for gossip or storage.
func (e *Evidence) Marshal() []byte {
	a, b := e.A.Marshal(), e.B.Marshal()
	out := binary.AppendUvarint(nil, uint64(len(a)))
	out = append(out, a...)
	return append(out, b...)
}

// UnmarshalEvidence decodes evidence produced by Marshal. It checks the
// encoding only; call Verify before trusting it.
func UnmarshalEvidence(buf []byte) (*Evidence, error) {
	n, k := binary.Uvarint(buf)
	if k <= 0 || n > uint64(len(buf)-k) {
		return nil, fmt.Errorf("%w: bad evidence length", ErrMalformed)
	}
	a, err := Unmarshal(buf[k : k+int(n)])
	if err != nil {
		return nil, fmt.Errorf("evidence, first message: %w", err)
	}
	b, err := Unmarshal(buf[k+int(n):])
	if err != nil {
		return nil, fmt.Errorf("evidence, second message: %w", err)
	}
	if a.Block != nil || b.Block != nil || a.Commit != nil || b.Commit != nil {
		return nil, errors.Join(ErrMalformed, errors.New("evidence carries a block"))
	}
	return &Evidence{A: *a, B: *b}, nil
}
