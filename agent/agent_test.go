package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
)

// testCluster writes a cluster of n genesis validators (and extra nodes that
// are not in the genesis) into a temporary directory, each bound to its own
// loopback address, and returns the agent file paths.
type testCluster struct {
	dir       string
	ipBase    string // e.g. "127.0.1." — each test its own /24
	gossipKey string
	files     map[string]string
	operator  ed25519.PrivateKey // signs requests and admissions
	size      int                // genesis validators
	zone      string             // every node's zone when set; zone-0/zone-1 alternate otherwise
	adversary map[string]string  // node → adversary mode
	allFans   bool               // every node has a fan relay, not only the odd ones
}

func newTestCluster(t testing.TB, ipBase string, validators int, extra ...string) *testCluster {
	t.Helper()
	tc := &testCluster{dir: t.TempDir(), ipBase: ipBase, files: map[string]string{}, size: validators}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	tc.gossipKey = base64.StdEncoding.EncodeToString(key)
	opPub, opKey, _ := ed25519.GenerateKey(rand.Reader)
	tc.operator = opKey
	var vals strings.Builder
	for i := 1; i <= validators; i++ {
		name := fmt.Sprintf("node-%d", i)
		k := tc.makeKey(t, name)
		fmt.Fprintf(&vals, "  %s: %s\n", name, identity.Public(k))
	}
	cluster := fmt.Sprintf(`cluster: itest
gossip_key: %s
validators:
%soperators:
  ops: %s
timings:
  tick: 50ms
  propose: 500ms
  prevote: 250ms
  precommit: 250ms
  round_increase: 250ms
  rebroadcast: 500ms
  status: 1s
`, tc.gossipKey, vals.String(), identity.PublicKeyString(opPub)) + strings.Join(extra, "")
	if err := os.WriteFile(filepath.Join(tc.dir, "cluster.yaml"), []byte(cluster), 0o644); err != nil {
		t.Fatal(err)
	}
	return tc
}

func (tc *testCluster) makeKey(t testing.TB, name string) ed25519.PrivateKey {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(tc.dir, name), 0o700); err != nil {
		t.Fatal(err)
	}
	k, err := identity.Create(filepath.Join(tc.dir, name, "identity.key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// addNode writes node i's agent file; gossipKey overrides the cluster's.
func (tc *testCluster) addNode(t testing.TB, i int, clusterFile string) string {
	t.Helper()
	name := fmt.Sprintf("node-%d", i)
	if _, err := os.Stat(filepath.Join(tc.dir, name, "identity.key")); err != nil {
		tc.makeKey(t, name)
	}
	seeds := fmt.Sprintf("[%s1:7946, %s2:7946]", tc.ipBase, tc.ipBase)
	fan := ""
	if i%2 == 1 || tc.allFans {
		fan = "\n    - {name: fan, kind: relay, pin: GPIO27}"
	}
	agentFile := fmt.Sprintf(`node: %s
cluster_file: %s
data_dir: data
key_file: identity.key
bind: %s%d:7946
seeds: %s
zone: %s%s
hardware:
  driver: sim
  sensors:
    - {name: temp, kind: temperature, driver: sim}
  outputs:
    - {name: led, kind: led, pin: GPIO17}%s
  inputs:%s
log: {level: debug}
`, name, clusterFile, tc.ipBase, i, seeds, tc.zoneOf(i), tc.adversaryOf(name), fan, tc.witnesses(i))
	path := filepath.Join(tc.dir, name, "pact.yaml")
	if err := os.WriteFile(path, []byte(agentFile), 0o644); err != nil {
		t.Fatal(err)
	}
	tc.files[name] = path
	return path
}

func (tc *testCluster) zoneOf(i int) string {
	if tc.zone != "" {
		return tc.zone
	}
	return fmt.Sprintf("zone-%d", i%2)
}

func (tc *testCluster) adversaryOf(name string) string {
	if mode := tc.adversary[name]; mode != "" {
		return "\nadversary: {mode: " + mode + "}"
	}
	return ""
}

// witnesses are node i's witness inputs: wired to the leds of the next
// f+1 nodes, so that every led has f+1 witnesses.
func (tc *testCluster) witnesses(i int) string {
	n := max(tc.size, 1)
	pins := []string{"GPIO22", "GPIO23", "GPIO24"}
	var b strings.Builder
	for k := 1; k <= min((n-1)/3+1, len(pins)); k++ {
		fmt.Fprintf(&b, "\n    - {name: witness%d, kind: witness, pin: %s, watches: node-%d/led}", k, pins[k-1], (i+k-1)%n+1)
	}
	return b.String()
}

type running struct {
	a      *Agent
	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned
	err    error         // what Run returned
}

// startAgent builds and runs the agent of path; configure, if given, runs
// between New and Run (benchmarks set hooks there).
func startAgent(t testing.TB, path string, configure ...func(*Agent)) *running {
	t.Helper()
	return startAgentWith(t, path, Options{NoAdmin: true}, configure...)
}

func startAgentWith(t testing.TB, path string, opts Options, configure ...func(*Agent)) *running {
	t.Helper()
	acfg, cl, err := config.Load(path)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	a, err := New(acfg, cl, opts)
	if err != nil {
		t.Fatalf("agent %s: %v", acfg.Node, err)
	}
	for _, f := range configure {
		f(a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{a: a, cancel: cancel, done: make(chan struct{})}
	go func() { r.err = a.Run(ctx); close(r.done) }()
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
	}
}

func (r *running) status(t testing.TB) Status {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := r.a.Status(ctx)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return s
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		ok, detail := cond()
		if ok {
			return
		}
		last = detail
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last: %s", within, what, last)
}

func TestAgents_DiscoverNegotiateAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("real sockets and seconds of gossip")
	}
	for _, tc := range []struct {
		n      int
		ipBase string
	}{{4, "127.0.1."}, {7, "127.0.2."}} {
		t.Run(fmt.Sprintf("n=%d", tc.n), func(t *testing.T) {
			cl := newTestCluster(t, tc.ipBase, tc.n)
			var agents []*running
			for i := 1; i <= tc.n; i++ {
				agents = append(agents, startAgent(t, cl.addNode(t, i, "../cluster.yaml")))
			}
			eventually(t, 30*time.Second, "every node to hold every committed capability document", func() (bool, string) {
				var want string
				for _, r := range agents {
					s := r.status(t)
					alive := 0
					for _, m := range s.Members {
						if m.State == "alive" {
							alive++
						}
					}
					if alive != tc.n || len(s.Capabilities) != tc.n || len(s.Validators) != tc.n {
						return false, fmt.Sprintf("%s: %d alive, %d documents, height %d", s.Node, alive, len(s.Capabilities), s.Height)
					}
					var digests []string
					for _, name := range s.Validators {
						d := s.Capabilities[name]
						digests = append(digests, fmt.Sprintf("%s:%x", name, d.Digest()))
					}
					got := strings.Join(digests, " ")
					if want == "" {
						want = got
					} else if got != want {
						return false, fmt.Sprintf("%s holds other documents", s.Node)
					}
				}
				return true, ""
			})
			// Same decided entries: every node at the same height holds
			// the same state; heights agree once quiet.
			eventually(t, 10*time.Second, "every node at the same height", func() (bool, string) {
				h := agents[0].status(t).Height
				for _, r := range agents[1:] {
					if s := r.status(t); s.Height != h {
						return false, fmt.Sprintf("%s at %d, node-1 at %d", s.Node, s.Height, h)
					}
				}
				return true, ""
			})
			for _, r := range agents {
				if c := r.status(t).Counters; c["consensus_bad_signatures"] != 0 || c["agent_store_errors"] != 0 {
					t.Errorf("%s counters: %v", r.a.name, c)
				}
			}
		})
	}
}

func TestAgents_StrangersStayOut(t *testing.T) {
	if testing.Short() {
		t.Skip("real sockets and seconds of gossip")
	}
	cl := newTestCluster(t, "127.0.3.", 4)
	var agents []*running
	for i := 1; i <= 4; i++ {
		agents = append(agents, startAgent(t, cl.addNode(t, i, "../cluster.yaml")))
	}
	// node-5 has the right gossip key but an identity the genesis does
	// not list: it becomes a visible candidate with no vote.
	candidate := startAgent(t, cl.addNode(t, 5, "../cluster.yaml"))
	// node-6 holds another gossip key: it must never become a member.
	other := strings.Replace(mustRead(t, filepath.Join(cl.dir, "cluster.yaml")), cl.gossipKey, base64.StdEncoding.EncodeToString(make([]byte, 32)), 1)
	if err := os.WriteFile(filepath.Join(cl.dir, "other-cluster.yaml"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	startAgent(t, cl.addNode(t, 6, "../other-cluster.yaml"))

	eventually(t, 30*time.Second, "node-5 seen as a candidate, with its announced document, by every validator", func() (bool, string) {
		for _, r := range agents {
			s := r.status(t)
			if fmt.Sprint(s.Candidates) != "[node-5]" || len(s.Validators) != 4 || len(s.Capabilities) != 4 || s.Announced["node-5"] == nil {
				return false, fmt.Sprintf("%s: candidates %v validators %v documents %d", s.Node, s.Candidates, s.Validators, len(s.Capabilities))
			}
		}
		return true, ""
	})
	time.Sleep(2 * time.Second) // give node-6 every chance to get in
	for _, r := range append(agents, candidate) {
		s := r.status(t)
		for _, m := range s.Members {
			if m.Name == "node-6" {
				t.Errorf("%s lists node-6, which holds another gossip key", s.Node)
			}
		}
		if len(s.Validators) != 4 {
			t.Errorf("%s: validators %v", s.Node, s.Validators)
		}
	}
	if s := candidate.status(t); s.Validator || s.Height != agents[0].status(t).Height {
		t.Errorf("candidate: validator=%v height %d; it should follow the chain without a vote", s.Validator, s.Height)
	}
}

func mustRead(t testing.TB, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// New that fails half way (the gossip port is taken) returns the error and
// releases what it opened; it must not crash on its own cleanup.
func TestNew_FailureReleasesWhatItOpened(t *testing.T) {
	cl := newTestCluster(t, "127.0.9.", 1)
	path := cl.addNode(t, 1, "../cluster.yaml")
	ln, err := net.Listen("tcp", "127.0.9.1:7946")
	if err != nil {
		t.Skip("cannot hold the port for the test:", err)
	}
	defer ln.Close()
	acfg, c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(acfg, c, Options{NoAdmin: true}); err == nil {
		t.Fatal("New succeeded on a taken port")
	}
	ln.Close()
	// The store was closed: a second New can open it.
	a, err := New(acfg, c, Options{NoAdmin: true})
	if err != nil {
		t.Fatalf("New after the failure: %v", err)
	}
	a.close()
}
