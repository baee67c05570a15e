package consensus

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// NodeID names a validator. It is the node name bound to a public key in the
// cluster's genesis.
type NodeID string

// Hash identifies a block: SHA-256 over its canonical encoding. The zero Hash
// stands for "nil" in votes.
type Hash [32]byte

// IsZero reports whether h is the nil hash.
func (h Hash) IsZero() bool { return h == Hash{} }

// String gives the first eight hex digits, enough to tell values apart in logs
// and scenario scripts; "nil" for the zero hash.
func (h Hash) String() string {
	if h.IsZero() {
		return "nil"
	}
	return hex.EncodeToString(h[:4])
}

// Entry is one application entry. The core treats it as opaque bytes: the
// application encodes capability adverts, assignments, ejections and
// admissions, and judges them through Application.Validate.
type Entry []byte

// Block is the value consensus decides at a height: an ordered batch of
// entries. The height is part of the value, so a block can never be decided at
// a height it was not proposed for.
type Block struct {
	Height  uint64
	Entries []Entry
}

// Hash returns the block's identity.
func (b *Block) Hash() Hash {
	h := sha256.New()
	var buf [8]byte
	putUint64(buf[:], b.Height)
	h.Write([]byte("pact/block/v1"))
	h.Write(buf[:])
	putUint64(buf[:], uint64(len(b.Entries)))
	h.Write(buf[:])
	for _, e := range b.Entries {
		putUint64(buf[:], uint64(len(e)))
		h.Write(buf[:])
		h.Write(e)
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// MsgType is the kind of a consensus message.
type MsgType uint8

// Message types. Proposal, Prevote and Precommit are the three steps of a
// round; Commit carries a decided block with its certificate to a node that is
// behind; Status tells a peer which height the sender is at, so that a peer
// that is ahead can send the commits it lacks.
const (
	MsgProposal MsgType = iota + 1
	MsgPrevote
	MsgPrecommit
	MsgCommit
	MsgStatus
)

var msgTypeNames = [...]string{"invalid", "proposal", "prevote", "precommit", "commit", "status"}

func (t MsgType) String() string {
	if int(t) < len(msgTypeNames) {
		return msgTypeNames[t]
	}
	return fmt.Sprintf("msgtype(%d)", uint8(t))
}

// Valid reports whether t is a known message type.
func (t MsgType) Valid() bool { return t >= MsgProposal && t <= MsgStatus }

// Message is everything validators say to each other. Which fields are set
// depends on Type:
//
//	Proposal:  Height, Round, Block, POLRound (-1 when the block is new)
//	Prevote:   Height, Round, BlockHash (zero = nil)
//	Precommit: Height, Round, BlockHash (zero = nil)
//	Commit:    Commit (Height mirrors Commit.Block.Height)
//	Status:    Height (the sender's current height)
//
// Every message is signed by From over SignBytes. To is routing only: empty
// means "every validator"; it is not signed and not encoded.
type Message struct {
	Type      MsgType
	From      NodeID
	To        NodeID
	Height    uint64
	Round     int32
	POLRound  int32
	BlockHash Hash
	Block     *Block
	Commit    *Commit
	Signature []byte
}

// IsVote reports whether m is a prevote or a precommit.
func (m *Message) IsVote() bool { return m.Type == MsgPrevote || m.Type == MsgPrecommit }

func (m *Message) String() string {
	switch m.Type {
	case MsgProposal:
		return fmt.Sprintf("%s %s h=%d r=%d %s pol=%d", m.From, m.Type, m.Height, m.Round, m.BlockHash, m.POLRound)
	case MsgPrevote, MsgPrecommit:
		return fmt.Sprintf("%s %s h=%d r=%d %s", m.From, m.Type, m.Height, m.Round, m.BlockHash)
	case MsgCommit:
		if m.Commit != nil {
			return fmt.Sprintf("%s commit h=%d r=%d %s", m.From, m.Commit.Block.Height, m.Commit.Round, m.Commit.Block.Hash())
		}
	}
	return fmt.Sprintf("%s %s h=%d", m.From, m.Type, m.Height)
}

// CommitVote is one validator's precommit inside a certificate. All votes of a
// certificate are for the same height, round and block, so only the voter and
// its signature are kept.
type CommitVote struct {
	From      NodeID
	Signature []byte
}

// Commit is a decided block and its certificate: precommits for the block from
// a quorum (2f+1) of the validator set in force at the block's height. Anyone
// holding that set's public keys can check it with VerifyCommit.
type Commit struct {
	Block Block
	Round int32
	Votes []CommitVote
}

// Step is where a node is within a round.
type Step uint8

// Steps of a round, in order.
const (
	StepPropose Step = iota + 1
	StepPrevote
	StepPrecommit
)

func (s Step) String() string {
	switch s {
	case StepPropose:
		return "propose"
	case StepPrevote:
		return "prevote"
	case StepPrecommit:
		return "precommit"
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// stepOf maps the message types a node signs in a round to the step at which
// it signs them, the order the double-sign guard compares.
func stepOf(t MsgType) Step {
	switch t {
	case MsgProposal:
		return StepPropose
	case MsgPrevote:
		return StepPrevote
	case MsgPrecommit:
		return StepPrecommit
	}
	return 0
}
