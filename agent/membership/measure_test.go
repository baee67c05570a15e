package membership

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestFailureDetection_Measure measures, with real processes, how long the
// survivors of a 5-node cluster take to declare a SIGKILLed node dead, and
// whether healthy nodes get suspected while one node is SIGSTOPped for 10 s,
// for the LAN and Pi profiles. It takes minutes, so it runs only with
// PACT_MEASURE=1 (PACT_MEASURE_TRIALS sets the kill trials per profile,
// default 5, PACT_MEASURE_PAUSES the pause trials, default 2;
// PACT_MEASURE_OUT writes the results as JSON).
//
//	PACT_MEASURE=1 go test -run TestFailureDetection_Measure -v ./agent/membership/
func TestFailureDetection_Measure(t *testing.T) {
	if os.Getenv("PACT_MEASURE") == "" {
		t.Skip("set PACT_MEASURE=1 to measure failure detection (takes minutes)")
	}
	trials, pauses := max(1, envInt(t, "PACT_MEASURE_TRIALS", 5)), envInt(t, "PACT_MEASURE_PAUSES", 2)
	type result struct {
		Profile string `json:"profile"`
		// Kill: per trial, seconds until the first and the last survivor
		// declared the killed node dead.
		KillFirst []float64     `json:"kill_first_s"`
		KillAll   []float64     `json:"kill_all_s"`
		Pauses    []pauseResult `json:"pauses"`
	}
	var results []result
	for _, profile := range []string{ProfileLAN, ProfilePi} {
		r := result{Profile: profile}
		for i := range trials {
			first, all := measureKill(t, profile)
			t.Logf("%s kill trial %d: first survivor %.2f s, all survivors %.2f s", profile, i+1, first, all)
			r.KillFirst = append(r.KillFirst, first)
			r.KillAll = append(r.KillAll, all)
		}
		for i := range pauses {
			p := measurePause(t, profile)
			t.Logf("%s pause trial %d: %+v", profile, i+1, p)
			r.Pauses = append(r.Pauses, p)
		}
		results = append(results, r)
	}
	for _, r := range results {
		var sum pauseResult
		var deadAfter []float64
		for _, p := range r.Pauses {
			sum.HealthySuspected += p.HealthySuspected
			sum.SuspectedByHealthy += p.SuspectedByHealthy
			sum.SuspectedByPaused += p.SuspectedByPaused
			sum.HealthyDead += p.HealthyDead
			sum.HealthyRefutations += p.HealthyRefutations
			deadAfter = append(deadAfter, p.PausedDeadAfter)
		}
		t.Logf("%-4s kill→all survivors see dead: min %.2f median %.2f max %.2f s (n=%d); "+
			"%d×10 s SIGSTOP: paused node dead after %v s, healthy nodes suspected %d times (by healthy nodes %d, by the paused node after it resumed %d), healthy declared dead %d, refutations by healthy nodes %d",
			r.Profile, slices.Min(r.KillAll), median(r.KillAll), slices.Max(r.KillAll), len(r.KillAll),
			len(r.Pauses), deadAfter, sum.HealthySuspected, sum.SuspectedByHealthy, sum.SuspectedByPaused,
			sum.HealthyDead, sum.HealthyRefutations)
	}
	if path := os.Getenv("PACT_MEASURE_OUT"); path != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a count", name, s)
	}
	return n
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// proc is one child node.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  chan string
}

// fleet is a set of child nodes and everything they reported.
type fleet struct {
	t     testing.TB
	procs []*proc
	mu    sync.Mutex
	lines []childLine
	wg    sync.WaitGroup
}

// startFleet starts n child nodes n1..nN on their own loopback addresses,
// all seeded with n1, and waits until each sees all n alive.
func startFleet(t testing.TB, n int, profile string) *fleet {
	t.Helper()
	f := &fleet{t: t}
	t.Cleanup(f.stop)
	var seed string
	for i := 1; i <= n; i++ {
		cc := childConfig{Name: fmt.Sprintf("n%d", i), BindAddr: fmt.Sprintf("127.0.0.%d", 10+i), Profile: profile}
		if seed != "" {
			cc.Seeds = []string{seed}
		}
		p := f.spawn(cc)
		select {
		case a := <-p.addr:
			if seed == "" {
				seed = a
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not start", cc.Name)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for !f.converged(n) {
		if time.Now().After(deadline) {
			t.Fatalf("fleet of %d did not converge", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return f
}

func (f *fleet) spawn(cc childConfig) *proc {
	b, _ := json.Marshal(cc)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=node", childConfigEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		f.t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		f.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	p := &proc{name: cc.Name, cmd: cmd, stdin: stdin, addr: make(chan string, 1)}
	f.procs = append(f.procs, p)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l childLine
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			if l.Ev == "ready" {
				p.addr <- l.Addr
			}
			f.mu.Lock()
			f.lines = append(f.lines, l)
			f.mu.Unlock()
		}
	}()
	return p
}

// converged reports whether every node has seen n joins (itself included)
// and nothing die.
func (f *fleet) converged(n int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	joins := map[string]map[string]bool{}
	for _, l := range f.lines {
		if l.Ev == "join" {
			if joins[l.Node] == nil {
				joins[l.Node] = map[string]bool{}
			}
			joins[l.Node][l.Peer] = true
		}
	}
	if len(joins) < n {
		return false
	}
	for _, peers := range joins {
		if len(peers) < n {
			return false
		}
	}
	return true
}

// since returns the lines reported at or after t.
func (f *fleet) since(t time.Time) []childLine {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []childLine
	for _, l := range f.lines {
		if l.T >= t.UnixNano() {
			out = append(out, l)
		}
	}
	return out
}

func (f *fleet) all() []childLine {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.lines)
}

func (f *fleet) stop() {
	for _, p := range f.procs {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Kill()
		_ = p.stdin.Close()
		_ = p.cmd.Wait()
	}
	f.wg.Wait()
	f.procs = nil
}

// measureKill SIGKILLs n5 of a fresh 5-node fleet and returns the seconds
// until the first and until the last survivor declared it dead.
func measureKill(t *testing.T, profile string) (first, all float64) {
	f := startFleet(t, 5, profile)
	defer f.stop()
	time.Sleep(2 * time.Second) // let probing settle into its rhythm
	victim := f.procs[4]
	killed := time.Now()
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := killed.Add(60 * time.Second)
	for {
		seen := map[string]int64{}
		for _, l := range f.since(killed) {
			if l.Ev == "dead" && l.Peer == victim.name {
				if _, ok := seen[l.Node]; !ok {
					seen[l.Node] = l.T
				}
			}
		}
		if len(seen) == 4 {
			if os.Getenv("PACT_MEASURE_VERBOSE") != "" {
				for _, l := range f.since(killed) {
					t.Logf("  +%.3fs %s %s %s", float64(l.T-killed.UnixNano())/1e9, l.Node, l.Ev, l.Peer)
				}
			}
			var lo, hi int64 = 1 << 62, 0
			for _, ts := range seen {
				lo, hi = min(lo, ts), max(hi, ts)
			}
			return float64(lo-killed.UnixNano()) / 1e9, float64(hi-killed.UnixNano()) / 1e9
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: after 60 s only %d survivors declared %s dead", profile, len(seen), victim.name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pauseResult is what happened around a 10 s SIGSTOP of one node.
type pauseResult struct {
	// PausedDeadAfter is the seconds until every healthy node declared the
	// paused node dead (0 if they did not within the pause).
	PausedDeadAfter float64 `json:"paused_dead_after_s"`
	// HealthySuspected counts suspicions of a healthy node from the pause
	// until 10 s after the resume; SuspectedByHealthy and SuspectedByPaused
	// split them by who suspected.
	HealthySuspected   int `json:"healthy_suspected"`
	SuspectedByHealthy int `json:"suspected_by_healthy"`
	SuspectedByPaused  int `json:"suspected_by_paused"`
	// HealthyDead counts healthy nodes declared dead by anyone.
	HealthyDead int `json:"healthy_dead"`
	// HealthyRefutations counts suspicions or death notices that reached
	// a healthy node about itself (each one it refuted).
	HealthyRefutations int `json:"healthy_refutations"`
	// PausedRejoinedAfter is the seconds after the resume until every
	// healthy node saw the paused node alive again.
	PausedRejoinedAfter float64 `json:"paused_rejoined_after_s"`
}

// measurePause SIGSTOPs n5 for 10 s, resumes it, watches 10 s more, and
// counts suspicions of the healthy nodes.
func measurePause(t *testing.T, profile string) pauseResult {
	f := startFleet(t, 5, profile)
	defer f.stop()
	time.Sleep(2 * time.Second)
	victim := f.procs[4]
	stopped := time.Now()
	if err := victim.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second)
	resumed := time.Now()
	if err := victim.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second)

	// Refutation counts are cumulative per node: take each healthy node's
	// count before the pause and its last.
	before := map[string]int{}
	for _, l := range f.all() {
		if l.Ev == "refuted" && l.T < stopped.UnixNano() {
			before[l.Node] = l.N
		}
	}
	var r pauseResult
	deadAt := map[string]int64{}
	aliveAgain := map[string]int64{}
	last := map[string]int{}
	for _, l := range f.since(stopped) {
		healthyPeer := l.Peer != "" && l.Peer != victim.name
		switch {
		case l.Ev == "suspect" && healthyPeer:
			r.HealthySuspected++
			if l.Node == victim.name {
				r.SuspectedByPaused++
			} else {
				r.SuspectedByHealthy++
			}
		case l.Ev == "dead" && healthyPeer:
			r.HealthyDead++
		case l.Ev == "dead" && l.Peer == victim.name:
			if _, ok := deadAt[l.Node]; !ok {
				deadAt[l.Node] = l.T
			}
		case (l.Ev == "join" || l.Ev == "alive") && l.Peer == victim.name && l.T >= resumed.UnixNano():
			if _, ok := aliveAgain[l.Node]; !ok {
				aliveAgain[l.Node] = l.T
			}
		case l.Ev == "refuted" && l.Node != victim.name:
			last[l.Node] = l.N
		}
	}
	for node, n := range last {
		r.HealthyRefutations += n - before[node]
	}
	if len(deadAt) == 4 {
		var hi int64
		for _, ts := range deadAt {
			hi = max(hi, ts)
		}
		r.PausedDeadAfter = float64(hi-stopped.UnixNano()) / 1e9
	}
	if len(aliveAgain) == 4 {
		var hi int64
		for _, ts := range aliveAgain {
			hi = max(hi, ts)
		}
		r.PausedRejoinedAfter = float64(hi-resumed.UnixNano()) / 1e9
	}
	return r
}
