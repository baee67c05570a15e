package consensus

import (
	"errors"
	"strings"
	"testing"
)

func TestConfig_ValidateReportsEveryProblem(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Height = 0
	cfg.TimeoutPropose = 0
	cfg.CatchUpBatch = -1
	err := cfg.Validate()
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("err = %v", err)
	}
	for _, field := range []string{"Cluster", "ID", "Signer", "Verifier", "App", "Height", "Validators", "TimeoutPropose", "CatchUpBatch"} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("error does not name %s:\n%v", field, err)
		}
	}
}

// A node whose ID the set holds under another key (a replacement with a
// new key) runs, follows, and never signs a vote or a proposal.
func TestNode_SignerWithAnotherKeyDoesNotVote(t *testing.T) {
	kr := newKeyring(t, 4)
	proposer := kr.vals.Proposer(1, 0)
	other := NodeID("n1")
	if proposer == other {
		other = "n2"
	}
	for _, tc := range []struct {
		signer NodeID
		votes  bool
	}{{proposer, true}, {other, false}} {
		cfg := DefaultConfig()
		cfg.Cluster, cfg.ID, cfg.Validators, cfg.App, cfg.Verifier = "c", proposer, kr.vals, testApp{}, Ed25519Verifier{}
		cfg.Signer = kr.signers[tc.signer]
		n, err := NewNode(cfg)
		if err != nil {
			t.Fatal(err)
		}
		n.Propose(Entry("x"))
		signed := 0
		for range 10 * cfg.TimeoutPropose {
			n.Tick()
			if n.HasReady() {
				for _, m := range n.Ready().Messages {
					if m.Type == MsgProposal || m.Type == MsgPrevote || m.Type == MsgPrecommit {
						signed++
					}
				}
				n.Advance()
			}
		}
		if (signed > 0) != tc.votes {
			t.Errorf("signer %s: %d signed messages, want votes=%v", tc.signer, signed, tc.votes)
		}
	}
}

func TestNewValidatorSet_Refuses(t *testing.T) {
	for name, vals := range map[string][]Validator{
		"empty":     nil,
		"no name":   {{ID: "", PubKey: PublicKey("k")}},
		"no key":    {{ID: "a"}},
		"duplicate": {{ID: "a", PubKey: PublicKey("k")}, {ID: "a", PubKey: PublicKey("j")}},
	} {
		if _, err := NewValidatorSet(vals); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestValidatorSet_ProposerRotates(t *testing.T) {
	kr := newKeyring(t, 4)
	seen := map[NodeID]int{}
	for h := uint64(1); h <= 8; h++ {
		seen[kr.vals.Proposer(h, 0)]++
	}
	for _, id := range kr.vals.IDs() {
		if seen[id] != 2 {
			t.Fatalf("proposer counts over 8 heights: %v", seen)
		}
	}
	if kr.vals.Proposer(1, 1) == kr.vals.Proposer(1, 0) {
		t.Fatal("a new round keeps the same proposer")
	}
}
