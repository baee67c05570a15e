package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/membership"
)

// BenchmarkCrashDetection measures memberlist's failure detection with
// pact's "pi" profile against memberlist's LAN defaults (docs/BENCHMARKS.md,
// "Membership failure detection"), in a shape `make bench` tabulates: five
// separate processes (this test binary run again as a member, see
// TestMain) on 127.0.95.x, one of them stopped with SIGSTOP for 10 s and
// continued, then crashKills times the newest one killed with SIGKILL and
// a fresh one started in its place. PACT_BENCH_KILLS sets the number of
// kills (default 5; the figures in docs/BENCHMARKS.md used 20).
//
// It reports ms-detect-p50 and ms-detect-max (SIGKILL → every survivor
// lists the node dead; ms-first-p50 for the first survivor) and
// false-suspicions: suspicions or deaths of a healthy node, declared by
// anyone, from the SIGSTOP until 10 s after the SIGCONT. The kill trials
// share one fleet, so the survivors still list the earlier victims as dead
// while a later one is killed. Run with -benchtime 1x; it takes about a
// minute per profile.
func BenchmarkCrashDetection(b *testing.B) {
	for _, profile := range []string{membership.ProfilePi, membership.ProfileLAN} {
		b.Run(profile, func(b *testing.B) {
			var r crashResult
			for b.Loop() {
				r = measureCrashes(b, profile)
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(ms(medianOf(r.all)), "ms-detect-p50")
			b.ReportMetric(ms(slices.Max(r.all)), "ms-detect-max")
			b.ReportMetric(ms(slices.Min(r.all)), "ms-detect-min")
			b.ReportMetric(ms(medianOf(r.first)), "ms-first-p50")
			b.ReportMetric(float64(len(r.all)), "kills")
			b.ReportMetric(float64(r.falseSuspicions), "false-suspicions")
			b.ReportMetric(ms(r.pausedDead), "ms-paused-dead")
		})
	}
}

// crashKills is how many SIGKILLs one iteration times per profile:
// PACT_BENCH_KILLS, default 5.
var crashKills = func() int {
	if n, err := strconv.Atoi(os.Getenv("PACT_BENCH_KILLS")); err == nil && n > 0 {
		return n
	}
	return 5
}()

const (
	// crashPause is how long the paused node stays stopped, and how long
	// the fleet is watched after it continues.
	crashPause = 10 * time.Second
	// crashWait bounds every wait for the fleet: a broken run fails
	// instead of hanging.
	crashWait = 60 * time.Second

	memberEnv = "PACT_BENCH_MEMBER"
)

// crashResult is one profile's figures.
type crashResult struct {
	// first and all are, per kill, the time until the first and until the
	// last survivor declared the node dead.
	first, all []time.Duration
	// falseSuspicions counts suspect and dead events about healthy nodes
	// around the pause.
	falseSuspicions int
	// pausedDead is the time from the SIGSTOP until every healthy node
	// declared the paused node dead, or 0 if they did not within the
	// pause.
	pausedDead time.Duration
}

// measureCrashes runs the pause and the kills on a fresh fleet of five.
func measureCrashes(b *testing.B, profile string) crashResult {
	f := startCrashFleet(b, profile, 5)
	defer f.stop()
	time.Sleep(2 * time.Second) // let probing settle into its rhythm
	var r crashResult
	healthy := f.procs[:4]

	victim := f.procs[4]
	stopped := time.Now()
	if err := victim.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		b.Fatal(err)
	}
	time.Sleep(crashPause)
	if err := victim.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		b.Fatal(err)
	}
	time.Sleep(crashPause)
	deadAt := map[string]int64{}
	for _, l := range f.since(stopped) {
		switch {
		case (l.Ev == "suspect" || l.Ev == "dead") && l.Peer != victim.name && l.Peer != "":
			r.falseSuspicions++
			b.Logf("%s: %s says %s is %s %.2f s after the SIGSTOP", profile, l.Node, l.Peer, l.Ev, float64(l.T-stopped.UnixNano())/1e9)
		case l.Ev == "dead" && l.Peer == victim.name:
			if _, ok := deadAt[l.Node]; !ok {
				deadAt[l.Node] = l.T
			}
		}
	}
	if len(deadAt) == len(healthy) {
		var last int64
		for _, t := range deadAt {
			last = max(last, t)
		}
		r.pausedDead = time.Duration(last - stopped.UnixNano())
	}
	f.await(b, "the paused node to be alive again", func() bool { return f.sees(healthy, victim, "alive") })

	for k := range crashKills {
		killed := time.Now()
		if err := victim.cmd.Process.Kill(); err != nil {
			b.Fatal(err)
		}
		f.await(b, "every survivor to declare "+victim.name+" dead", func() bool { return f.sees(healthy, victim, "dead") })
		seen := map[string]int64{}
		for _, l := range f.since(killed) {
			if _, ok := seen[l.Node]; !ok && l.Ev == "dead" && l.Peer == victim.name {
				seen[l.Node] = l.T
			}
		}
		var lo, hi int64 = 1 << 62, 0
		for _, t := range seen {
			lo, hi = min(lo, t), max(hi, t)
		}
		r.first = append(r.first, time.Duration(lo-killed.UnixNano()))
		r.all = append(r.all, time.Duration(hi-killed.UnixNano()))
		if k == crashKills-1 {
			break
		}
		victim = f.spawn(b, 6+k)
		f.await(b, victim.name+" to join", func() bool {
			return f.sees(healthy, victim, "alive") && f.sees([]*crashMember{victim}, healthy[0], "alive")
		})
		time.Sleep(time.Second)
	}
	return r
}

func medianOf(v []time.Duration) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// crashMember is one child process.
type crashMember struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  chan string
}

// memberConfig is what a child is told through memberEnv.
type memberConfig struct {
	Name, BindAddr, Profile string
	Seeds                   []string
}

// memberLine is one event a child prints, with the wall-clock time it
// happened: all children share the machine's clock.
type memberLine struct {
	T    int64  `json:"t"`
	Node string `json:"node"`
	Ev   string `json:"ev"`
	Peer string `json:"peer,omitempty"`
	Addr string `json:"addr,omitempty"`
}

// crashFleet is a set of child members and everything they printed.
type crashFleet struct {
	profile string
	seed    string
	procs   []*crashMember
	mu      sync.Mutex
	lines   []memberLine
	readers sync.WaitGroup
}

// startCrashFleet starts n members n1…nN, each seeded with n1, and waits
// until every one sees every other alive.
func startCrashFleet(b *testing.B, profile string, n int) *crashFleet {
	b.Helper()
	f := &crashFleet{profile: profile}
	b.Cleanup(f.stop)
	for i := 1; i <= n; i++ {
		f.spawn(b, i)
	}
	f.await(b, "the fleet to converge", func() bool {
		for _, p := range f.procs {
			if !f.sees(f.procs, p, "alive") {
				return false
			}
		}
		return true
	})
	return f
}

// spawn starts member ni on 127.0.95.(10+i) and waits for its address.
func (f *crashFleet) spawn(b *testing.B, i int) *crashMember {
	b.Helper()
	mc := memberConfig{Name: fmt.Sprintf("n%d", i), BindAddr: fmt.Sprintf("127.0.95.%d", 10+i), Profile: f.profile}
	if f.seed != "" {
		mc.Seeds = []string{f.seed}
	}
	cfg, _ := json.Marshal(mc)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), memberEnv+"="+string(cfg))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &crashMember{name: mc.Name, cmd: cmd, stdin: stdin, addr: make(chan string, 1)}
	f.procs = append(f.procs, p)
	f.readers.Add(1)
	go func() {
		defer f.readers.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l memberLine
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
	select {
	case a := <-p.addr:
		if f.seed == "" {
			f.seed = a
		}
	case <-time.After(10 * time.Second):
		b.Fatalf("%s did not start", p.name)
	}
	return p
}

// sees reports whether every observer's latest word on peer is state:
// "alive" (joined, refuted or updated) or "dead" (failed or left).
func (f *crashFleet) sees(observers []*crashMember, peer *crashMember, state string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	latest := map[string]string{}
	for _, l := range f.lines {
		if l.Peer != peer.name {
			continue
		}
		switch l.Ev {
		case "join", "alive", "update":
			latest[l.Node] = "alive"
		case "suspect":
			latest[l.Node] = "suspect"
		case "dead", "left":
			latest[l.Node] = "dead"
		}
	}
	for _, o := range observers {
		if latest[o.name] != state {
			return false
		}
	}
	return true
}

// since returns the lines of events at or after t.
func (f *crashFleet) since(t time.Time) []memberLine {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []memberLine
	for _, l := range f.lines {
		if l.T >= t.UnixNano() {
			out = append(out, l)
		}
	}
	return out
}

// await polls cond every 20 ms until it holds, failing after crashWait.
func (f *crashFleet) await(b *testing.B, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(crashWait)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("%s: after %s still waiting for %s", f.profile, crashWait, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills every child, stopped ones too, and waits for them.
func (f *crashFleet) stop() {
	for _, p := range f.procs {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Kill()
		_ = p.stdin.Close()
		_ = p.cmd.Wait()
	}
	f.readers.Wait()
	f.procs = nil
}

// TestMain runs this binary as a crash fleet's member when memberEnv holds
// its configuration, and as the tests otherwise.
func TestMain(m *testing.M) {
	if cfg := os.Getenv(memberEnv); cfg != "" {
		os.Exit(runMember(cfg))
	}
	os.Exit(m.Run())
}

// crashKey is the fleet's gossip key.
var crashKey = []byte("pact bench crash detection key!!")

// runMember runs one membership node until stdin closes or it is
// signalled, printing every membership event as a JSON line.
func runMember(config string) int {
	var mc memberConfig
	if err := json.Unmarshal([]byte(config), &mc); err != nil {
		fmt.Fprintln(os.Stderr, "member config:", err)
		return 2
	}
	out := make(chan memberLine, 1024)
	emit := func(l memberLine) {
		l.T, l.Node = time.Now().UnixNano(), mc.Name
		select {
		case out <- l:
		default: // never block memberlist; the parent would see a gap
		}
	}
	cfg := membership.DefaultConfig()
	cfg.Name, cfg.Cluster = mc.Name, "crash"
	cfg.BindAddr, cfg.BindPort = mc.BindAddr, 0
	cfg.GossipKeys = [][]byte{crashKey}
	cfg.Seeds = mc.Seeds
	cfg.Profile = mc.Profile
	cfg.JoinBackoffMin, cfg.JoinBackoffMax = 100*time.Millisecond, time.Second
	cfg.OnEvent = func(e membership.Event) { emit(memberLine{Ev: e.Type.String(), Peer: e.Member.Name}) }
	m, err := membership.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "member:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := m.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "member:", err)
		return 1
	}
	emit(memberLine{Ev: "ready", Addr: m.LocalNode().Addr})
	go func() { // the parent closed stdin, or died
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	enc := json.NewEncoder(os.Stdout)
	for {
		select {
		case l := <-out:
			_ = enc.Encode(l)
		case <-ctx.Done():
			_ = m.Shutdown()
			return 0
		}
	}
}
