package sim

import (
	"fmt"
	"slices"

	"github.com/seed44533760/pact/consensus"
)

// equivocate sends every proposal and vote of its node in two versions, both
// validly signed: the original to one half of the peers and a conflicting
// variant to the other. The halves are drawn afresh for every send, so the
// node's own re-sends eventually hand some peer both versions — which is what
// turns equivocation into evidence. (A careful equivocator that kept its
// halves fixed would be seen only by a transport that relays votes; the
// twins strategy models that case with overlapping views.)
type equivocate struct {
	variants  map[stepKey][]byte         // the conflicting version, built once per step
	proposals map[stepKey]consensus.Hash // latest proposal seen, per height and round
}

type stepKey struct {
	height uint64
	round  int32
	t      consensus.MsgType
}

func newEquivocate() Strategy {
	return &equivocate{variants: make(map[stepKey][]byte), proposals: make(map[stepKey]consensus.Hash)}
}

func (s *equivocate) Outgoing(a *Adversary, m *consensus.Message, to []consensus.NodeID) []Delivery {
	orig := m.Marshal()
	if !signsStep(a, m) || len(to) < 2 {
		return Broadcast(to, orig)
	}
	variant := s.variant(a, m)
	peers := slices.Clone(to)
	a.Rand.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
	half := (len(peers) + 1) / 2
	out := Broadcast(peers[:half], orig)
	return append(out, Broadcast(peers[half:], variant)...)
}

// variant builds the conflicting twin of m: another block for a proposal
// (the same entries plus one of its own, so honest nodes find it valid), nil
// for a vote for a block, and for a nil vote a vote for the round's proposal
// (or an arbitrary hash when it saw none).
func (s *equivocate) variant(a *Adversary, m *consensus.Message) []byte {
	k := stepKey{m.Height, m.Round, m.Type}
	if v, ok := s.variants[k]; ok {
		return v
	}
	s.prune(m.Height)
	c := *m
	switch {
	case m.Type == consensus.MsgProposal:
		b := &consensus.Block{Height: m.Height}
		if m.Block != nil {
			b.Entries = slices.Clone(m.Block.Entries)
		}
		b.Entries = append(b.Entries, OpEntry(fmt.Sprintf("equivocate/%s/%d/%d", a.ID, m.Height, m.Round)))
		c.Block, c.BlockHash, c.POLRound = b, b.Hash(), -1
	case !m.BlockHash.IsZero():
		c.BlockHash = consensus.Hash{}
	default:
		h, ok := s.proposals[stepKey{m.Height, m.Round, consensus.MsgProposal}]
		if !ok || h.IsZero() {
			for i := range h {
				h[i] = byte(a.Rand.UintN(256))
			}
		}
		c.BlockHash = h
	}
	a.Sign(&c)
	v := c.Marshal()
	s.variants[k] = v
	return v
}

func (s *equivocate) Incoming(a *Adversary, m *consensus.Message, _ []byte) {
	if m.Type == consensus.MsgProposal && m.Block != nil {
		s.prune(m.Height)
		s.proposals[stepKey{m.Height, m.Round, consensus.MsgProposal}] = m.BlockHash
	}
}

// prune forgets heights two or more below h.
func (s *equivocate) prune(h uint64) {
	for k := range s.variants {
		if k.height+2 <= h {
			delete(s.variants, k)
		}
	}
	for k := range s.proposals {
		if k.height+2 <= h {
			delete(s.proposals, k)
		}
	}
}

// forge takes part in consensus but corrupts a fifth of what it sends, and
// adds one forgery to every proposal or vote: a message in an honest
// validator's (or the proposer's) name signed with the wrong key, garbage
// bytes, a truncated message, a message signed for another cluster, a status
// in someone else's name, or a commit certificate made of invented
// signatures for the current or a coming height. Forged signatures are not
// self-proving evidence — anyone could have sent them — so they are refused
// and counted, never turned into ejections.
type forge struct{}

const forgeCorrupt = 0.2

func (f *forge) Outgoing(a *Adversary, m *consensus.Message, to []consensus.NodeID) []Delivery {
	if len(to) == 0 {
		return nil
	}
	orig := m.Marshal()
	out := make([]Delivery, 0, len(to)+1)
	for _, id := range to {
		raw := orig
		if len(m.Signature) > 0 && a.Rand.Float64() < forgeCorrupt {
			c := *m
			c.Signature = slices.Clone(m.Signature)
			c.Signature[a.Rand.IntN(len(c.Signature))] ^= byte(1 + a.Rand.UintN(255))
			raw = c.Marshal()
		}
		out = append(out, Delivery{To: id, Bytes: raw})
	}
	if m.Type != consensus.MsgProposal && !m.IsVote() {
		return out
	}
	target := to[a.Rand.IntN(len(to))]
	return append(out, Delivery{To: target, Bytes: f.forgery(a, m, orig)})
}

func (f *forge) forgery(a *Adversary, m *consensus.Message, orig []byte) []byte {
	randomBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(a.Rand.UintN(256))
		}
		return b
	}
	randomHash := func() (h consensus.Hash) {
		copy(h[:], randomBytes(len(h)))
		return h
	}
	victim := a.Honest[a.Rand.IntN(len(a.Honest))]
	switch a.Rand.IntN(7) {
	case 0: // a vote in an honest validator's name, signed with our key
		c := consensus.Message{Type: consensus.MsgPrecommit, Height: m.Height, Round: m.Round, BlockHash: randomHash()}
		if a.Rand.IntN(2) == 0 {
			c.Type = consensus.MsgPrevote
		}
		a.Sign(&c)
		c.From = victim
		return c.Marshal()
	case 1: // a proposal in the round's proposer's name (never our own:
		// a second proposal signed by us would be real equivocation)
		b := &consensus.Block{Height: m.Height, Entries: []consensus.Entry{OpEntry(fmt.Sprintf("forged/%d", a.Rand.Uint64()))}}
		c := consensus.Message{Type: consensus.MsgProposal, Height: m.Height, Round: m.Round, POLRound: -1, Block: b, BlockHash: b.Hash()}
		a.Sign(&c)
		if p := a.Validators().Proposer(m.Height, m.Round); p != a.ID {
			c.From = p
		} else {
			c.From = victim
		}
		return c.Marshal()
	case 2: // garbage
		return randomBytes(1 + a.Rand.IntN(200))
	case 3: // a real message cut short
		return slices.Clone(orig[:a.Rand.IntN(len(orig))])
	case 4: // our own message, signed for another cluster
		c := *m
		a.SignFor("not-"+a.Cluster, &c)
		return c.Marshal()
	case 5: // a status in an honest validator's name, claiming to be far ahead
		c := consensus.Message{Type: consensus.MsgStatus, Height: m.Height + 1 + a.Rand.Uint64N(100)}
		a.Sign(&c)
		c.From = victim
		return c.Marshal()
	default: // a commit certificate of invented signatures, now or soon
		h := m.Height + a.Rand.Uint64N(3)
		b := consensus.Block{Height: h, Entries: []consensus.Entry{OpEntry(fmt.Sprintf("forged/%d", a.Rand.Uint64()))}}
		c := &consensus.Commit{Block: b, Round: 0}
		for _, id := range a.Genesis {
			c.Votes = append(c.Votes, consensus.CommitVote{From: id, Signature: randomBytes(len(m.Signature))})
		}
		msg := consensus.Message{Type: consensus.MsgCommit, From: a.ID, Height: h, Commit: c}
		return msg.Marshal()
	}
}

func (*forge) Incoming(*Adversary, *consensus.Message, []byte) {}

// replay records what it hears and what it says, and re-sends old messages —
// validly signed, from any validator, for heights and rounds long past —
// alongside its node's own traffic.
type replay struct {
	seen [][]byte
	next int
}

const replayMemory = 512

func (r *replay) remember(raw []byte) {
	if len(r.seen) < replayMemory {
		r.seen = append(r.seen, raw)
		return
	}
	r.seen[r.next] = raw
	r.next = (r.next + 1) % replayMemory
}

func (r *replay) Outgoing(a *Adversary, m *consensus.Message, to []consensus.NodeID) []Delivery {
	orig := m.Marshal()
	out := Broadcast(to, orig)
	if len(to) > 0 && len(r.seen) > 0 {
		for k := a.Rand.IntN(3); k > 0; k-- {
			old := r.seen[a.Rand.IntN(len(r.seen))]
			out = append(out, Delivery{To: to[a.Rand.IntN(len(to))], Bytes: old})
		}
	}
	r.remember(orig)
	return out
}

func (r *replay) Incoming(_ *Adversary, m *consensus.Message, raw []byte) {
	if m.Type != consensus.MsgStatus {
		r.remember(raw)
	}
}

// flood is the agent's flood mode at the consensus level: with every message
// it sends, it sends floodBurst of its own earlier signed messages again to
// every peer — valid, stale, and many. Honest nodes must keep deciding; the
// simulator has no per-sender rate limit, so this measures the protocol's
// own tolerance of stale traffic (the agent's transport limits and accuses
// a flooder; the simulator does not eject it).
type flood struct {
	own  [][]byte
	next int
}

const (
	floodMemory = 64
	floodBurst  = 8
)

func (f *flood) Outgoing(a *Adversary, m *consensus.Message, to []consensus.NodeID) []Delivery {
	orig := m.Marshal()
	out := Broadcast(to, orig)
	if m.From == a.ID && len(f.own) > 0 {
		for range floodBurst {
			out = append(out, Broadcast(to, f.own[a.Rand.IntN(len(f.own))])...)
		}
	}
	if m.From == a.ID {
		if len(f.own) < floodMemory {
			f.own = append(f.own, orig)
		} else {
			f.own[f.next] = orig
			f.next = (f.next + 1) % floodMemory
		}
	}
	return out
}

func (*flood) Incoming(*Adversary, *consensus.Message, []byte) {}
