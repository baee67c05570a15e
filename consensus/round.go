package consensus

import "sort"

// The rules below are Algorithm 1 of Buchman, Kwon and Milosevic, "The latest
// gossip on BFT consensus" (2018); comments give its line numbers. Each rule
// is an "upon" clause: evaluate re-checks them after every change of state
// until none fires.

// evaluate applies every rule that the arrival of a message for round r, or a
// change of step, may have enabled.
func (n *Node) evaluate(r int32) {
	h := n.height
	for n.height == h {
		if n.tryDecide(r) || n.height != h || (r != n.round && n.tryDecide(n.round)) || n.height != h {
			return
		}
		// Line 55: f+1 validators are in a later round — join them.
		if r > n.round {
			if rs := n.rounds[r]; rs != nil && len(rs.senders) >= n.vals.Faulty()+1 {
				n.startRound(r)
				return
			}
		}
		if !n.currentRoundRules() {
			return
		}
	}
}

// currentRoundRules fires at most one rule of the current round and reports
// whether one fired.
func (n *Node) currentRoundRules() bool {
	r := n.round
	rs := n.roundState(r)
	prop := rs.proposal
	var vh Hash
	var v *Block
	if prop != nil {
		vh, v = prop.BlockHash, n.blocks[prop.BlockHash]
	}

	if n.step == StepPropose && prop != nil {
		switch {
		case prop.POLRound == -1:
			// Line 22: a fresh proposal. Prevote for it unless locked on
			// something else.
			if n.valid(v, vh) && (n.lockedRound == -1 || n.lockedHash == vh) {
				n.prevote(vh)
			} else {
				n.prevote(Hash{})
			}
			return true
		case prop.POLRound < r:
			// Line 28: a re-proposal backed by a polka in round vr. Prevote
			// for it if the lock is no newer than vr, or is on it.
			vr := prop.POLRound
			if pr := n.rounds[vr]; pr != nil && n.polka(pr, vh) {
				if n.valid(v, vh) && (n.lockedRound <= vr || n.lockedHash == vh) {
					n.prevote(vh)
				} else {
					n.prevote(Hash{})
				}
				return true
			}
		}
	}

	// Line 34: 2f+1 prevotes of any kind — start the prevote timeout.
	if n.step == StepPrevote && !rs.prevoteScheduled && rs.prevotes.HasQuorumAny() {
		rs.prevoteScheduled = true
		n.schedule(timeoutPrevote, r)
	}

	// Line 36: a polka for the proposal. Lock on it and precommit (if still
	// at prevote), and remember it as the valid value either way.
	if n.step >= StepPrevote && prop != nil && !rs.polkaSeen && !vh.IsZero() && n.polka(rs, vh) && n.valid(v, vh) {
		rs.polkaSeen = true
		n.validBlock, n.validRound = v, r
		if n.step == StepPrevote {
			n.lockedHash, n.lockedRound = vh, r
			n.precommit(vh)
		}
		return true
	}

	// Line 44: a polka for nil — precommit nil.
	if n.step == StepPrevote && n.polka(rs, Hash{}) {
		n.precommit(Hash{})
		return true
	}

	// Line 47: 2f+1 precommits of any kind — start the precommit timeout.
	if !rs.precommitScheduled && rs.precommits.HasQuorumAny() {
		rs.precommitScheduled = true
		n.schedule(timeoutPrecommit, r)
	}
	return false
}

// polka reports whether 2f+1 validators signed a prevote for h in round rs:
// the first prevote of each voter, plus the other prevotes of voters that
// equivocated. Counting an equivocator's conflicting vote is safe — two
// polkas for different values would still need an honest validator in both —
// and it is needed for liveness: a node that happened to count an
// equivocator's nil prevote must still recognise the polka an honest proposer
// shows it (see sendPOL), or a lock taken on that polka elsewhere could never
// be released.
func (n *Node) polka(rs *roundState, h Hash) bool {
	c := rs.prevotes.Count(h)
	for _, alts := range rs.altPrevotes {
		for _, m := range alts {
			if m.BlockHash == h {
				c++
				break
			}
		}
	}
	return c >= n.vals.Quorum()
}

// valid asks the application about block b, whose hash the caller already
// knows as h. A block found valid is not asked about again in this height;
// one found invalid is asked again when it turns up again, because an
// application may judge by what it has seen so far (a deadline that has
// now passed, an outcome not yet heard of), and a verdict kept for the
// whole height would stall it if the block is proposed again.
func (n *Node) valid(b *Block, h Hash) bool {
	if b == nil {
		return false
	}
	if _, ok := n.validity[h]; ok {
		return true
	}
	if err := n.checkBlock(b); err != nil {
		n.stats.InvalidBlocks++
		return false
	}
	n.validity[h] = struct{}{}
	return true
}

func (n *Node) checkBlock(b *Block) error {
	if b.Height != n.height {
		return ErrInvalidBlock
	}
	if len(b.Entries) == 0 || len(b.Entries) > n.cfg.MaxBlockEntries {
		return ErrInvalidBlock
	}
	size := 0
	for _, e := range b.Entries {
		size += len(e)
	}
	if size > n.cfg.MaxBlockBytes {
		return ErrInvalidBlock
	}
	return n.cfg.App.Validate(b.Height, b.Entries)
}

// tryDecide is line 49: a proposal and 2f+1 precommits for it in round r
// decide the height, whatever round the node is in.
func (n *Node) tryDecide(r int32) bool {
	rs := n.rounds[r]
	if rs == nil {
		return false
	}
	vh, ok := rs.precommits.Leader()
	if !ok || vh.IsZero() {
		return false
	}
	b := n.blocks[vh]
	if b == nil {
		// The certificate is there but the block is not: wait for the
		// proposer's re-send, or for a commit from a peer.
		return false
	}
	if !n.valid(b, vh) {
		// 2f+1 precommits mean at least f+1 honest validators judged it
		// valid: this node's application disagrees with the cluster. The
		// certificate decides; the counter tells the operator.
		n.stats.InvalidBlocks++
	}
	n.stats.Decided++
	n.finishHeight(&Commit{Block: *b, Round: r, Votes: sortedVotes(rs, vh)})
	return true
}

// finishHeight applies a decided block and moves to the next height.
func (n *Node) finishHeight(c *Commit) {
	h := c.Block.Height
	n.out.Decided = append(n.out.Decided, *c)
	n.recent[h] = c
	if h > uint64(n.cfg.KeepCommits) {
		delete(n.recent, h-uint64(n.cfg.KeepCommits))
	}
	done := make(map[string]struct{}, len(c.Block.Entries))
	for _, e := range c.Block.Entries {
		done[string(e)] = struct{}{}
	}
	n.removePending(done)

	if next := n.cfg.App.Apply(h, c.Block.Entries, n.vals); next != nil {
		n.vals = next
	}
	n.height = h + 1
	n.decidedAt = n.now
	delete(n.futureCommits, h)
	held := n.future
	n.future = make(map[NodeID][]*Message)
	n.resetHeight()
	n.startRound(0)

	// Replay what arrived early for the new height, senders in name order:
	// map order would make the node's output, and so every simulated run,
	// differ from one execution to the next.
	senders := make([]NodeID, 0, len(held))
	for id := range held {
		senders = append(senders, id)
	}
	sort.Slice(senders, func(i, j int) bool { return senders[i] < senders[j] })
	for _, id := range senders {
		for _, m := range held[id] {
			if m.Height == n.height {
				_ = n.Step(m)
				n.stats.Received--
			}
		}
	}
	if c, ok := n.futureCommits[n.height]; ok {
		_ = n.applyCommit(c)
	}
}
