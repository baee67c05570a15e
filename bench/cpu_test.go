package bench

import (
	"sync/atomic"

	"github.com/seed44533760/pact/consensus"
)

// cryptoCounts counts a pact cluster's signatures and verifications, by
// the transports' workers and by the cores together.
type cryptoCounts struct{ signs, verifies atomic.Uint64 }

type countingSigner struct {
	consensus.Signer
	n *atomic.Uint64
}

func (s countingSigner) Sign(msg []byte) []byte { s.n.Add(1); return s.Signer.Sign(msg) }

type countingVerifier struct {
	consensus.Verifier
	n *atomic.Uint64
}

func (v countingVerifier) Verify(pub consensus.PublicKey, msg, sig []byte) bool {
	v.n.Add(1)
	return v.Verifier.Verify(pub, msg, sig)
}
