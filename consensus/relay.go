package consensus

import "sort"

// Re-sending what peers may have lost. The algorithm (Buchman, Kwon,
// Milosevic 2018) assumes a gossip layer that eventually hands every honest
// node every message any honest node received; pact's transport sends point
// to point and best-effort, and a node's own rebroadcasts cannot bring back a
// vote that only its author could re-send. The three mechanisms here close
// that gap, each found as a permanent stall by the simulator (consensus/sim):
// sendPOL carries the proof a re-proposal needs, relay re-sends the current
// round as seen by this node, and resumeVote lets a restarted node re-send
// the vote its guard holds. Every relayed message carries its author's
// signature, so none of this needs trust.

// resumeVote restores, after a restart, the vote the node signed last: the
// guard permits exactly that vote again (the signature is the same), the
// node counts it, stands at its step, and re-sends it with its rebroadcasts.
// Without it a node restarted mid-round stays mute for the rest of the round
// (the guard refuses anything else there); when the honest nodes need its
// vote for 2f+1 votes of any kind, no timeout starts and the height stalls
// for good — the simulator found this with two crashes and two silent
// adversaries. A proposal cannot be restored (its block is not persisted);
// peers time out on it as on a lost one.
func (n *Node) resumeVote(g SignState) {
	t := MsgPrevote
	if g.Step == StepPrecommit {
		t = MsgPrecommit
	}
	m := &Message{Type: t, Height: g.Height, Round: g.Round, BlockHash: g.BlockHash}
	if !n.sign(m) {
		return
	}
	rs := n.roundState(g.Round)
	if t == MsgPrevote {
		rs.ownPrevote = m
	} else {
		rs.ownPrecommit = m
	}
	n.record(rs, m)
	n.step = g.Step
	n.send(*m)
	n.evaluate(g.Round)
}

// relay re-sends what this node holds of the current round from others —
// the proposal and every vote, equivocators' second votes included — and the
// precommits of the round before, at the 2nd, 4th, 8th... rebroadcast of a
// round (quick rounds never relay, so the happy path costs nothing; the
// backoff keeps an overloaded cluster from drowning in relays).
// Without it a vote that reached only some honest nodes can stall a round
// for good: an honest node restarted mid-round cannot re-sign the prevote it
// sent before its guard moved on (two crashes plus two silent adversaries
// stalled a 7-node cluster), a Byzantine validator can show its votes to some
// peers only, and nodes that moved to the next round stop re-sending the
// precommits that the ones left behind need to time out and follow. A
// relayed vote that conflicts with one the receiver holds becomes evidence.
func (n *Node) relay(rs *roundState) {
	if p := rs.proposal; p != nil && p != rs.ownProposal {
		n.send(*p)
	}
	for _, msgs := range []map[NodeID]*Message{rs.prevoteMsgs, rs.precommitMsgs} {
		for _, id := range sortedIDs(msgs) {
			if id != n.cfg.ID {
				n.send(*msgs[id])
			}
		}
	}
	for _, id := range sortedIDs(rs.altPrevotes) {
		for _, m := range rs.altPrevotes[id] {
			n.send(*m)
		}
	}
	// The previous round's precommits are why this node left it: nodes
	// still there need them to time out and follow, once the voters have
	// moved on and stopped re-sending them.
	if prev := n.rounds[n.round-1]; prev != nil {
		for _, id := range sortedIDs(prev.precommitMsgs) {
			n.send(*prev.precommitMsgs[id])
		}
	}
}

func sortedIDs[V any](m map[NodeID]V) []NodeID {
	ids := make([]NodeID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// sendPOL sends, ahead of a re-proposal, the 2f+1 prevotes for its block in
// round vr that this proposer saw: the proof a locked validator needs before
// it may prevote for the block (line 28). relay covers only the current
// round, so without this a Byzantine validator that showed its round-vr
// prevote to some peers only could keep locked honest nodes from ever seeing
// the polka (the simulator's twins found that stall).
func (n *Node) sendPOL(vr int32, h Hash) {
	rs := n.rounds[vr]
	if rs == nil {
		return
	}
	voters := make([]NodeID, 0, len(rs.prevoteMsgs))
	for id, m := range rs.prevoteMsgs {
		if m.BlockHash == h && id != n.cfg.ID {
			voters = append(voters, id)
		}
	}
	sort.Slice(voters, func(i, j int) bool { return voters[i] < voters[j] })
	for _, id := range voters {
		n.send(*rs.prevoteMsgs[id])
	}
	if own := rs.ownPrevote; own != nil && own.BlockHash == h {
		n.send(*own)
	}
}
