package consensus

import "fmt"

// maxFuturePerSender bounds how many next-height messages are kept per peer.
const maxFuturePerSender = 16

// Step hands the node one message received from the network. It returns an
// error describing why a message was refused (bad signature, unknown sender,
// malformed, stale...); the caller counts it and carries on — a refused
// message never changes the node's state. Messages from the node itself are
// ignored.
func (n *Node) Step(m *Message) error {
	n.stats.Received++
	if m == nil || !m.Type.Valid() {
		n.stats.Malformed++
		return fmt.Errorf("%w: no message or unknown type", ErrMalformed)
	}
	if m.From == n.cfg.ID {
		return nil
	}
	switch m.Type {
	case MsgCommit:
		return n.stepCommit(m)
	case MsgStatus:
		return n.stepStatus(m)
	}
	if m.Round < 0 || (m.Type == MsgProposal && (m.POLRound < -1 || m.POLRound >= m.Round)) {
		n.stats.Malformed++
		return fmt.Errorf("%w: round %d, pol round %d", ErrMalformed, m.Round, m.POLRound)
	}
	switch {
	case m.Height < n.height:
		return n.stepStale(m)
	case m.Height > n.height:
		return n.stepFuture(m)
	}
	return n.stepCurrent(m)
}

// stepCurrent handles a proposal or vote for the height being decided.
func (n *Node) stepCurrent(m *Message) error {
	val, ok := n.vals.Get(m.From)
	if !ok {
		n.stats.UnknownSenders++
		return fmt.Errorf("%w: %q", ErrUnknownValidator, m.From)
	}
	if m.Round > n.round+int32(n.cfg.MaxRoundsAhead) {
		n.stats.FutureDropped++
		return fmt.Errorf("%w: round %d is more than %d rounds ahead of %d", ErrMalformed, m.Round, n.cfg.MaxRoundsAhead, n.round)
	}
	rs := n.roundState(m.Round)

	if m.Type == MsgProposal {
		if m.From != n.vals.Proposer(m.Height, m.Round) {
			n.stats.NotProposer++
			return fmt.Errorf("%w: %s at h=%d r=%d", ErrNotProposer, m.From, m.Height, m.Round)
		}
		if m.Block == nil || m.Block.Height != m.Height || m.Block.Hash() != m.BlockHash {
			n.stats.Malformed++
			return fmt.Errorf("%w: proposal block missing or not matching its hash", ErrMalformed)
		}
		if p := rs.proposal; p != nil && string(p.Signature) == string(m.Signature) && p.BlockHash == m.BlockHash && p.POLRound == m.POLRound {
			n.stats.Duplicates++
			return nil
		}
	} else {
		if m.Block != nil || m.Commit != nil {
			n.stats.Malformed++
			return fmt.Errorf("%w: vote carries a block", ErrMalformed)
		}
		msgs := rs.prevoteMsgs
		if m.Type == MsgPrecommit {
			msgs = rs.precommitMsgs
		}
		if old, ok := msgs[m.From]; ok && old.BlockHash == m.BlockHash && string(old.Signature) == string(m.Signature) {
			n.stats.Duplicates++
			return nil
		}
	}

	if !n.cfg.Verifier.Verify(val.PubKey, SignBytes(n.cfg.Cluster, m), m.Signature) {
		n.stats.BadSignatures++
		return fmt.Errorf("%w: %s", ErrBadSignature, m)
	}
	m = cloneForKeeping(m)

	if m.Type == MsgProposal {
		if p := rs.proposal; p != nil {
			if conflicts(p, m) {
				n.addEvidence(p, m)
			} else {
				n.stats.Duplicates++
			}
			return nil
		}
		rs.proposal = m
		rs.senders[m.From] = struct{}{}
		n.blocks[m.BlockHash] = m.Block
	} else if !n.record(rs, m) {
		return nil
	}
	n.activate()
	n.evaluate(m.Round)
	return nil
}

// cloneForKeeping copies what the node retains of a message so a caller that
// reuses its buffers cannot change recorded votes.
func cloneForKeeping(m *Message) *Message {
	c := *m
	c.To = ""
	c.Signature = append([]byte(nil), m.Signature...)
	return &c
}

// stepStale handles a message for a height this node has decided: the sender
// is behind, so it gets the commits it lacks (rate-limited per peer).
func (n *Node) stepStale(m *Message) error {
	n.stats.Stale++
	if m.Height+1 == n.height && n.now-n.decidedAt < uint64(n.cfg.RebroadcastTicks) {
		// Votes that arrive just after the decision are the normal tail of
		// a round, not a peer in trouble; a peer really stuck re-sends them
		// after RebroadcastTicks and is served then.
		return fmt.Errorf("%w: h=%d < %d", ErrStale, m.Height, n.height)
	}
	if !n.mayServe(n.lastCommitTo, m.From) {
		return fmt.Errorf("%w: h=%d < %d", ErrStale, m.Height, n.height)
	}
	val, ok := n.vals.Get(m.From)
	if !ok || !n.cfg.Verifier.Verify(val.PubKey, SignBytes(n.cfg.Cluster, m), m.Signature) {
		// Only authenticated validators get commits pushed at them from a
		// stale vote; others can ask with a Status.
		return fmt.Errorf("%w: h=%d < %d", ErrStale, m.Height, n.height)
	}
	n.lastCommitTo[m.From] = n.now
	n.serveCommits(m.From, m.Height)
	return fmt.Errorf("%w: h=%d < %d", ErrStale, m.Height, n.height)
}

// stepFuture keeps messages for the next height (a node a moment behind will
// need them) and asks the sender for the commits this node lacks.
func (n *Node) stepFuture(m *Message) error {
	if !n.vals.Has(m.From) {
		n.stats.UnknownSenders++
		return fmt.Errorf("%w: %q", ErrUnknownValidator, m.From)
	}
	if m.Height == n.height+1 && len(n.future[m.From]) < maxFuturePerSender {
		n.future[m.From] = append(n.future[m.From], cloneForKeeping(m))
		n.stats.FutureBuffered++
	} else {
		n.stats.FutureDropped++
	}
	if n.mayServe(n.lastStatusTo, m.From) {
		n.lastStatusTo[m.From] = n.now
		n.sendStatus(m.From)
	}
	return nil
}

// mayServe rate-limits replies to one peer to one per half rebroadcast
// interval.
func (n *Node) mayServe(last map[NodeID]uint64, peer NodeID) bool {
	t, ok := last[peer]
	gap := uint64(max(1, n.cfg.RebroadcastTicks/2))
	if len(last) > 4*n.vals.Len()+64 {
		clear(last) // bounded: unknown names cannot grow it forever
	}
	return !ok || n.now-t >= gap
}

func (n *Node) sendStatus(to NodeID) {
	m := Message{Type: MsgStatus, From: n.cfg.ID, To: to, Height: n.height}
	m.Signature = n.cfg.Signer.Sign(SignBytes(n.cfg.Cluster, &m))
	n.send(m)
}

// stepStatus answers a peer's height announcement: commits if it is behind,
// our own status if we are.
func (n *Node) stepStatus(m *Message) error {
	if val, ok := n.vals.Get(m.From); ok {
		if !n.cfg.Verifier.Verify(val.PubKey, SignBytes(n.cfg.Cluster, m), m.Signature) {
			n.stats.BadSignatures++
			return fmt.Errorf("%w: %s", ErrBadSignature, m)
		}
	}
	// Nodes outside the set (candidates awaiting admission, ejected nodes)
	// may still follow the chain: commits are public and self-proving.
	switch {
	case m.Height < n.height:
		if n.mayServe(n.lastCommitTo, m.From) {
			n.lastCommitTo[m.From] = n.now
			n.serveCommits(m.From, m.Height)
		}
	case m.Height > n.height && n.vals.Has(m.From):
		if n.mayServe(n.lastStatusTo, m.From) {
			n.lastStatusTo[m.From] = n.now
			n.sendStatus(m.From)
		}
	}
	return nil
}
