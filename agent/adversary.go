package agent

import (
	"crypto/sha256"
	"fmt"
	"sort"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/consensus"
)

// Adversary modes (DESIGN.md §4): for tests and demos, a node that
// misbehaves on purpose runs the honest code and corrupts what leaves it.
// Only equivocate is implemented in the agent so far; the others are
// refused at start rather than silently ignored.

// adversary corrupts this node's outgoing consensus messages.
type adversary struct {
	mode     config.AdversaryMode
	cluster  string
	self     consensus.NodeID
	signer   consensus.Signer
	variants map[stepKey]consensus.Message // one conflicting twin per step
	sent     uint64
}

type stepKey struct {
	height uint64
	round  int32
	t      consensus.MsgType
}

func newAdversary(acfg *config.Agent, cluster string, signer consensus.Signer) (*adversary, error) {
	if acfg.Adversary == nil || acfg.Adversary.Mode == "" {
		return nil, nil
	}
	switch acfg.Adversary.Mode {
	case "equivocate", "mixed":
	default:
		return nil, fmt.Errorf("adversary mode %q is not implemented by the agent yet (equivocate and mixed are)", acfg.Adversary.Mode)
	}
	return &adversary{mode: acfg.Adversary.Mode, cluster: cluster, self: consensus.NodeID(acfg.Node), signer: signer, variants: map[stepKey]consensus.Message{}}, nil
}

// send sends m; an equivocating node sends each of its own votes to every
// peer and a conflicting, validly signed twin to half of them, so those
// peers hold two signatures of one step: evidence. ("mixed" equivocates
// until the agent implements the other modes.)
func (a *Agent) send(m consensus.Message) {
	adv := a.adversary
	if adv == nil || m.From != adv.self || !m.IsVote() || m.To != "" {
		a.net.Send(m)
		return
	}
	a.net.Send(m)
	twin := adv.twin(m)
	peers := a.peerNames()
	for i, p := range peers {
		if i%2 == int(m.Height%2) {
			twin.To = consensus.NodeID(p)
			a.net.Send(twin)
		}
	}
	adv.sent++
}

func (a *Agent) peerNames() []string {
	var peers []string
	if a.members != nil {
		for _, m := range a.members.Members() {
			if m.Name != a.name {
				peers = append(peers, m.Name)
			}
		}
	} else if a.memLink != nil {
		peers = a.memLink.Peers()
	}
	sort.Strings(peers)
	return peers
}

// twin is m's conflicting version: a nil vote for a block vote, a vote for
// a made-up block for a nil vote.
func (adv *adversary) twin(m consensus.Message) consensus.Message {
	k := stepKey{m.Height, m.Round, m.Type}
	if v, ok := adv.variants[k]; ok {
		return v
	}
	for old := range adv.variants {
		if old.height+2 <= m.Height {
			delete(adv.variants, old)
		}
	}
	c := m
	switch {
	case !m.BlockHash.IsZero():
		c.BlockHash = consensus.Hash{}
	default:
		c.BlockHash = sha256.Sum256(fmt.Appendf(nil, "equivocate/%s/%d/%d", adv.self, m.Height, m.Round))
	}
	c.Signature = adv.signer.Sign(consensus.SignBytes(adv.cluster, &c))
	adv.variants[k] = c
	return c
}
