package consensus

import (
	"fmt"
	"sort"

	"github.com/seed44533760/pact/consensus/quorum"
)

// Node is one validator's consensus state machine. It is not safe for
// concurrent use: one goroutine owns it, feeds it with Step, Tick and Propose,
// and drains its output with Ready and Advance.
type Node struct {
	cfg  Config
	vals *ValidatorSet
	self PublicKey // cfg.Signer's key: this node votes only while vals holds it for cfg.ID

	height uint64
	round  int32
	step   Step

	lockedRound int32
	lockedHash  Hash
	validRound  int32
	validBlock  *Block

	// active is false while the node has nothing to propose and has heard
	// nothing at this height: no timeouts run, so an idle cluster is quiet.
	active bool

	now       uint64 // ticks since start
	decidedAt uint64 // tick at which the last height was decided
	timeouts  []timeout

	rounds   map[int32]*roundState
	blocks   map[Hash]*Block
	validity map[Hash]struct{} // blocks the application found valid at this height

	pending    []Entry
	pendingSet map[string]struct{}

	guard SignState

	lastRebroadcast uint64
	lastStatus      uint64
	lastCommitTo    map[NodeID]uint64
	lastStatusTo    map[NodeID]uint64

	future        map[NodeID][]*Message // messages for height+1
	futureCommits map[uint64]*Commit
	recent        map[uint64]*Commit
	seenEvidence  map[evidenceKey]struct{}

	// Output waiting for Ready; readyN marks how much the last Ready handed
	// out, so Advance drops only that.
	out    Ready
	readyN readyCounts

	stats Stats
}

type readyCounts struct {
	msgs, decided, evidence int
	signState               *SignState
}

type evidenceKey struct {
	from   NodeID
	height uint64
	round  int32
	t      MsgType
}

type timeoutKind uint8

const (
	timeoutPropose timeoutKind = iota + 1
	timeoutPrevote
	timeoutPrecommit
)

type timeout struct {
	kind   timeoutKind
	height uint64
	round  int32
	at     uint64
}

// roundState holds what a node has seen in one round of the current height.
type roundState struct {
	proposal      *Message
	prevotes      *quorum.Tally[Hash]
	precommits    *quorum.Tally[Hash]
	prevoteMsgs   map[NodeID]*Message
	precommitMsgs map[NodeID]*Message
	senders       map[NodeID]struct{}
	// altPrevotes holds the prevotes of equivocators that conflict with
	// their first one (at most maxAltVotes each); they count towards a
	// polka (see polka), never towards the tally.
	altPrevotes map[NodeID][]*Message
	// rebroadcasts counts the rebroadcasts made in this round (see relay).
	rebroadcasts int

	proposeScheduled   bool
	prevoteScheduled   bool
	precommitScheduled bool
	polkaSeen          bool

	ownProposal, ownPrevote, ownPrecommit *Message
}

// Ready is the node's output since the last Advance. The caller must, in
// this order: persist SignState durably (fsync) when it is non-nil; persist
// and apply Decided; then send Messages; then call Advance. Sending a message
// before its SignState is durable could let a crash make the node equivocate.
type Ready struct {
	// SignState is the double-sign guard to persist before any of Messages
	// leaves; nil when it has not changed.
	SignState *SignState
	// Messages to send; To empty means every validator but this node.
	Messages []Message
	// Decided commits, in height order, each with its certificate.
	Decided []Commit
	// Evidence of equivocation seen since the last Ready.
	Evidence []Evidence
}

// Empty reports whether there is nothing to do.
func (r *Ready) Empty() bool {
	return r.SignState == nil && len(r.Messages) == 0 && len(r.Decided) == 0 && len(r.Evidence) == 0
}

// Stats counts what the node has seen and refused. The agent exports them as
// metrics; tests assert on them.
type Stats struct {
	Received        uint64 // messages handed to Step
	Duplicates      uint64 // identical messages already counted
	Malformed       uint64 // structurally invalid messages
	BadSignatures   uint64 // signatures that did not verify
	UnknownSenders  uint64 // senders outside the validator set
	NotProposer     uint64 // proposals from the wrong validator
	Stale           uint64 // messages for past heights
	FutureBuffered  uint64 // messages kept for the next height
	FutureDropped   uint64 // messages too far ahead, or over the buffer limit
	InvalidBlocks   uint64 // proposals the application rejected
	Equivocations   uint64 // evidence produced
	GuardRefusals   uint64 // signatures the double-sign guard refused
	RoundChanges    uint64 // rounds entered after round 0
	Decided         uint64 // heights decided in rounds
	CatchUpApplied  uint64 // heights learned from commit certificates
	CatchUpServed   uint64 // commits sent to peers that were behind
	BadCertificates uint64 // commit certificates that did not verify
	DroppedEntries  uint64 // pending entries the application rejected
	// BadPreparedBlocks counts blocks a Preparer built that did not
	// validate (an application bug; the pending entries went instead).
	BadPreparedBlocks uint64
}

// Status is a snapshot of where the node is.
type Status struct {
	ID          NodeID
	Height      uint64
	Round       int32
	Step        Step
	Validators  []NodeID
	LockedRound int32
	ValidRound  int32
	Pending     int
	Active      bool
}

// NewNode starts a node at cfg.Height. When cfg.LastSigned is at that height,
// the node resumes in the round it last signed in and keeps its lock.
func NewNode(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{
		cfg:           cfg,
		vals:          cfg.Validators,
		self:          cfg.Signer.PublicKey(),
		height:        cfg.Height,
		guard:         cfg.LastSigned,
		pendingSet:    make(map[string]struct{}),
		lastCommitTo:  make(map[NodeID]uint64),
		lastStatusTo:  make(map[NodeID]uint64),
		futureCommits: make(map[uint64]*Commit),
		recent:        make(map[uint64]*Commit),
		seenEvidence:  make(map[evidenceKey]struct{}),
		future:        make(map[NodeID][]*Message),
	}
	n.resetHeight()
	startRound := int32(0)
	if g := cfg.LastSigned; g.Step != 0 && g.Height == cfg.Height {
		startRound = g.Round
		n.lockedRound, n.lockedHash = g.LockedRound, g.LockedHash
		// A node that signed in this height was active here; resume its
		// timeouts so a restart cannot leave the height stuck.
		n.active = true
	}
	n.startRound(startRound)
	if g := cfg.LastSigned; g.Height == cfg.Height && g.Step >= StepPrevote {
		n.resumeVote(g)
	}
	return n, nil
}

// Status returns a snapshot of the node's position.
func (n *Node) Status() Status {
	return Status{
		ID:          n.cfg.ID,
		Height:      n.height,
		Round:       n.round,
		Step:        n.step,
		Validators:  n.vals.IDs(),
		LockedRound: n.lockedRound,
		ValidRound:  n.validRound,
		Pending:     len(n.pending),
		Active:      n.active,
	}
}

// Stats returns the counters.
func (n *Node) Stats() Stats { return n.stats }

// Validators returns the validator set in force at the current height.
func (n *Node) Validators() *ValidatorSet { return n.vals }

// Height is the height the node is deciding.
func (n *Node) Height() uint64 { return n.height }

// SignState returns the double-sign guard as it is now.
func (n *Node) SignState() SignState { return n.guard }

// HasReady reports whether Ready has anything.
func (n *Node) HasReady() bool { return !n.out.Empty() }

// Ready returns the output accumulated since the last Advance. Calling it
// twice without Advance returns the same output plus anything new.
func (n *Node) Ready() Ready {
	rd := Ready{
		Messages: n.out.Messages,
		Decided:  n.out.Decided,
		Evidence: n.out.Evidence,
	}
	if n.out.SignState != nil {
		s := *n.out.SignState
		rd.SignState = &s
	}
	n.readyN = readyCounts{len(rd.Messages), len(rd.Decided), len(rd.Evidence), rd.SignState}
	return rd
}

// Advance acknowledges the last Ready: its SignState is durable, its
// decisions applied, its messages sent.
func (n *Node) Advance() {
	c := n.readyN
	n.out.Messages = dropFront(n.out.Messages, c.msgs)
	n.out.Decided = dropFront(n.out.Decided, c.decided)
	n.out.Evidence = dropFront(n.out.Evidence, c.evidence)
	if c.signState != nil && n.out.SignState != nil && *n.out.SignState == *c.signState {
		n.out.SignState = nil
	}
	n.readyN = readyCounts{}
}

func dropFront[T any](s []T, k int) []T {
	if k >= len(s) {
		return nil
	}
	return append([]T(nil), s[k:]...)
}

// Propose hands the node entries to decide. They wait in the node's pending
// list until a block holding them is decided (by anyone), and the node puts
// them in its proposals when it leads a round. Entries already pending are
// ignored. Proposing wakes an idle node.
func (n *Node) Propose(entries ...Entry) {
	for _, e := range entries {
		k := string(e)
		if _, dup := n.pendingSet[k]; dup {
			continue
		}
		n.pendingSet[k] = struct{}{}
		n.pending = append(n.pending, append(Entry(nil), e...))
	}
	if len(n.pending) == 0 {
		return
	}
	n.activate()
	n.enterPropose()
	n.evaluate(n.round)
}

// Tick advances the node's clock by one tick: timeouts fire, the current
// round's own messages are re-sent every RebroadcastTicks, and an idle node
// announces its height every StatusTicks.
func (n *Node) Tick() {
	n.now++
	n.fireTimeouts()
	switch {
	case n.active:
		if n.now-n.lastRebroadcast >= uint64(n.cfg.RebroadcastTicks) {
			n.lastRebroadcast = n.now
			n.rebroadcast()
		}
	case n.cfg.StatusTicks > 0 && n.now-n.lastStatus >= uint64(n.cfg.StatusTicks):
		n.lastStatus = n.now
		n.sendStatus("")
	}
}

func (n *Node) fireTimeouts() {
	for {
		idx := -1
		for i, t := range n.timeouts {
			if t.at <= n.now && (idx < 0 || t.at < n.timeouts[idx].at) {
				idx = i
			}
		}
		if idx < 0 {
			return
		}
		t := n.timeouts[idx]
		n.timeouts = append(n.timeouts[:idx], n.timeouts[idx+1:]...)
		n.onTimeout(t)
	}
}

func (n *Node) schedule(kind timeoutKind, round int32) {
	var base int
	switch kind {
	case timeoutPropose:
		base = n.cfg.TimeoutPropose
	case timeoutPrevote:
		base = n.cfg.TimeoutPrevote
	case timeoutPrecommit:
		base = n.cfg.TimeoutPrecommit
	}
	d := uint64(base) + uint64(round)*uint64(n.cfg.TimeoutDelta)
	n.timeouts = append(n.timeouts, timeout{kind: kind, height: n.height, round: round, at: n.now + d})
}

func (n *Node) onTimeout(t timeout) {
	if t.height != n.height || t.round != n.round {
		return
	}
	switch t.kind {
	case timeoutPropose:
		if n.step == StepPropose {
			n.prevote(Hash{})
		}
	case timeoutPrevote:
		if n.step == StepPrevote {
			n.precommit(Hash{})
		}
	case timeoutPrecommit:
		n.startRound(n.round + 1)
		return
	}
	n.evaluate(n.round)
}

func (n *Node) rebroadcast() {
	rs := n.rounds[n.round]
	if rs == nil {
		return
	}
	if p := rs.ownProposal; p != nil && p.POLRound >= 0 {
		n.sendPOL(p.POLRound, p.BlockHash)
	}
	for _, m := range []*Message{rs.ownProposal, rs.ownPrevote, rs.ownPrecommit} {
		if m != nil {
			n.send(*m)
		}
	}
	// A node still at a height everyone else has left hears nothing new;
	// its re-sent votes are what prompt peers to send it the commit.
	rs.rebroadcasts++
	// Relay at the 2nd, 4th, 8th... rebroadcast of a round: often enough
	// that a stuck round always gets the messages it lacks, rarely enough
	// that a cluster already overloaded is not buried under n² relays every
	// interval (25 agents on two cores collapsed with a relay each interval).
	if r := rs.rebroadcasts; r >= 2 && r&(r-1) == 0 {
		n.relay(rs)
	}
}

func (n *Node) send(m Message) { n.out.Messages = append(n.out.Messages, m) }

// isValidator reports whether this node may vote: the set holds its ID
// with the key it signs with.
func (n *Node) isValidator() bool {
	v, ok := n.vals.Get(n.cfg.ID)
	return ok && string(v.PubKey) == string(n.self)
}

func (n *Node) resetHeight() {
	n.round, n.step = 0, StepPropose
	n.lockedRound, n.lockedHash = -1, Hash{}
	n.validRound, n.validBlock = -1, nil
	n.rounds = make(map[int32]*roundState)
	n.blocks = make(map[Hash]*Block)
	n.validity = make(map[Hash]struct{})
	n.timeouts = n.timeouts[:0]
	n.active = len(n.pending) > 0
}

func (n *Node) roundState(r int32) *roundState {
	rs := n.rounds[r]
	if rs == nil {
		rs = &roundState{
			prevotes:      n.vals.tally(),
			precommits:    n.vals.tally(),
			prevoteMsgs:   make(map[NodeID]*Message),
			precommitMsgs: make(map[NodeID]*Message),
			senders:       make(map[NodeID]struct{}),
			altPrevotes:   make(map[NodeID][]*Message),
		}
		n.rounds[r] = rs
	}
	return rs
}

// activate marks the height as having work. An idle node starts its
// timeouts, and a proposer with something to propose proposes.
func (n *Node) activate() {
	if n.active {
		return
	}
	n.active = true
	n.lastRebroadcast = n.now
	n.enterPropose()
}

func (n *Node) startRound(r int32) {
	if r > 0 && r != n.round {
		n.stats.RoundChanges++
	}
	n.round, n.step = r, StepPropose
	n.lastRebroadcast = n.now
	n.enterPropose()
	n.evaluate(r)
}

// enterPropose is the proposal step: the proposer proposes; everyone else
// waits TimeoutPropose for it. Nothing happens on an idle height.
func (n *Node) enterPropose() {
	if n.step != StepPropose || !n.active {
		return
	}
	rs := n.roundState(n.round)
	if n.vals.Proposer(n.height, n.round) == n.cfg.ID && n.isValidator() && rs.ownProposal == nil {
		if block := n.proposalBlock(); block != nil {
			if n.propose(block) {
				return
			}
		}
	}
	if !rs.proposeScheduled {
		rs.proposeScheduled = true
		n.schedule(timeoutPropose, n.round)
	}
}

// proposalBlock is what a proposer offers: the block it saw a polka for in an
// earlier round (validValue), otherwise a new block of pending entries.
func (n *Node) proposalBlock() *Block {
	if n.validBlock != nil {
		return n.validBlock
	}
	if b := n.preparedBlock(); b != nil {
		return b
	}
	for len(n.pending) > 0 {
		b := n.fill(n.pending)
		if len(b.Entries) == 0 {
			// An entry larger than a block can hold can never be decided.
			n.dropPending(n.pending[0])
			continue
		}
		if err := n.cfg.App.Validate(n.height, b.Entries); err == nil {
			return b
		}
		// Drop the entries the application rejects on their own, then try
		// again; if each is fine alone the block as a whole is not, so
		// propose the first entry by itself.
		dropped := false
		for _, e := range b.Entries {
			if n.cfg.App.Validate(n.height, []Entry{e}) != nil {
				n.dropPending(e)
				dropped = true
			}
		}
		if !dropped {
			return &Block{Height: n.height, Entries: b.Entries[:1]}
		}
	}
	return nil
}

// fill takes entries in order into a block, up to the block's limits.
func (n *Node) fill(entries []Entry) *Block {
	b := &Block{Height: n.height}
	size := 0
	for _, e := range entries {
		if len(b.Entries) == n.cfg.MaxBlockEntries || size+len(e) > n.cfg.MaxBlockBytes {
			break
		}
		b.Entries = append(b.Entries, e)
		size += len(e)
	}
	return b
}

// preparedBlock asks a Preparer application to build the block. A block it
// builds that does not validate is counted and not proposed; the pending
// entries are then proposed as they are.
func (n *Node) preparedBlock() *Block {
	p, ok := n.cfg.App.(Preparer)
	if !ok || len(n.pending) == 0 {
		return nil
	}
	entries, discard := p.Prepare(n.height, n.pending)
	if len(discard) > 0 {
		gone := make(map[string]struct{}, len(discard))
		for _, e := range discard {
			gone[string(e)] = struct{}{}
		}
		n.stats.DroppedEntries += uint64(len(gone))
		n.removePending(gone)
	}
	b := n.fill(entries)
	if len(b.Entries) == 0 {
		return nil
	}
	if err := n.cfg.App.Validate(n.height, b.Entries); err != nil {
		n.stats.BadPreparedBlocks++
		return nil
	}
	return b
}

func (n *Node) dropPending(e Entry) {
	n.stats.DroppedEntries++
	n.removePending(map[string]struct{}{string(e): {}})
}

func (n *Node) removePending(done map[string]struct{}) {
	kept := n.pending[:0]
	for _, e := range n.pending {
		if _, ok := done[string(e)]; ok {
			delete(n.pendingSet, string(e))
			continue
		}
		kept = append(kept, e)
	}
	for i := len(kept); i < len(n.pending); i++ {
		n.pending[i] = nil
	}
	n.pending = kept
}

func (n *Node) propose(b *Block) bool {
	m := &Message{
		Type:      MsgProposal,
		Height:    n.height,
		Round:     n.round,
		POLRound:  n.validRound,
		BlockHash: b.Hash(),
		Block:     b,
	}
	if !n.sign(m) {
		return false
	}
	rs := n.roundState(n.round)
	rs.ownProposal = m
	rs.proposal = m
	rs.senders[n.cfg.ID] = struct{}{}
	n.blocks[m.BlockHash] = b
	if m.POLRound >= 0 {
		n.sendPOL(m.POLRound, m.BlockHash)
	}
	n.send(*m)
	return true
}

func (n *Node) prevote(h Hash) {
	n.step = StepPrevote
	m := &Message{Type: MsgPrevote, Height: n.height, Round: n.round, BlockHash: h}
	if !n.sign(m) {
		return
	}
	rs := n.roundState(n.round)
	rs.ownPrevote = m
	n.record(rs, m)
	n.send(*m)
}

func (n *Node) precommit(h Hash) {
	n.step = StepPrecommit
	m := &Message{Type: MsgPrecommit, Height: n.height, Round: n.round, BlockHash: h}
	if !n.sign(m) {
		return
	}
	rs := n.roundState(n.round)
	rs.ownPrecommit = m
	n.record(rs, m)
	n.send(*m)
}

// sign signs m if this node is a validator and the guard permits it, and
// moves the guard forward. It reports whether m was signed.
func (n *Node) sign(m *Message) bool {
	if !n.isValidator() {
		return false
	}
	if !n.guard.permits(m.Height, m.Round, m.Type, m.BlockHash, m.POLRound) {
		n.stats.GuardRefusals++
		return false
	}
	m.From = n.cfg.ID
	m.Signature = n.cfg.Signer.Sign(SignBytes(n.cfg.Cluster, m))
	n.guard = SignState{
		Height: m.Height, Round: m.Round, Step: stepOf(m.Type),
		BlockHash: m.BlockHash, POLRound: m.POLRound,
		LockedRound: n.lockedRound, LockedHash: n.lockedHash,
	}
	if m.Type != MsgProposal {
		n.guard.POLRound = 0
	}
	g := n.guard
	n.out.SignState = &g
	return true
}

// maxAltVotes bounds the conflicting prevotes kept per equivocator and round.
const maxAltVotes = 2

// record counts a verified vote, or turns a conflicting second vote into
// evidence (and keeps a conflicting prevote for polka). It reports whether
// the vote changed what the node knows.
func (n *Node) record(rs *roundState, m *Message) bool {
	msgs, tally := rs.prevoteMsgs, rs.prevotes
	if m.Type == MsgPrecommit {
		msgs, tally = rs.precommitMsgs, rs.precommits
	}
	if old, ok := msgs[m.From]; ok {
		if !conflicts(old, m) {
			n.stats.Duplicates++
			return false
		}
		n.addEvidence(old, m)
		if m.Type != MsgPrevote {
			return false
		}
		alts := rs.altPrevotes[m.From]
		for _, a := range alts {
			if a.BlockHash == m.BlockHash {
				return false
			}
		}
		if len(alts) >= maxAltVotes {
			return false
		}
		rs.altPrevotes[m.From] = append(alts, m)
		return true
	}
	msgs[m.From] = m
	tally.Add(string(m.From), m.BlockHash)
	rs.senders[m.From] = struct{}{}
	return true
}

func (n *Node) addEvidence(a, b *Message) {
	k := evidenceKey{a.From, a.Height, a.Round, a.Type}
	if _, seen := n.seenEvidence[k]; seen {
		return
	}
	n.seenEvidence[k] = struct{}{}
	n.stats.Equivocations++
	n.out.Evidence = append(n.out.Evidence, newEvidence(a, b))
}

func (n *Node) String() string {
	return fmt.Sprintf("%s h=%d r=%d %s", n.cfg.ID, n.height, n.round, n.step)
}

// sortedVotes returns the precommits for h in round rs as certificate votes,
// ordered by voter so that every node builds the same certificate bytes.
func sortedVotes(rs *roundState, h Hash) []CommitVote {
	var votes []CommitVote
	for from, m := range rs.precommitMsgs {
		if m.BlockHash == h {
			votes = append(votes, CommitVote{From: from, Signature: m.Signature})
		}
	}
	sort.Slice(votes, func(i, j int) bool { return votes[i].From < votes[j].From })
	return votes
}
