package sim

import (
	"fmt"

	"github.com/seed44533760/pact/consensus"
)

// accuseKey is what a node accuses once per half window: one node, for one
// reason.
type accuseKey struct {
	accused consensus.NodeID
	reason  string
}

// accuse makes p's signed accusation of accused, proposes it and spreads
// it like an eject entry, so that the next honest proposer includes it. A
// node accuses a node for a reason again only every half accuseWindow
// heights: often enough that its accusation is still counted when the
// others' arrive, rarely enough not to fill the blocks. Only a validator
// accuses, and only a validator is accused. why is for narration.
func (s *simulation) accuse(p *process, accused consensus.NodeID, reason, why string) {
	if p.node == nil || accused == p.id || !p.app.vals.Has(p.id) || !p.app.vals.Has(accused) {
		return
	}
	h := p.node.Height()
	k := accuseKey{accused, reason}
	if last, ok := p.accusedAt[k]; ok && h < last+accuseWindow/2 {
		return
	}
	p.accusedAt[k] = h
	s.reports.Accusations++
	if first := [2]consensus.NodeID{p.id, accused}; !s.accusationSeen[first] {
		s.accusationSeen[first] = true
		text := fmt.Sprintf("%s accuses %s: %s", p.id, accused, reason)
		if why != "" {
			text += " (" + why + ")"
		}
		s.emit("accusation", string(accused), h, text)
	}
	e := accuseEntry(s.cluster, p.signer, accusation{accuser: p.id, accused: accused, reason: reason, height: h})
	p.node.Propose(e)
	s.gossipEntry(p, e)
	s.drain(p)
}
