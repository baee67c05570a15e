package bench

import (
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/seed44533760/pact/agent/membership"
	"github.com/seed44533760/pact/consensus/sim"
)

// Issue 8's "Scale": how one cluster's cost grows with n, so that its
// limits are written down (docs/BENCHMARKS.md, "Scale").

var (
	// simScaleSizes are the cluster sizes the simulator runs.
	simScaleSizes = []int{4, 7, 10, 16, 25, 32, 48, 64}
	// gossipScaleSizes are the memberlist clusters started in this process.
	gossipScaleSizes = []int{10, 50, 100}
)

const (
	// simScaleHeights is how many heights every honest node decides in one
	// simulated run: n = 64 with Ed25519 takes about 20 s on a 2.4 GHz
	// EPYC vCPU.
	simScaleHeights = 30

	// gossipSettle is how long a converged cluster runs before its traffic
	// is counted: the alive messages of the joins are retransmitted
	// RetransmitMult·⌈log10(n+1)⌉ times each, a few packets' worth per
	// gossip round, and n = 100 needs seconds to drain them.
	gossipSettle = 5 * time.Second
	// gossipWindow is how long the idle traffic is counted.
	gossipWindow = 5 * time.Second
)

// BenchmarkScale measures how one cluster scales.
//
// sim/n=N runs the consensus simulator (consensus/sim) with N honest nodes,
// real Ed25519 signatures, the default 1–20 ms network and no faults,
// until every node has decided simScaleHeights heights. It reports:
//
//   - decisions/s: decided heights per second of the simulator's VIRTUAL
//     time. It is the protocol's pace under the simulated network's delays
//     and timeouts, on an infinitely fast CPU: it says where quorum
//     collection slows a height, not what a Pi can sustain.
//   - cpu-ms/decision: process CPU (user+sys) per decided height. The
//     simulator runs every node on one goroutine, so this is the whole
//     cluster's work; cpu-ms/decision/node divides it by N, the share one
//     node's CPU pays. Both include the simulator's own bookkeeping and its
//     checker (one certificate verification per height), a few per cent.
//   - msgs/decision: consensus deliveries (one per message per recipient)
//     per height, across the cluster; report-msgs/decision the signed
//     sensor readings and action outcomes the simulated agents exchange
//     beside consensus.
//   - verifies/decision/node: signature verifications per height per node
//     (consensus and reports), so the Ed25519 cost on other hardware is
//     verifies × that hardware's verify time.
//   - later-rounds: heights that needed more than round 0 (should be 0).
//
// The simulator does not count bytes, so there is no bytes/decision; the
// consensus package's BenchmarkDecide reports wire bytes up to n = 16.
//
// memberlist/n=N starts N hashicorp/memberlist instances in this process on
// loopback (gossipLoopback), each on its own free port, configured as
// pact's membership package configures them (gossipConfig), and has N−1 of
// them join the first at once. memberlist-lan/n=N is the same with
// memberlist.DefaultLANConfig's timings. They report:
//
//   - ms-converge: from the joins starting until every instance lists all
//     N members alive; unconverged counts the runs that gave up after two
//     push/pull intervals (ms-converge is then that wait).
//   - udp-bytes/s/node, packets/s/node: what each instance sends over UDP
//     (encrypted, as it reaches the socket) per second while the converged
//     cluster is idle, counted over gossipWindow after gossipSettle. That
//     is probes and acks: no broadcast is left by then.
//   - pushpull-bytes: one full-state exchange over TCP, both directions,
//     and s-pushpull the period at which every instance starts one
//     (PushPullInterval, scaled up above 32 nodes). The first periodic
//     exchange comes at least one period after start, so the idle window
//     rarely sees one: it is measured apart, through a Join.
//   - bytes/s/node: the sum, UDP plus TCP in the window plus
//     pushpull-bytes / s-pushpull.
func BenchmarkScale(b *testing.B) {
	for _, n := range simScaleSizes {
		b.Run(fmt.Sprintf("sim/n=%d", n), func(b *testing.B) { benchScaleSim(b, n) })
	}
	for _, profile := range []string{"memberlist", "memberlist-lan"} {
		for _, n := range gossipScaleSizes {
			b.Run(fmt.Sprintf("%s/n=%d", profile, n), func(b *testing.B) {
				benchScaleGossip(b, n, profile == "memberlist")
			})
		}
	}
}

func benchScaleSim(b *testing.B, n int) {
	cfg := sim.DefaultConfig()
	cfg.Nodes, cfg.Heights = n, simScaleHeights
	var decided, msgs, reports, verifies, later uint64
	var virtual time.Duration
	cpu := cpuBusy()
	for i := 0; b.Loop(); i++ {
		cfg.Seed = uint64(i + 1)
		r, err := sim.Run(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if !r.OK() {
			b.Fatalf("n=%d seed %d: %v", n, cfg.Seed, r.Violations)
		}
		decided += r.DecidedHeights
		msgs += r.Messages.Sent
		reports += r.Reports.Network.Sent
		verifies += r.SignatureVerifications
		later += uint64(r.Rounds.Later)
		virtual += time.Duration(r.VirtualTimeMS) * time.Millisecond
	}
	cpu = cpuBusy() - cpu
	k := float64(decided)
	b.ReportMetric(k/virtual.Seconds(), "decisions/s")
	b.ReportMetric(1e3*cpu/k, "cpu-ms/decision")
	b.ReportMetric(1e3*cpu/k/float64(n), "cpu-ms/decision/node")
	b.ReportMetric(float64(msgs)/k, "msgs/decision")
	b.ReportMetric(float64(reports)/k, "report-msgs/decision")
	b.ReportMetric(float64(verifies)/k/float64(n), "verifies/decision/node")
	b.ReportMetric(float64(later), "later-rounds")
}

func benchScaleGossip(b *testing.B, n int, pi bool) {
	var converge time.Duration
	var unconverged int
	var udp, packets, streams, exchange uint64
	var interval time.Duration
	for b.Loop() {
		c := startGossipCluster(b, n, pi)
		took, ok := c.join(b)
		converge += took
		if !ok {
			unconverged++
			b.Logf("%d members not converged after %s; memberlist logged %s; %s", n, took, c.log.summary(), c.views())
		}
		time.Sleep(gossipSettle)
		before := c.traffic()
		time.Sleep(gossipWindow)
		after := c.traffic()
		udp += after.udp - before.udp
		packets += after.packets - before.packets
		streams += after.stream - before.stream
		exchange += c.pushPullBytes(b)
		interval = pushPullScale(c.pushPullInterval, n)
		c.shutdown()
		if c.log.total > 0 {
			b.Logf("memberlist logged %s", c.log.summary())
		}
	}
	if streams > 0 {
		// TCP fallback pings, or a periodic push/pull that started inside
		// the window (which bytes/s/node then also counts on average).
		b.Logf("%d bytes written to TCP streams during the idle window", streams)
	}
	per := float64(b.N) * float64(n) * gossipWindow.Seconds()
	pushPull := float64(exchange) / float64(b.N)
	b.ReportMetric(float64(converge.Milliseconds())/float64(b.N), "ms-converge")
	b.ReportMetric(float64(unconverged), "unconverged")
	b.ReportMetric(float64(udp)/per, "udp-bytes/s/node")
	b.ReportMetric(float64(packets)/per, "packets/s/node")
	b.ReportMetric(pushPull, "pushpull-bytes")
	b.ReportMetric(interval.Seconds(), "s-pushpull")
	b.ReportMetric(float64(udp+streams)/per+pushPull/interval.Seconds(), "bytes/s/node")
}

// gossipConfig is memberlist's configuration as pact's membership.New
// builds it (agent/membership/membership.go), with membership.ApplyPiProfile
// when pi is set and DefaultLANConfig's timings otherwise: the cluster name
// as the label, AES-GCM with one 32-byte key, verified both ways. What pact
// adds through its delegates is left out; it gossips a few bytes of meta
// per node.
func gossipConfig(name string, pi bool) *memberlist.Config {
	mc := memberlist.DefaultLANConfig()
	if pi {
		membership.ApplyPiProfile(mc)
	}
	mc.Name = name
	mc.Label = "bench-scale"
	kr, err := memberlist.NewKeyring(nil, []byte("bench-scale-gossip-key-32-bytes!"))
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	mc.Keyring = kr
	mc.GossipVerifyIncoming = true
	mc.GossipVerifyOutgoing = true
	mc.Logger = log.New(io.Discard, "", 0)
	return mc
}

// gossipCluster is n memberlist instances in this process.
type gossipCluster struct {
	members    []*memberlist.Memberlist
	counts     []*wireCounts
	once       sync.Once
	goroutines int // before the cluster started
	// pushPullInterval is the profile's, before memberlist scales it.
	pushPullInterval time.Duration
	log              *logTally
}

// startGossipCluster creates n instances, each alone, on free loopback
// ports. b.Cleanup shuts them down and checks that their goroutines are
// gone.
func startGossipCluster(b *testing.B, n int, pi bool) *gossipCluster {
	c := &gossipCluster{goroutines: runtime.NumGoroutine(), log: &logTally{counts: map[string]int{}}}
	b.Cleanup(func() {
		c.shutdown()
		// A stream handler still reading waits up to TCPTimeout (10 s in
		// the LAN profile) after its listener closed.
		if left := c.leftoverGoroutines(15 * time.Second); left > 0 {
			b.Errorf("%d goroutines still running after the cluster shut down", left)
		}
	})
	addr := gossipLoopback()
	for i := range n {
		nt, err := newNetTransport(addr)
		if err != nil {
			b.Fatal(err)
		}
		counts := &wireCounts{}
		t := countWire(counts)(nt) // wire_bench_test.go
		port := nt.GetAutoBindPort()
		mc := gossipConfig(fmt.Sprintf("node-%03d", i), pi)
		mc.Transport = t
		mc.Logger = log.New(c.log, "", 0)
		c.pushPullInterval = mc.PushPullInterval
		mc.BindAddr, mc.BindPort = addr, port
		mc.AdvertiseAddr, mc.AdvertisePort = addr, port
		m, err := memberlist.Create(mc)
		if err != nil {
			_ = t.Shutdown()
			b.Fatalf("node %d: %v", i, err)
		}
		c.members = append(c.members, m)
		c.counts = append(c.counts, counts)
	}
	return c
}

// gossipLoopback is the address the instances bind: 127.0.83.1 where the
// system routes all of 127.0.0.0/8 to loopback (Linux), so that other
// processes' memberlist tests on 127.0.0.1, still probing ports they
// used to hold, do not knock on this cluster's; 127.0.0.1 elsewhere.
func gossipLoopback() string {
	const quiet = "127.0.83.1"
	conn, err := net.ListenPacket("udp", quiet+":0")
	if err != nil {
		return "127.0.0.1"
	}
	_ = conn.Close()
	return quiet
}

// join has every instance but the first join the first, all at once, as
// a fleet that boots with one seed, and returns the time until every
// instance lists every other one alive. It gives up, returning false,
// after two push/pull intervals: by then every instance has made at least
// one full-state exchange, the backstop for the gossip that missed it.
func (c *gossipCluster) join(b *testing.B) (time.Duration, bool) {
	seed := c.members[0].LocalNode().Address()
	limit := 2 * c.pushPullInterval
	start := time.Now()
	errs := make(chan error, len(c.members))
	for _, m := range c.members[1:] {
		go func() {
			_, err := m.Join([]string{seed})
			errs <- err
		}()
	}
	for range c.members[1:] {
		if err := <-errs; err != nil {
			b.Fatalf("join: %v", err)
		}
	}
	for !c.converged() {
		if time.Since(start) > limit {
			return time.Since(start), false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start), true
}

func (c *gossipCluster) converged() bool {
	for _, m := range c.members {
		nodes := m.Members()
		if len(nodes) != len(c.members) {
			return false
		}
		for _, node := range nodes {
			if node.State != memberlist.StateAlive {
				return false
			}
		}
	}
	return true
}

// sent is what instances have sent: bytes in UDP packets, the packets,
// and bytes written to TCP streams.
type sent struct{ udp, packets, stream uint64 }

// views says, for the instances that do not see every member alive, what
// they see instead.
func (c *gossipCluster) views() string {
	var out []string
	for _, m := range c.members {
		states := map[memberlist.NodeStateType]int{}
		for _, node := range m.Members() {
			states[node.State]++
		}
		if states[memberlist.StateAlive] != len(c.members) {
			out = append(out, fmt.Sprintf("%s: %d alive, %d suspect of %d", m.LocalNode().Name,
				states[memberlist.StateAlive], states[memberlist.StateSuspect], len(m.Members())))
		}
	}
	return strings.Join(out, "; ")
}

// traffic sums what every instance has sent so far.
func (c *gossipCluster) traffic() sent {
	var s sent
	for _, n := range c.counts {
		s.udp += n.udpOut.Load()
		s.packets += n.udpPktsOut.Load()
		s.stream += n.tcpOut.Load()
	}
	return s
}

// pushPullBytes measures one push/pull, the full-state exchange every
// instance starts with a random peer once per push/pull interval: a Join
// of a member already known is exactly that exchange. It returns the TCP
// bytes both sides wrote.
func (c *gossipCluster) pushPullBytes(b *testing.B) uint64 {
	before := c.traffic()
	if _, err := c.members[1].Join([]string{c.members[0].LocalNode().Address()}); err != nil {
		b.Fatalf("push/pull: %v", err)
	}
	// The answering side counts its write when Write returns, which may
	// be after the joining side has read it.
	time.Sleep(100 * time.Millisecond)
	return c.traffic().stream - before.stream
}

// pushPullScale is the period at which each instance starts a push/pull in
// a cluster of n, as memberlist's unexported pushPullScale (util.go)
// computes it: PushPullInterval, times 1 + ⌈log2(n) − log2(32)⌉ above 32
// nodes.
func pushPullScale(interval time.Duration, n int) time.Duration {
	if n <= 32 {
		return interval
	}
	return time.Duration(math.Ceil(math.Log2(float64(n))-math.Log2(32))+1) * interval
}

// shutdown stops every instance without leaving: the whole cluster goes at
// once, and n leave broadcasts would be traffic nobody is left to hear.
func (c *gossipCluster) shutdown() {
	c.once.Do(func() {
		for _, m := range c.members {
			_ = m.Shutdown()
		}
	})
}

// leftoverGoroutines waits up to limit for the goroutine count to fall back
// to what it was before the cluster started, and returns the excess.
func (c *gossipCluster) leftoverGoroutines(limit time.Duration) int {
	deadline := time.Now().Add(limit)
	for {
		left := runtime.NumGoroutine() - c.goroutines
		if left <= 0 || time.Now().After(deadline) {
			return max(left, 0)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logTally counts memberlist's warnings and errors by kind: the first
// words of the message, before any address or value.
type logTally struct {
	mu     sync.Mutex
	counts map[string]int
	total  int
}

func (l *logTally) Write(p []byte) (int, error) {
	line := string(p)
	if !strings.Contains(line, "[WARN]") && !strings.Contains(line, "[ERR]") {
		return len(p), nil
	}
	_, msg, _ := strings.Cut(line, "memberlist: ")
	words := strings.Fields(msg)
	kind := strings.Join(words[:min(4, len(words))], " ")
	l.mu.Lock()
	l.counts[kind]++
	l.total++
	l.mu.Unlock()
	return len(p), nil
}

// summary lists the kinds, most frequent first.
func (l *logTally) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total == 0 {
		return "no warning"
	}
	kinds := make([]string, 0, len(l.counts))
	for k := range l.counts {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int { return l.counts[b] - l.counts[a] })
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%d× %q", l.counts[k], k))
	}
	return strings.Join(parts, ", ")
}

// newNetTransport binds memberlist's NetTransport to a free port of addr,
// for both TCP and UDP, trying a few ports as memberlist.Create does when
// BindPort is 0: the UDP side of the port TCP got may be taken.
func newNetTransport(addr string) (*memberlist.NetTransport, error) {
	var err error
	for range 10 {
		var nt *memberlist.NetTransport
		nt, err = memberlist.NewNetTransport(&memberlist.NetTransportConfig{
			BindAddrs: []string{addr},
			Logger:    log.New(io.Discard, "", 0),
		})
		if err == nil {
			return nt, nil
		}
	}
	return nil, fmt.Errorf("no free loopback port for memberlist: %w", err)
}
