package agent

import (
	"crypto/sha256"
	"fmt"

	"github.com/seed44533760/pact/consensus"
)

// equivocator makes one conflicting twin of each vote this node signs
// (equivocate mode). Loop goroutine only.
type equivocator struct {
	variants map[stepKey]consensus.Message // one twin per step
}

type stepKey struct {
	height uint64
	round  int32
	t      consensus.MsgType
}

// twin is m's conflicting version, validly signed: a nil vote for a block
// vote, a vote for a made-up block for a nil vote. One step always gets
// the same twin, so a peer holds exactly one pair per step.
func (e *equivocator) twin(adv *adversary, m consensus.Message) consensus.Message {
	k := stepKey{m.Height, m.Round, m.Type}
	if v, ok := e.variants[k]; ok {
		return v
	}
	for old := range e.variants {
		if old.height+2 <= m.Height {
			delete(e.variants, old)
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
	e.variants[k] = c
	return c
}
