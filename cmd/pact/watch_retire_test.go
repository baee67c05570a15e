package main

import (
	"testing"

	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/agent/wire"
)

// A verified retirement takes a node out of the validators pact watch
// expects, keeps its key for what it signed before, and an admission of the
// same name with a new key replaces the key.
func TestWatchTrust_RetireAndAdmitAgain(t *testing.T) {
	w, _ := testWatcher(watchFile(), nil)
	cv := w.view(watchCluster, "")
	if n := w.validators(cv, watchCluster); n != 4 {
		t.Fatalf("validators %d, want 4", n)
	}
	retire := wire.DecisionEntry{Type: wire.EntryRetire, Node: "node-4", Key: identity.Public(watchKey("node-4")), Operator: "alice", Reason: "SD card died"}
	w.trust.learn(watchCluster, []wire.DecisionEntry{retire})
	if n := w.validators(cv, watchCluster); n != 3 {
		t.Fatalf("validators after retiring node-4: %d, want 3", n)
	}
	if w.trust.keys["node-4"] == nil {
		t.Fatal("the retired node's key was forgotten")
	}
	if got := entryLines([]wire.DecisionEntry{retire}); got[0] != "retire node-4 (key "+retire.Key+", operator alice): SD card died" {
		t.Errorf("entry line %q", got[0])
	}
	fresh := identity.Public(watchKey("node-4 on a new SD card"))
	w.trust.learn(watchCluster, []wire.DecisionEntry{{Type: wire.EntryAdmit, Node: "node-4", Key: fresh, Operator: "alice"}})
	if n := w.validators(cv, watchCluster); n != 4 || identity.PublicKeyString(w.trust.keys["node-4"]) != fresh {
		t.Fatalf("after the admission: %d validators, node-4's key %v", n, w.trust.keys["node-4"])
	}
}
