package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

// The marker appears with the first durable guard, not before; once it is
// there, a deleted state file is refused instead of recreated empty.
func TestSignedMarker(t *testing.T) {
	dir := t.TempDir()
	path, marker := filepath.Join(dir, "state.db"), filepath.Join(dir, "signed")
	opts := &Options{SignedMarker: marker}

	s, err := Open(path, testCluster, testNode, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveReady(nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("marker before any guard: %v", err)
	}
	// A node that never signed may start over.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, testCluster, testNode, opts); err != nil {
		t.Fatalf("a fresh start of a node that never signed: %v", err)
	}

	g := consensus.SignState{Height: 3, Round: 0, Step: consensus.StepPrevote, LockedRound: -1}
	if err := s.SaveReady(&g, nil, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(marker); err != nil || !strings.Contains(string(b), "never delete pact.db") {
		t.Fatalf("marker after the first guard: %q, %v", b, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, testCluster, testNode, opts)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), marker) || !strings.Contains(err.Error(), "signed before") {
		t.Fatalf("Open after the state file was deleted: %v, want ErrCorrupt naming the marker", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the refused Open created a state file")
	}
}
