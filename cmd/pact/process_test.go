package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent"
)

// TestMain lets the test binary stand in for the pact binary: with
// PACT_TEST_MAIN=1 it runs main's dispatcher on its arguments and exits.
// Process-level tests start real agent processes this way, as systemd would,
// without a separate build step (and under qemu-user as well).
func TestMain(m *testing.M) {
	if os.Getenv("PACT_TEST_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// pactCmd builds a command that runs `pact args...` as a separate process.
func pactCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PACT_TEST_MAIN=1")
	return cmd
}

func pactRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := pactCmd(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("pact %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

type agentProc struct {
	name string
	cfg  string
	cmd  *exec.Cmd
	log  *os.File
}

func startProc(t *testing.T, dir, name string) *agentProc {
	t.Helper()
	p := &agentProc{name: name, cfg: filepath.Join(dir, name, "pact.yaml")}
	f, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.log = f
	p.cmd = pactCmd("agent", "--config", p.cfg)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill(); f.Close() })
	return p
}

func (p *agentProc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// term stops the agent the way systemd does and returns its exit code.
func (p *agentProc) term(t *testing.T) int {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return 0
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not stop within 15 s of SIGTERM", p.name)
		return -1
	}
}

func (p *agentProc) status(t *testing.T) (agent.Status, bool) {
	out, _, code := pactRun(t, "status", "--config", p.cfg, "--json")
	var s agent.Status
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
		return s, false
	}
	return s, true
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		ok, detail := cond()
		if ok {
			return
		}
		last = detail
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last: %s", within, what, last)
}

// Five pact agent processes from a pact testnet directory reach an agreed
// view of five validators and their capabilities; one killed with -9 and
// restarted catches up with decisions taken while it was down; SIGTERM
// stops an agent cleanly.
func TestProcesses_TestnetAgreesAndSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five agent processes")
	}
	dir := t.TempDir()
	if _, errOut, code := pactRun(t, "testnet", "--nodes", "5", "--out", dir, "--bind", "127.0.5.1", "--base-port", "27946"); code != 0 {
		t.Fatalf("testnet: %s", errOut)
	}
	procs := map[string]*agentProc{}
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("node-%d", i)
		procs[name] = startProc(t, dir, name)
	}
	agreed := func(names ...string) func() (bool, string) {
		return func() (bool, string) {
			var height uint64
			for i, name := range names {
				s, ok := procs[name].status(t)
				if !ok {
					return false, name + " does not answer"
				}
				if len(s.Validators) != 5 || len(s.Capabilities) != 5 {
					return false, fmt.Sprintf("%s: %d validators, %d documents", name, len(s.Validators), len(s.Capabilities))
				}
				if i == 0 {
					height = s.Height
				} else if s.Height != height {
					return false, fmt.Sprintf("%s at height %d, %s at %d", name, s.Height, names[0], height)
				}
			}
			return true, ""
		}
	}
	all := []string{"node-1", "node-2", "node-3", "node-4", "node-5"}
	waitFor(t, 60*time.Second, "five agents to agree on five validators and their documents", agreed(all...))

	// node-3 dies hard; node-2 changes zone while it is down, which the
	// cluster decides without node-3.
	procs["node-3"].kill()
	before, _ := procs["node-1"].status(t)
	if code := procs["node-2"].term(t); code != 0 {
		t.Fatalf("node-2 exited %d after SIGTERM, want 0", code)
	}
	cfg := filepath.Join(dir, "node-2", "pact.yaml")
	b, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, bytes.Replace(b, []byte("zone: greenhouse"), []byte("zone: shed"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	procs["node-2"] = startProc(t, dir, "node-2")
	waitFor(t, 30*time.Second, "the new zone to be decided without node-3", func() (bool, string) {
		s, ok := procs["node-1"].status(t)
		if !ok || s.Height <= before.Height || s.Capabilities["node-2"] == nil || s.Capabilities["node-2"].Zone != "shed" {
			return false, fmt.Sprintf("height %d", s.Height)
		}
		return true, ""
	})
	procs["node-3"] = startProc(t, dir, "node-3")
	waitFor(t, 30*time.Second, "node-3 to catch up after kill -9", func() (bool, string) {
		s, ok := procs["node-3"].status(t)
		if !ok || s.Capabilities["node-2"] == nil || s.Capabilities["node-2"].Zone != "shed" {
			return false, fmt.Sprintf("node-3 at height %d", s.Height)
		}
		return true, ""
	})
	waitFor(t, 20*time.Second, "all five at one height again", agreed(all...))
	log, _ := os.ReadFile(filepath.Join(dir, "node-3.log"))
	if strings.Contains(string(log), "panic") || strings.Contains(string(log), "refused to sign") {
		t.Fatalf("node-3's log:\n%s", log)
	}
}

// A node with the cluster's gossip key but an identity the genesis does not
// list is visible as a candidate and has no vote until `pact admit`; a node
// with another gossip key never becomes a member at all.
func TestProcesses_StrangersAndAdmission(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six agent processes")
	}
	dir := t.TempDir()
	if _, errOut, code := pactRun(t, "testnet", "--nodes", "4", "--out", dir, "--bind", "127.0.6.1", "--base-port", "28946"); code != 0 {
		t.Fatalf("testnet: %s", errOut)
	}
	// node-5: a copy of node-4's file with its own name, ports and key.
	node4, err := os.ReadFile(filepath.Join(dir, "node-4", "pact.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	derive := func(name, port, admin, clusterFile string) {
		s := strings.NewReplacer("node: node-4", "node: "+name, ":28949", ":"+port, ":29949", ":"+admin).Replace(string(node4))
		if clusterFile != "" {
			s = strings.Replace(s, "cluster_file: ../cluster.yaml", "cluster_file: "+clusterFile, 1)
		}
		if err := os.MkdirAll(filepath.Join(dir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "pact.yaml"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, errOut, code := pactRun(t, "config", "keygen", filepath.Join(dir, name, "identity.key")); code != 0 {
			t.Fatalf("keygen: %s", errOut)
		}
	}
	derive("node-5", "28950", "29950", "")
	// node-6: the same cluster file but another gossip key.
	cluster, _ := os.ReadFile(filepath.Join(dir, "cluster.yaml"))
	other := regexpReplace(t, string(cluster), `(?m)^gossip_key: .*$`, "gossip_key: "+strings.Repeat("A", 43)+"=")
	if err := os.WriteFile(filepath.Join(dir, "other-cluster.yaml"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	derive("node-6", "28951", "29951", "../other-cluster.yaml")

	procs := map[string]*agentProc{}
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("node-%d", i)
		procs[name] = startProc(t, dir, name)
	}
	waitFor(t, 60*time.Second, "node-5 seen as a candidate, four validators agreed", func() (bool, string) {
		for i := 1; i <= 4; i++ {
			s, ok := procs[fmt.Sprintf("node-%d", i)].status(t)
			if !ok || fmt.Sprint(s.Candidates) != "[node-5]" || len(s.Validators) != 4 || len(s.Capabilities) != 4 {
				return false, fmt.Sprintf("node-%d: candidates %v validators %v", i, s.Candidates, s.Validators)
			}
		}
		return true, ""
	})
	noNode6 := func() {
		for i := 1; i <= 5; i++ {
			s, _ := procs[fmt.Sprintf("node-%d", i)].status(t)
			for _, m := range s.Members {
				if m.Name == "node-6" {
					t.Fatalf("node-%d lists node-6, which holds another gossip key", i)
				}
			}
		}
	}
	noNode6()
	if s, ok := procs["node-5"].status(t); !ok || s.Validator {
		t.Fatalf("node-5 should follow as a candidate without a vote: %+v", s)
	}

	out, errOut, code := pactRun(t, "admit", "--config", procs["node-2"].cfg, "--wait", "30s", "node-5")
	if code != 0 {
		t.Fatalf("pact admit: exit %d\n%s%s", code, out, errOut)
	}
	waitFor(t, 30*time.Second, "five validators with node-5's document everywhere", func() (bool, string) {
		for i := 1; i <= 5; i++ {
			s, ok := procs[fmt.Sprintf("node-%d", i)].status(t)
			if !ok || len(s.Validators) != 5 || s.Capabilities["node-5"] == nil {
				return false, fmt.Sprintf("node-%d: validators %v", i, s.Validators)
			}
		}
		return true, ""
	})
	noNode6()
	if _, errOut, code := pactRun(t, "admit", "--config", procs["node-1"].cfg, "node-5"); code == 0 || !strings.Contains(errOut, "already a validator") {
		t.Fatalf("admitting a validator again: exit %d, %s", code, errOut)
	}
}

func regexpReplace(t *testing.T, s, expr, repl string) string {
	t.Helper()
	re := regexp.MustCompile(expr)
	if !re.MatchString(s) {
		t.Fatalf("no match for %s", expr)
	}
	return re.ReplaceAllString(s, repl)
}
