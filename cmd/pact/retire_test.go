package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/identity"
)

// A dead Pi is replaced: four validators, node-4 dies for good (its SD card
// and key with it), `pact retire` takes it out of the set, and the three
// left (f = 0) go on deciding; node-4 comes back on a new SD card with a
// new key under its old name, is seen as a candidate, and `pact admit` makes
// it a validator again.
func TestProcesses_RetireAndReplaceADeadNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five agent processes")
	}
	dir := t.TempDir()
	if _, errOut, code := pactRun(t, "testnet", "--nodes", "4", "--out", dir, "--bind", "127.0.37.1", "--base-port", "33946"); code != 0 {
		t.Fatalf("testnet: %s", errOut)
	}
	procs := map[string]*agentProc{}
	names := []string{"node-1", "node-2", "node-3", "node-4"}
	for _, name := range names {
		procs[name] = startProc(t, dir, name)
	}
	// agree waits until every named node holds validators and their
	// documents, at one height, and returns that height.
	agree := func(what string, validators []string, nodes ...string) uint64 {
		t.Helper()
		var height uint64
		waitFor(t, 60*time.Second, what, func() (bool, string) {
			for i, name := range nodes {
				s, ok := procs[name].status(t)
				if !ok {
					return false, name + " does not answer"
				}
				if !slices.Equal(s.Validators, validators) || len(s.Capabilities) != len(validators) {
					return false, fmt.Sprintf("%s at height %d: validators %v, %d documents, retired %v", name, s.Height, s.Validators, len(s.Capabilities), s.Retired)
				}
				if i == 0 {
					height = s.Height
				} else if s.Height != height {
					return false, fmt.Sprintf("%s at height %d, %s at %d", name, s.Height, nodes[0], height)
				}
			}
			return true, ""
		})
		return height
	}
	agree("four validators and their documents", names, names...)

	procs["node-4"].kill() // the Pi is dead
	out, errOut, code := pactRun(t, "retire", "--config", procs["node-1"].cfg, "--reason", "SD card died", "--wait", "30s", "node-4")
	if code != 0 || !strings.Contains(out, "node-4 is retired") || !strings.Contains(out, "tolerating 0 faulty") {
		t.Fatalf("pact retire: exit %d\n%s%s", code, out, errOut)
	}
	three := names[:3]
	retiredAt := agree("three validators everywhere", three, three...)
	for _, name := range three {
		if s, _ := procs[name].status(t); fmt.Sprint(s.Retired) != "[node-4]" || len(s.Ejected) != 0 {
			t.Errorf("%s: retired %v, ejected %v", name, s.Retired, s.Ejected)
		}
	}
	out, _, _ = pactRun(t, "status", "--config", procs["node-2"].cfg)
	if !strings.Contains(out, "retired     node-4") {
		t.Errorf("pact status does not show the retired node:\n%s", out)
	}
	if _, errOut, code := pactRun(t, "retire", "--config", procs["node-1"].cfg, "node-4"); code != exitUsage || !strings.Contains(errOut, "already retired") {
		t.Errorf("retiring node-4 again: exit %d, %s", code, errOut)
	}

	// The replacement: a new SD card, a new key, the same name and file.
	for _, p := range []string{"data", "identity.key"} {
		if err := os.RemoveAll(filepath.Join(dir, "node-4", p)); err != nil {
			t.Fatal(err)
		}
	}
	keyFile := filepath.Join(dir, "node-4", "identity.key")
	if _, errOut, code := pactRun(t, "config", "keygen", keyFile); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	k, err := identity.Load(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	newKey := identity.Public(k)
	procs["node-4"] = startProc(t, dir, "node-4")
	waitFor(t, 60*time.Second, "node-4 seen as a candidate with its new key", func() (bool, string) {
		s, _ := procs["node-1"].status(t)
		return s.CandidateKeys["node-4"] == newKey, fmt.Sprintf("candidates %v", s.CandidateKeys)
	})
	// Deciding the admission takes all three validators left: the cluster
	// still decides after the retirement.
	out, errOut, code = pactRun(t, "admit", "--config", procs["node-3"].cfg, "--wait", "30s", "node-4")
	if code != 0 {
		t.Fatalf("pact admit: exit %d\n%s%s", code, out, errOut)
	}
	if h := agree("four validators again, node-4 caught up", names, names...); h <= retiredAt {
		t.Errorf("height %d after the admission, %d after the retirement", h, retiredAt)
	}
	for _, name := range names {
		s, _ := procs[name].status(t)
		if d := s.Capabilities["node-4"]; d == nil || d.Key != newKey || len(s.Retired) != 0 {
			t.Errorf("%s: node-4's document %v, retired %v; want the new key %s", name, d, s.Retired, newKey)
		}
	}
	if s, _ := procs["node-4"].status(t); !s.Validator {
		t.Error("node-4 does not see itself as a validator")
	}
}
