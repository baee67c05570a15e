package consensus

import "fmt"

// VerifyCommit checks that c proves a decision: precommits for c.Block, at its
// height and c.Round, validly signed by a quorum of vals. Votes from outside
// the set, repeated voters and bad signatures do not count; verification stops
// as soon as a quorum is proven.
func VerifyCommit(cluster string, c *Commit, vals *ValidatorSet, v Verifier) error {
	if c == nil {
		return fmt.Errorf("%w: no commit", ErrBadCertificate)
	}
	if c.Round < 0 {
		return fmt.Errorf("%w: round %d", ErrBadCertificate, c.Round)
	}
	sb := voteSignBytes(cluster, MsgPrecommit, c.Block.Height, c.Round, 0, c.Block.Hash())
	need := vals.Quorum()
	counted := make(map[NodeID]struct{}, need)
	for _, vote := range c.Votes {
		val, ok := vals.Get(vote.From)
		if !ok {
			continue
		}
		if _, dup := counted[vote.From]; dup {
			continue
		}
		if !v.Verify(val.PubKey, sb, vote.Signature) {
			continue
		}
		counted[vote.From] = struct{}{}
		if len(counted) >= need {
			return nil
		}
	}
	return fmt.Errorf("%w: %d valid precommits of the %d needed at h=%d", ErrBadCertificate, len(counted), need, c.Block.Height)
}

// stepCommit takes a decided block from a peer. The certificate is the proof;
// the sender is not trusted and need not sign the wrapper.
func (n *Node) stepCommit(m *Message) error {
	c := m.Commit
	if c == nil {
		n.stats.Malformed++
		return fmt.Errorf("%w: commit message without a commit", ErrMalformed)
	}
	h := c.Block.Height
	switch {
	case h < n.height:
		n.stats.Stale++
		return nil
	case h > n.height:
		if h-n.height <= uint64(2*n.cfg.CatchUpBatch) && len(n.futureCommits) < 2*n.cfg.CatchUpBatch {
			if _, ok := n.futureCommits[h]; !ok {
				n.futureCommits[h] = c
			}
		} else {
			n.stats.FutureDropped++
		}
		return nil
	}
	return n.applyCommit(c)
}

// applyCommit decides the current height from a verified certificate;
// finishHeight then goes on with any buffered commit for the next height.
func (n *Node) applyCommit(c *Commit) error {
	if err := VerifyCommit(n.cfg.Cluster, c, n.vals, n.cfg.Verifier); err != nil {
		n.stats.BadCertificates++
		delete(n.futureCommits, c.Block.Height)
		return err
	}
	n.stats.CatchUpApplied++
	n.finishHeight(c)
	return nil
}

// serveCommits sends a peer at height from the commits it lacks, up to one
// batch.
func (n *Node) serveCommits(to NodeID, from uint64) {
	if from == 0 {
		from = 1
	}
	for h := from; h < n.height && h < from+uint64(n.cfg.CatchUpBatch); h++ {
		c, ok := n.recent[h]
		if !ok && n.cfg.Log != nil {
			c, ok = n.cfg.Log.Commit(h)
		}
		if !ok {
			return
		}
		n.stats.CatchUpServed++
		n.send(Message{Type: MsgCommit, From: n.cfg.ID, To: to, Height: h, Round: c.Round, Commit: c})
	}
}
