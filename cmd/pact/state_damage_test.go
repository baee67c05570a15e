package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/consensus"
)

// `pact agent` on a damaged state file exits at once with a failure,
// naming the file and what to do (systemd's journal shows it), and leaves
// the file as it was: it never starts signing with a guard it cannot trust.
func TestProcesses_AgentRefusesDamagedStateFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a pact agent process (agent.TestNew_DamagedStateFileRefused covers New)")
	}
	dir := t.TempDir()
	if _, errOut, code := pactRun(t, "testnet", "--nodes", "1", "--out", dir, "--bind", "127.0.72.1", "--base-port", "32946"); code != 0 {
		t.Fatalf("testnet: %s", errOut)
	}
	cfg := filepath.Join(dir, "node-1", "pact.yaml")
	acfg, err := config.LoadAgent(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := config.LoadCluster(acfg.ClusterFile)
	if err != nil {
		t.Fatal(err)
	}
	// A state file this node wrote, then lost half of.
	db := filepath.Join(acfg.DataDir, "pact.db")
	s, err := store.Open(db, cluster.Name, consensus.NodeID(acfg.Node), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveGuard(consensus.SignState{Height: 3, Step: consensus.StepPrevote, POLRound: -1, LockedRound: -1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	damaged := b[:len(b)/2]
	if err := os.WriteFile(db, damaged, 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := pactCmd("agent", "--config", cfg)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("pact agent kept running on a damaged state file:\n%s%s", out.String(), errb.String())
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitFailure {
		t.Fatalf("pact agent: %v, want exit %d\n%s%s", err, exitFailure, out.String(), errb.String())
	}
	for _, want := range []string{db, "corrupt", "will not sign", "pact retire node-1", "pact admit node-1"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, errb.String())
		}
	}
	if after, _ := os.ReadFile(db); !bytes.Equal(after, damaged) {
		t.Error("pact agent changed the damaged state file")
	}
}
