package consensus

import (
	"fmt"
	"strings"
	"testing"
)

type testApp struct{}

func (testApp) Validate(uint64, []Entry) error                             { return nil }
func (testApp) Apply(_ uint64, _ []Entry, cur *ValidatorSet) *ValidatorSet { return cur }

func TestNode_FourValidatorsDecideTenHeightsInOrder(t *testing.T) {
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

// ejectApp removes the validator named in an "eject/<name>" entry from the
// next height on.
type ejectApp struct{}

func (ejectApp) Validate(uint64, []Entry) error { return nil }
func (ejectApp) Apply(_ uint64, entries []Entry, cur *ValidatorSet) *ValidatorSet {
	for _, e := range entries {
		if name, ok := strings.CutPrefix(string(e), "eject/"); ok {
			if next, err := cur.Without(NodeID(name)); err == nil {
				cur = next
			}
		}
	}
	return cur
}

// A decided entry changes the validator set from the next height: the ejected
// node's votes stop counting, and quorums shrink with the set.
func TestNode_ValidatorSetChangesFromTheNextHeight(t *testing.T) {
	kr := newKeyring(t, 5) // quorum 4
	nodes := map[NodeID]*Node{}
	for _, id := range kr.vals.IDs() {
		nodes[id] = newTestNode(t, kr, id, ejectApp{})
	}
	deliver := func(except NodeID) {
		for moved := true; moved; {
			moved = false
			for id, n := range nodes {
				if !n.HasReady() {
					continue
				}
				moved = true
				rd := n.Ready()
				n.Advance()
				for _, m := range rd.Messages {
					for to, p := range nodes {
						if to != id && to != except && id != except && (m.To == "" || m.To == to) {
							mm := m
							_ = p.Step(&mm)
						}
					}
				}
			}
		}
	}
	for _, n := range nodes {
		n.Propose(Entry("eject/n5"))
	}
	deliver("")
	for id, n := range nodes {
		if n.Height() != 2 || n.Validators().Len() != 4 || n.Validators().Has("n5") {
			t.Fatalf("%s: height %d, validators %v", id, n.Height(), n.Validators().IDs())
		}
	}
	// With n5 gone, four validators need a quorum of 3: n1..n3 decide even
	// when n4 is cut off, and n5's votes would not count anyway.
	for _, n := range nodes {
		n.Propose(Entry("after"))
	}
	deliver("n4")
	for _, id := range []NodeID{"n1", "n2", "n3"} {
		if nodes[id].Height() != 3 {
			t.Fatalf("%s stuck at height %d after the set shrank", id, nodes[id].Height())
		}
	}
	if nodes["n5"].HasReady() {
		rd := nodes["n5"].Ready()
		for _, m := range rd.Messages {
			if m.IsVote() || m.Type == MsgProposal {
				t.Fatalf("ejected node still signs: %s", &m)
			}
		}
	}
}
