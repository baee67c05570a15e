package consensus_test

import (
	"crypto/ed25519"
	"fmt"

	"github.com/seed44533760/pact/consensus"
)

// acceptAll is the smallest Application: every block is valid and no block
// changes the validator set.
type acceptAll struct{}

func (acceptAll) Validate(uint64, []consensus.Entry) error { return nil }
func (acceptAll) Apply(_ uint64, _ []consensus.Entry, cur *consensus.ValidatorSet) *consensus.ValidatorSet {
	return cur
}

// Four validators decide one block. The loop is what the agent does with real
// sockets: persist the guard, apply decisions, send messages, Advance.
func Example() {
	names := []consensus.NodeID{"node-1", "node-2", "node-3", "node-4"}
	signers := map[consensus.NodeID]consensus.Signer{}
	var vals []consensus.Validator
	for i, id := range names {
		key := ed25519.NewKeyFromSeed(append(make([]byte, 31), byte(i)))
		s := consensus.Ed25519Signer{Key: key}
		signers[id] = s
		vals = append(vals, consensus.Validator{ID: id, PubKey: s.PublicKey()})
	}
	set, _ := consensus.NewValidatorSet(vals)

	nodes := map[consensus.NodeID]*consensus.Node{}
	for _, id := range names {
		cfg := consensus.DefaultConfig()
		cfg.Cluster, cfg.ID, cfg.Validators = "greenhouse", id, set
		cfg.Signer, cfg.Verifier, cfg.App = signers[id], consensus.Ed25519Verifier{}, acceptAll{}
		n, err := consensus.NewNode(cfg)
		if err != nil {
			panic(err)
		}
		nodes[id] = n
		n.Propose(consensus.Entry("assign blink to node-3"))
	}

	for moved := true; moved; {
		moved = false
		for _, from := range names {
			n := nodes[from]
			if !n.HasReady() {
				continue
			}
			moved = true
			rd := n.Ready()
			// (persist rd.SignState here, with fsync, before sending)
			for _, c := range rd.Decided {
				fmt.Printf("%s decided height %d: %s\n", from, c.Block.Height, c.Block.Entries[0])
			}
			for _, m := range rd.Messages {
				wire := m.Marshal()
				for _, to := range names {
					if to != from && (m.To == "" || m.To == to) {
						msg, _ := consensus.Unmarshal(wire)
						_ = nodes[to].Step(msg)
					}
				}
			}
			n.Advance()
		}
	}
	// Unordered output:
	// node-1 decided height 1: assign blink to node-3
	// node-2 decided height 1: assign blink to node-3
	// node-3 decided height 1: assign blink to node-3
	// node-4 decided height 1: assign blink to node-3
}
