//go:build faults

package faults

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/internal/testbroker"
)

// Cluster under test
//
// A cluster is `pact testnet` output adapted to a lab: node i binds and is
// seeded at its namespace's address (the testnet's ports are kept), its
// admin API stays on the namespace's loopback, and every node reports to the
// lab's broker. The catalogue changes in two ways:
//
//   - hold is added too: a 3 s pulse with a 12 s deadline;
//   - tick is added: a 100 ms pulse of the LED that every node can perform,
//     with a deadline (30 s) longer than any queue a burst builds, so that
//     an outcome's absence means a fault and not a slow performer;
//   - ventilate goes. Its trigger fires when the simulated greenhouse
//     passes 28 °C, and a simulated fan cools only the sensors of its own
//     process (hw/sim.SharedWorld), so a minute later the other nodes
//     rightly find the performer's readings 4-5 °C off and eject it for
//     inconsistent readings: an artefact of boards in separate processes,
//     not of any fault here.

const (
	clusterName = "faults"
	basePort    = 7946
	mqttPort    = 1883
)

// tick is the action the tests request.
var tick = config.Action{
	Needs:    config.Needs{Output: "led", OutputKind: config.OutputLED},
	Drive:    config.Drive{Level: config.High, Duration: 100 * time.Millisecond},
	Deadline: 30 * time.Second,
	Verify:   []config.VerifyKind{config.VerifyReadback},
}

// hold is a longer pulse (3 s, deadline 12 s): long enough to cut its
// performer off while it drives, short enough that the deadline comes soon.
var hold = config.Action{
	Needs:    config.Needs{Output: "led", OutputKind: config.OutputLED},
	Drive:    config.Drive{Level: config.High, Duration: 3 * time.Second},
	Deadline: 12 * time.Second,
	Verify:   []config.VerifyKind{config.VerifyReadback},
}

// cluster is n agents in a lab, a broker and an observer.
type cluster struct {
	t        *testing.T
	lab      *lab
	dir      string
	n        int
	names    []string
	nodes    []*agentProc
	broker   *testbroker.Broker
	obs      *observer
	operator ed25519.PrivateKey
}

// agentProc is one `pact agent` process; restarted in place.
type agentProc struct {
	i    int
	name string
	cfg  string
	log  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// newCluster starts n agents in a new lab and waits until they agree on
// every validator and document.
func newCluster(t *testing.T, n int) *cluster {
	t.Helper()
	l := newLab(t, n)
	c := &cluster{t: t, lab: l, dir: keptDir(t), n: n}
	// The broker listens on the host side of the lab's bridge, with the
	// fleet's queue limits and no persistence: after a restart it holds
	// nothing, so whatever a subscriber gets afterwards came from the
	// agents' outboxes.
	c.broker = testbroker.Start(t, testbroker.Options{Host: l.hostIP, Port: mqttPort, NoPersistence: true})
	url := fmt.Sprintf("tcp://%s:%d", l.hostIP, mqttPort)
	placeholder := l.subnet + "250"
	out, err := exec.Command(pactBin, "testnet", "--nodes", strconv.Itoa(n), "--out", c.dir, "--cluster", clusterName,
		"--bind", placeholder, "--base-port", strconv.Itoa(basePort), "--mqtt", url).CombinedOutput()
	if err != nil {
		t.Fatalf("pact testnet: %v\n%s", err, out)
	}
	// node i's address in every file: its own bind, and the seeds.
	var pairs []string
	for i := 1; i <= n; i++ {
		port := strconv.Itoa(basePort + i - 1)
		pairs = append(pairs, placeholder+":"+port, l.nodes[i-1].ip+":"+port)
	}
	addrs := strings.NewReplacer(pairs...)
	for i := 1; i <= n; i++ {
		name := "node-" + strconv.Itoa(i)
		cfg := filepath.Join(c.dir, name, "pact.yaml")
		rewrite(t, cfg, func(s string) string { return addrs.Replace(s) })
		c.names = append(c.names, name)
		c.nodes = append(c.nodes, &agentProc{i: i, name: name, cfg: cfg, log: filepath.Join(c.dir, name+".log")})
	}
	clusterFile := filepath.Join(c.dir, "cluster.yaml")
	cl, err := config.LoadCluster(clusterFile)
	if err != nil {
		t.Fatalf("the testnet's cluster file: %v", err)
	}
	delete(cl.Actions, "ventilate")
	cl.Actions["tick"], cl.Actions["hold"] = tick, hold
	b, err := config.Marshal(cl, "Cluster file of a fault-suite cluster: pact testnet's, with tick and hold instead of ventilate.")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(clusterFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pactBin, "config", "validate", c.nodes[0].cfg).CombinedOutput(); err != nil {
		t.Fatalf("the adapted files do not validate: %v\n%s", err, out)
	}
	if c.operator, err = identity.Load(filepath.Join(c.dir, "operator.key")); err != nil {
		t.Fatal(err)
	}
	c.obs = newObserver(t, url, clusterName)
	t.Cleanup(func() {
		for _, p := range c.nodes {
			p.kill()
		}
		if t.Failed() {
			c.dumpLogs()
		}
	})
	for i := 1; i <= n; i++ {
		c.start(i)
	}
	c.waitAgreed(60*time.Second, "every node to agree on the validators and their documents")
	return c
}

// keptDir is a directory for the cluster's files and logs that is removed
// when the test passes and kept, and named, when it fails.
func keptDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pact-faults-"+strings.NewReplacer("/", "-").Replace(t.Name())+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the cluster's files and every node's full log are kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	return dir
}

// rewrite applies edit to a file.
func rewrite(t *testing.T, path string, edit func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(edit(string(b))), 0o600); err != nil {
		t.Fatal(err)
	}
}

// start starts node i's agent in its namespace.
func (c *cluster) start(i int) {
	c.t.Helper()
	p := c.nodes[i-1]
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	fmt.Fprintf(f, "==== faults: start at %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := c.lab.command(i, pactBin, "agent", "--config", p.cfg)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		c.t.Fatalf("start %s: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
}

// kill sends SIGKILL to node i's agent and waits for it to be gone.
func (c *cluster) kill(i int) { c.nodes[i-1].kill() }

func (p *agentProc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// signal sends sig to node i's agent (SIGSTOP, SIGCONT).
func (c *cluster) signal(i int, sig syscall.Signal) {
	c.t.Helper()
	p := c.nodes[i-1]
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.cmd.Process.Signal(sig); err != nil {
		c.t.Fatalf("%s %s: %v", sig, p.name, err)
	}
}

// status asks node i's agent, inside its namespace, for `pact status --json`.
func (c *cluster) status(i int) (agent.Status, error) {
	// Not t.Context(): the end-of-test checks run in t.Cleanup, after it
	// is cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p := c.nodes[i-1]
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", c.lab.nodes[i-1].ns, pactBin, "status", "--config", p.cfg, "--json")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	var s agent.Status
	if err := cmd.Run(); err != nil {
		return s, fmt.Errorf("%s: pact status: %v: %s", p.name, err, strings.TrimSpace(errb.String()))
	}
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		return s, fmt.Errorf("%s: pact status --json: %w", p.name, err)
	}
	return s, nil
}

// statuses asks every node in which; an error names the first that did not
// answer.
func (c *cluster) statuses(which []int) (map[int]agent.Status, error) {
	out := map[int]agent.Status{}
	for _, i := range which {
		s, err := c.status(i)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func (c *cluster) all() []int {
	out := make([]int, c.n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// waitAgreed waits until every node answers, at one height, with all n
// validators and documents.
func (c *cluster) waitAgreed(within time.Duration, what string) {
	c.t.Helper()
	waitFor(c.t, within, what, func() (bool, string) {
		ss, err := c.statuses(c.all())
		if err != nil {
			return false, err.Error()
		}
		h := ss[1].Height
		for i, s := range ss {
			if len(s.Validators) != c.n || len(s.Capabilities) != c.n {
				return false, fmt.Sprintf("node-%d: %d validators, %d documents", i, len(s.Validators), len(s.Capabilities))
			}
			if s.Height != h {
				return false, fmt.Sprintf("node-%d at height %d, node-1 at %d", i, s.Height, h)
			}
		}
		return true, ""
	})
}

// heights returns every answering node's height.
func (c *cluster) heights(which []int) map[int]uint64 {
	out := map[int]uint64{}
	for _, i := range which {
		if s, err := c.status(i); err == nil {
			out[i] = s.Height
		}
	}
	return out
}

// waitAdvance waits until every node in which has decided past the highest
// height any of them had when it was called: the cluster is live again and
// each of them follows it. Taking longer than within fails the test but
// the wait goes on, up to lateBy more, so that the failure says how long
// it really took; never getting there stops the test.
func (c *cluster) waitAdvance(within time.Duration, which []int, what string) {
	c.t.Helper()
	var top uint64
	for _, h := range c.heights(which) {
		top = max(top, h)
	}
	start := time.Now()
	var asked time.Time
	late := ""
	for {
		if time.Since(asked) >= time.Second { // work to decide, one request a second
			c.request("live-"+strconv.FormatInt(time.Now().UnixNano(), 36), "tick")
			asked = time.Now()
		}
		hs := c.heights(which)
		behind := ""
		for _, i := range which {
			if hs[i] <= top {
				behind = fmt.Sprintf("heights %v, want all above %d; %s", hs, top, c.views(which))
				break
			}
		}
		took := time.Since(start)
		switch {
		case behind == "" && took <= within:
			c.t.Logf("%s: took %s", what, took.Round(100*time.Millisecond))
			return
		case behind == "":
			c.t.Errorf("%s took %s, want at most %s (at %s: %s)", what, took.Round(100*time.Millisecond), within, within, late)
			return
		case took > within+lateBy:
			c.t.Fatalf("%s: not after %s, want at most %s; last: %s", what, took.Round(time.Second), within, behind)
		case took > within && late == "":
			late = behind
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// lateBy is how long waitAdvance keeps measuring past its bound.
const lateBy = 30 * time.Second

// views says which members each node does not see alive: what a stuck
// cluster's failure message needs.
func (c *cluster) views(which []int) string {
	var parts []string
	for _, i := range which {
		s, err := c.status(i)
		if err != nil {
			parts = append(parts, err.Error())
			continue
		}
		var notAlive []string
		for _, m := range s.Members {
			if m.State != "alive" {
				notAlive = append(notAlive, m.Name+" "+m.State)
			}
		}
		if len(notAlive) > 0 || len(s.Members) < c.n {
			parts = append(parts, fmt.Sprintf("node-%d sees %d members, not alive: %v", i, len(s.Members), notAlive))
		}
	}
	if len(parts) == 0 {
		return "every node sees every member alive"
	}
	return strings.Join(parts, "; ")
}

// checkAtEnd registers the safety and honesty checks to run when t ends,
// whether it passed or not: a scenario that loses liveness must still
// report a conflict or an ejection it caused.
func (c *cluster) checkAtEnd() {
	c.t.Cleanup(func() {
		c.checkSafe()
		c.checkHonest()
	})
}

// requestWait runs `pact request --wait` on the host, as an operator would,
// and fails the test unless the action succeeded.
func (c *cluster) requestWait(id string, within time.Duration) {
	c.t.Helper()
	out, err := exec.Command(pactBin, "request", "--config", c.nodes[0].cfg, "--id", id, "--wait", within.String(), "tick").CombinedOutput()
	if err != nil {
		c.t.Fatalf("pact request --wait %s: %v\n%s", id, err, out)
	}
	c.t.Logf("pact request: %s", strings.TrimSpace(string(out)))
}

// checkHonest fails the test if any node is ejected in any answering node's
// view, proved an equivocation, or was reported ejected on the broker.
func (c *cluster) checkHonest() {
	c.t.Helper()
	for _, i := range c.all() {
		s, err := c.status(i)
		if err != nil {
			c.t.Errorf("%v", err)
			continue
		}
		if len(s.Ejected) != 0 {
			c.t.Errorf("node-%d lists ejected nodes %v: a fault was taken for misbehaviour", i, s.Ejected)
		}
		if n := s.Counters["consensus_equivocations"]; n != 0 {
			c.t.Errorf("node-%d proved %d equivocations: an honest node signed two conflicting votes", i, n)
		}
	}
	for _, e := range c.obs.ejections() {
		c.t.Errorf("ejection on the broker: %s", e)
	}
}

// checkSafe fails the test if two nodes decided different blocks at one
// height (from the decisions every node publishes).
func (c *cluster) checkSafe() {
	c.t.Helper()
	for _, e := range c.obs.conflicts() {
		c.t.Errorf("conflicting decisions: %s", e)
	}
	c.t.Logf("decisions seen on the broker: %s", c.obs.summary())
}

// grepLogs counts lines containing s in node i's log.
func (c *cluster) grepLogs(i int, s string) int {
	b, _ := os.ReadFile(c.nodes[i-1].log)
	return strings.Count(string(b), s)
}

// dumpLogs prints the tail of every node's log after a failure.
func (c *cluster) dumpLogs() {
	for _, p := range c.nodes {
		b, err := os.ReadFile(p.log)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		lines = lines[max(0, len(lines)-40):]
		c.t.Logf("---- last lines of %s's log (%s):\n%s", p.name, p.log, strings.Join(lines, "\n"))
	}
}

// waitFor polls cond until it holds or within passes.
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
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last: %s", within, what, last)
}

// on returns the cluster for use in subtest t: its helpers fail t.
func (c *cluster) on(t *testing.T) *cluster {
	lb := *c.lab
	lb.t = t
	d := *c
	d.t, d.lab = t, &lb
	return &d
}
