package consensus

import (
	"fmt"
	"testing"
)

type testApp struct{}

func (testApp) Validate(uint64, []Entry) error                             { return nil }
func (testApp) Apply(_ uint64, _ []Entry, cur *ValidatorSet) *ValidatorSet { return cur }

func TestSmoke_FourNodesDecide(t *testing.T) {
	var vals []Validator
	for i := 0; i < 4; i++ {
		id := NodeID(fmt.Sprintf("n%d", i))
		vals = append(vals, Validator{ID: id, PubKey: PublicKey(id)})
	}
	vs, err := NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[NodeID]*Node{}
	for _, v := range vals {
		cfg := DefaultConfig()
		cfg.Cluster, cfg.ID, cfg.Signer, cfg.Verifier, cfg.App, cfg.Validators = "c", v.ID, FakeSigner{Key: v.PubKey}, FakeVerifier{}, testApp{}, vs
		n, err := NewNode(cfg)
		if err != nil {
			t.Fatal(err)
		}
		nodes[v.ID] = n
	}
	decided := map[NodeID]int{}
	for k := 0; k < 10; k++ {
		for _, n := range nodes {
			n.Propose(Entry(fmt.Sprintf("e%d", k)))
		}
		for iter := 0; iter < 100; iter++ {
			moved := false
			for id, n := range nodes {
				if !n.HasReady() {
					continue
				}
				moved = true
				rd := n.Ready()
				n.Advance()
				decided[id] += len(rd.Decided)
				for _, m := range rd.Messages {
					for to, p := range nodes {
						if to != id && (m.To == "" || m.To == to) {
							mm := m
							_ = p.Step(&mm)
						}
					}
				}
			}
			if !moved {
				break
			}
		}
	}
	for id, n := range nodes {
		if decided[id] != 10 || n.Height() != 11 {
			t.Errorf("%s decided %d heights, at height %d; stats %+v", id, decided[id], n.Height(), n.Stats())
		}
	}
}
