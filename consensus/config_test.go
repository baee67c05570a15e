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

func TestConfig_SignerMustMatchTheValidatorKey(t *testing.T) {
	kr := newKeyring(t, 4)
	cfg := DefaultConfig()
	cfg.Cluster, cfg.ID, cfg.Validators, cfg.App, cfg.Verifier = "c", "n1", kr.vals, testApp{}, Ed25519Verifier{}
	cfg.Signer = kr.signers["n2"]
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("err = %v", err)
	}
	cfg.Signer = kr.signers["n1"]
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
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
