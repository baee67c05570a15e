package membership

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Tests run real memberlist sockets on loopback addresses 127.0.0.11 to
// 127.0.0.30 with ports picked by the kernel, so they never collide with each
// other or with anything else on the machine.

var (
	testKey  = bytes.Repeat([]byte{0x42}, 32)
	otherKey = bytes.Repeat([]byte{0x17}, 32)
	nextIP   atomic.Uint32
)

// loopbackIP returns the next test address in 127.0.0.11–30.
func loopbackIP() string {
	return fmt.Sprintf("127.0.0.%d", 11+nextIP.Add(1)%20)
}

// testConfig is a node on its own loopback address with fast join retries.
func testConfig(t testing.TB, name string) Config {
	cfg := DefaultConfig()
	cfg.Name = name
	cfg.Cluster = "test"
	cfg.BindAddr = loopbackIP()
	cfg.BindPort = 0
	cfg.GossipKeys = [][]byte{testKey}
	cfg.JoinBackoffMin = 50 * time.Millisecond
	cfg.JoinBackoffMax = 400 * time.Millisecond
	cfg.AloneCheckInterval = 200 * time.Millisecond
	cfg.Logger = testLogger(t)
	return cfg
}

// testLogger logs to the test when PACT_TEST_LOG is set.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("PACT_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// start creates and starts a node that is shut down when the test ends.
func start(t testing.TB, cfg Config) *Membership {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", cfg.Name, err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	if err := m.Start(context.Background()); err != nil {
		t.Fatalf("Start(%s): %v", cfg.Name, err)
	}
	return m
}

// addr is where a node can be joined.
func addr(m *Membership) string { return m.LocalNode().Addr }

// cluster starts n nodes named n1..nN, all seeded with n1, and waits until
// every node sees all of them alive.
func cluster(t testing.TB, n int, tweak func(*Config)) []*Membership {
	t.Helper()
	nodes := make([]*Membership, 0, n)
	for i := 1; i <= n; i++ {
		cfg := testConfig(t, fmt.Sprintf("n%d", i))
		if i > 1 {
			cfg.Seeds = []string{addr(nodes[0])}
		}
		if tweak != nil {
			tweak(&cfg)
		}
		nodes = append(nodes, start(t, cfg))
	}
	// A node that fell behind catches up by push/pull at the latest, every
	// 15 s in the Pi profile: wait longer than that before calling it broken.
	waitConverged(t, nodes, names(nodes), 40*time.Second)
	return nodes
}

func names(nodes []*Membership) []string {
	var out []string
	for _, m := range nodes {
		out = append(out, m.cfg.Name)
	}
	slices.Sort(out)
	return out
}

// alive returns the names a node sees alive, sorted.
func alive(m *Membership) []string {
	var out []string
	for _, mem := range m.Members() {
		if mem.State == StateAlive {
			out = append(out, mem.Name)
		}
	}
	return out
}

// waitConverged waits until every node sees exactly want alive.
func waitConverged(t testing.TB, nodes []*Membership, want []string, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, func() string {
		for _, m := range nodes {
			if got := alive(m); !slices.Equal(got, want) {
				var states []string
				for _, mem := range m.Members() {
					states = append(states, fmt.Sprintf("%s=%v@%s", mem.Name, mem.State, mem.Addr))
				}
				return fmt.Sprintf("%s sees %v alive, want %v (members %v, health %d, stats %+v)",
					m.cfg.Name, got, want, states, m.HealthScore(), m.Stats())
			}
		}
		return ""
	})
}

// waitFor polls cond until it returns "" or the timeout passes, then fails
// with cond's last complaint. Polling is bounded; the timeout is a ceiling,
// not an expectation.
func waitFor(t testing.TB, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) record(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// seen reports whether an event of type typ about name was recorded (any
// type when typ is 0).
func (r *recorder) seen(name string, typ EventType) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Member.Name == name && (typ == 0 || e.Type == typ) {
			return true
		}
	}
	return false
}

// freePort finds a port free for both TCP and UDP on ip.
func freePort(t testing.TB, ip string) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}
