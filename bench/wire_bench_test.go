package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/seed44533760/pact/agent"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/agent/membership"
	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/wire"
)

// BenchmarkWire measures what a node puts on the network, for four pact
// agents and for four bare memberlist nodes configured as pact configures
// them, all on loopback in this process. Every byte memberlist's transport
// sends or receives is counted (membership.Config.WrapTransport): UDP
// datagrams (probes, gossip, votes) and TCP streams (joins, push/pull,
// reliable messages), after encryption, with memberlist's label; IP, UDP
// and TCP headers, handshakes and acks are not. The agents' MQTT side is
// in memory (report.Memory) and reported apart, as its payload bytes.
//
//   - n=4/memberlist: membership.New with DefaultConfig (the Pi profile,
//     AES-GCM, the cluster label), no meta, no messages: memberlist's own
//     probing, gossip and push/pull.
//   - n=4/pact-idle: four agents with the default timings and a testnet's
//     simulated hardware, joined and agreed, doing nothing asked of them.
//   - n=4/pact-load: the same cluster sent wireRate signed blink requests a
//     second, as the broker would send them, for the whole window.
//
// Each reports bytes/s/node (sent, UDP and TCP; the cluster's mean per
// node), recv-bytes/s/node, the UDP and TCP parts, pkts/s/node (UDP
// datagrams sent) and tcp-conns/s/node (streams opened); the pact ones
// also mqtt-bytes/s/node and what the agents' transport sent (see
// reportFrames). Run with -benchtime 1x: one iteration is one window of
// wireWindow.
func BenchmarkWire(b *testing.B) {
	const n = 4
	// The pact cluster is started once, by the first of its two
	// sub-benchmarks that runs, lives until this benchmark ends, and is
	// idle before it is loaded.
	var pact *wireAgents
	agents := func(sub *testing.B) *wireAgents {
		if pact == nil {
			pact = startWireAgents(sub, b, n)
		}
		return pact
	}
	prefix := fmt.Sprintf("n=%d/", n)
	b.Run(prefix+"memberlist", func(b *testing.B) {
		nodes := startWireMembers(b, n)
		reportWire(b, nodes.counts, nil)
	})
	b.Run(prefix+"pact-idle", func(b *testing.B) {
		c := agents(b)
		c.reportFrames(b, func() { reportWire(b, c.counts, c.mqttBytes) })
	})
	b.Run(prefix+"pact-load", func(b *testing.B) {
		c := agents(b)
		stop := c.sendRequests(b, wireRate)
		performed := c.counter(b, "actions_performed")
		c.reportFrames(b, func() { reportWire(b, c.counts, c.mqttBytes) })
		sent := stop()
		// The last requests of the window are still being performed.
		deadline := time.Now().Add(15 * time.Second)
		for c.counter(b, "actions_performed")-performed < uint64(sent) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		done := c.counter(b, "actions_performed") - performed
		b.ReportMetric(float64(sent), "requests")
		b.ReportMetric(float64(done), "performed")
		if accused := c.counter(b, "accusations_made"); accused != 0 {
			b.Errorf("%d accusations in a cluster of honest agents", accused)
		}
	})
}

const (
	// wireWindow is one measurement: a whole push/pull period of the Pi
	// profile (15 s), so every node starts one push/pull in it, whatever
	// the phase of its timer.
	wireWindow = 15 * time.Second
	// wireSettle is waited after the cluster formed, so the window sees
	// the steady state and not the joins and the first exchanges.
	wireSettle = 5 * time.Second
	// wireWarm is how long after the first node started the first window
	// opens at the earliest. memberlist waits a random stagger below the
	// push/pull interval, then the interval, before a node's first
	// push/pull, so in the Pi profile it comes 15 to 30 s after the start;
	// from 15 s on, every window of 15 s holds exactly one per node.
	wireWarm = 16 * time.Second
	// wireRate is the load's requests per second, the rate
	// scripts/footprint.sh sends.
	wireRate = 10
	// wireCluster is the cluster's name, which memberlist puts in every
	// packet as its label: as long as a real one.
	wireCluster = "greenhouse"
)

// settleWire sleeps wireSettle, and longer if needed to reach wireWarm
// after started.
func settleWire(started time.Time) {
	time.Sleep(max(wireSettle, time.Until(started.Add(wireWarm))))
}

// wireCounts is what one node's transport carried.
type wireCounts struct {
	udpOut, udpIn, udpPktsOut, udpPktsIn atomic.Uint64
	tcpOut, tcpIn, tcpConns              atomic.Uint64
}

// wireTotals is the sum over a cluster's nodes at one moment.
type wireTotals struct {
	at                                   time.Time
	udpOut, udpIn, udpPktsOut, udpPktsIn uint64
	tcpOut, tcpIn, tcpConns              uint64
	mqtt                                 uint64
}

func sumWire(counts []*wireCounts, mqtt func() uint64) wireTotals {
	t := wireTotals{at: time.Now()}
	for _, c := range counts {
		t.udpOut += c.udpOut.Load()
		t.udpIn += c.udpIn.Load()
		t.udpPktsOut += c.udpPktsOut.Load()
		t.udpPktsIn += c.udpPktsIn.Load()
		t.tcpOut += c.tcpOut.Load()
		t.tcpIn += c.tcpIn.Load()
		t.tcpConns += c.tcpConns.Load()
	}
	if mqtt != nil {
		t.mqtt = mqtt()
	}
	return t
}

// reportWire waits wireWindow per iteration and reports the cluster's
// traffic in it, per node and second.
func reportWire(b *testing.B, counts []*wireCounts, mqtt func() uint64) {
	first := sumWire(counts, mqtt)
	for b.Loop() {
		time.Sleep(wireWindow)
	}
	last := sumWire(counts, mqtt)
	per := float64(len(counts)) * last.at.Sub(first.at).Seconds()
	rate := func(a, z uint64) float64 { return float64(z-a) / per }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(rate(first.udpOut+first.tcpOut, last.udpOut+last.tcpOut), "bytes/s/node")
	b.ReportMetric(rate(first.udpIn+first.tcpIn, last.udpIn+last.tcpIn), "recv-bytes/s/node")
	b.ReportMetric(rate(first.udpOut, last.udpOut), "udp-bytes/s/node")
	b.ReportMetric(rate(first.tcpOut, last.tcpOut), "tcp-bytes/s/node")
	b.ReportMetric(rate(first.udpPktsOut, last.udpPktsOut), "pkts/s/node")
	b.ReportMetric(rate(first.tcpConns, last.tcpConns), "tcp-conns/s/node")
	if mqtt != nil {
		b.ReportMetric(rate(first.mqtt, last.mqtt), "mqtt-bytes/s/node")
	}
}

// wireTransport hands every call on to memberlist's own transport and
// counts the bytes: datagrams as they are written and as they arrive,
// streams as they are read and written.
type wireTransport struct {
	memberlist.NodeAwareTransport
	n        *wireCounts
	packets  chan *memberlist.Packet
	streams  chan net.Conn
	done     chan struct{}
	shutdown sync.Once
}

var _ memberlist.NodeAwareTransport = (*wireTransport)(nil)

// countWire returns a membership.TransportWrapper counting into n.
func countWire(n *wireCounts) membership.TransportWrapper {
	return func(inner memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
		t := &wireTransport{
			NodeAwareTransport: inner,
			n:                  n,
			packets:            make(chan *memberlist.Packet),
			streams:            make(chan net.Conn),
			done:               make(chan struct{}),
		}
		go t.forwardPackets()
		go t.forwardStreams()
		return t
	}
}

func (t *wireTransport) forwardPackets() {
	in := t.NodeAwareTransport.PacketCh()
	for {
		select {
		case p := <-in:
			t.n.udpIn.Add(uint64(len(p.Buf)))
			t.n.udpPktsIn.Add(1)
			select {
			case t.packets <- p:
			case <-t.done:
				return
			}
		case <-t.done:
			return
		}
	}
}

func (t *wireTransport) forwardStreams() {
	in := t.NodeAwareTransport.StreamCh()
	for {
		select {
		case c := <-in:
			select {
			case t.streams <- wireConn{Conn: c, n: t.n}:
			case <-t.done:
				c.Close()
				return
			}
		case <-t.done:
			return
		}
	}
}

func (t *wireTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }
func (t *wireTransport) StreamCh() <-chan net.Conn           { return t.streams }

func (t *wireTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	t.sent(len(b))
	return t.NodeAwareTransport.WriteTo(b, addr)
}

func (t *wireTransport) WriteToAddress(b []byte, addr memberlist.Address) (time.Time, error) {
	t.sent(len(b))
	return t.NodeAwareTransport.WriteToAddress(b, addr)
}

func (t *wireTransport) sent(n int) {
	t.n.udpOut.Add(uint64(n))
	t.n.udpPktsOut.Add(1)
}

func (t *wireTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.dialed(t.NodeAwareTransport.DialTimeout(addr, timeout))
}

func (t *wireTransport) DialAddressTimeout(addr memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return t.dialed(t.NodeAwareTransport.DialAddressTimeout(addr, timeout))
}

func (t *wireTransport) dialed(c net.Conn, err error) (net.Conn, error) {
	if err != nil {
		return nil, err
	}
	t.n.tcpConns.Add(1)
	return wireConn{Conn: c, n: t.n}, nil
}

func (t *wireTransport) Shutdown() error {
	t.shutdown.Do(func() { close(t.done) })
	return t.NodeAwareTransport.Shutdown()
}

// wireConn counts a stream's bytes in both directions.
type wireConn struct {
	net.Conn
	n *wireCounts
}

func (c wireConn) Read(p []byte) (int, error) {
	k, err := c.Conn.Read(p)
	c.n.tcpIn.Add(uint64(k))
	return k, err
}

func (c wireConn) Write(p []byte) (int, error) {
	k, err := c.Conn.Write(p)
	c.n.tcpOut.Add(uint64(k))
	return k, err
}

// wireMembers is the baseline: bare membership nodes.
type wireMembers struct {
	nodes  []*membership.Membership
	counts []*wireCounts
}

// startWireMembers starts n nodes on 127.0.94.1… with the configuration
// the agent gives membership when the cluster file says nothing about
// gossip, and waits until each sees all of them and settleWire.
func startWireMembers(b *testing.B, n int) *wireMembers {
	b.Helper()
	started := time.Now()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	w := &wireMembers{}
	for i := 1; i <= n; i++ {
		cfg := membership.DefaultConfig()
		cfg.Name, cfg.Cluster = fmt.Sprintf("node-%d", i), wireCluster
		cfg.BindAddr, cfg.BindPort = fmt.Sprintf("127.0.94.%d", i), 0
		cfg.GossipKeys = [][]byte{key}
		if i > 1 {
			cfg.Seeds = []string{w.nodes[0].LocalNode().Addr}
		}
		c := &wireCounts{}
		cfg.WrapTransport = countWire(c)
		m, err := membership.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = m.Shutdown() })
		if err := m.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		w.nodes, w.counts = append(w.nodes, m), append(w.counts, c)
	}
	awaitWire(b, 30*time.Second, "every node to see every node alive", func() string {
		for _, m := range w.nodes {
			if peers := len(m.Peers()); peers != n-1 {
				return fmt.Sprintf("%s sees %d peers", m.LocalNode().Name, peers)
			}
		}
		return ""
	})
	settleWire(started)
	return w
}

// wireAgents is a cluster of real agents: their memberlist on loopback,
// their MQTT side in memory.
type wireAgents struct {
	agents   []*agent.Agent
	reports  []*report.Memory
	counts   []*wireCounts
	operator ed25519.PrivateKey
	seq      int
}

// wireActions is the testnet's blink (cmd/pact/testnet.go): an LED on
// every node, verified by readback and by the witnesses of the next f+1
// nodes.
const wireActions = `actions:
  blink:
    needs: {output: led, output_kind: led}
    drive: {level: high, duration: 1s}
    params: {duration: {min: 100ms, max: 5s, default: 1s}}
    deadline: 10s
    verify: [readback, witness]
`

// startWireAgents writes a cluster file with the default timings and
// gossip settings and n agent files with a testnet's simulated hardware,
// starts the agents on 127.0.93.1…:7946, waits until every one holds every
// capability document, then settleWire. The agents and their files last
// as long as life; b is the benchmark that waits for them.
func startWireAgents(b *testing.B, life testing.TB, n int) *wireAgents {
	b.Helper()
	dir := life.TempDir()
	gossipKey := make([]byte, 32)
	_, _ = rand.Read(gossipKey)
	opPub, opKey, _ := ed25519.GenerateKey(rand.Reader)
	var vals strings.Builder
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("node-%d", i)
		if err := os.MkdirAll(filepath.Join(dir, name), 0o700); err != nil {
			b.Fatal(err)
		}
		k, err := identity.Create(filepath.Join(dir, name, "identity.key"))
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(&vals, "  %s: %s\n", name, identity.Public(k))
	}
	clusterFile := fmt.Sprintf("cluster: %s\ngossip_key: %s\nvalidators:\n%soperators:\n  ops: %s\n%s",
		wireCluster, base64.StdEncoding.EncodeToString(gossipKey), vals.String(), identity.PublicKeyString(opPub), wireActions)
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(clusterFile), 0o644); err != nil {
		b.Fatal(err)
	}

	w := &wireAgents{operator: opKey}
	started := time.Now()
	witnessPins := []string{"GPIO22", "GPIO23", "GPIO24"}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("node-%d", i)
		var witnesses strings.Builder
		for k := 1; k <= min((n-1)/3+1, len(witnessPins)); k++ {
			fmt.Fprintf(&witnesses, "\n    - {name: witness%d, kind: witness, pin: %s, pull: down, edge: both, watches: node-%d/led}",
				k, witnessPins[k-1], (i+k-1)%n+1)
		}
		agentFile := fmt.Sprintf(`node: %s
cluster_file: ../cluster.yaml
data_dir: data
key_file: identity.key
bind: 127.0.93.%d:7946
seeds: [127.0.93.1:7946, 127.0.93.2:7946]
zone: greenhouse
hardware:
  driver: sim
  sensors:
    - {name: temp, kind: temperature, driver: sim}
  outputs:
    - {name: led, kind: led, pin: GPIO17}
  inputs:%s
`, name, i, witnesses.String())
		path := filepath.Join(dir, name, "pact.yaml")
		if err := os.WriteFile(path, []byte(agentFile), 0o644); err != nil {
			b.Fatal(err)
		}
		acfg, cl, err := config.Load(path)
		if err != nil {
			b.Fatalf("%s: %v", path, err)
		}
		rcfg := report.DefaultConfig()
		rcfg.Cluster, rcfg.Node = wireCluster, name
		rcfg.Operators = map[string]ed25519.PublicKey{"ops": opPub}
		mem, err := report.NewMemory(rcfg)
		if err != nil {
			b.Fatal(err)
		}
		c := &wireCounts{}
		a, err := agent.New(acfg, cl, agent.Options{NoAdmin: true, Reports: mem, WrapTransport: countWire(c)})
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = a.Run(ctx) }()
		life.Cleanup(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
			}
		})
		w.agents, w.reports, w.counts = append(w.agents, a), append(w.reports, mem), append(w.counts, c)
	}
	awaitWire(b, 60*time.Second, "every agent to hold every capability document", func() string {
		for _, a := range w.agents {
			s, err := agentStatus(a)
			if err != nil {
				return err.Error()
			}
			if len(s.Capabilities) != n {
				return fmt.Sprintf("%s holds %d documents", s.Node, len(s.Capabilities))
			}
		}
		return ""
	})
	settleWire(started)
	return w
}

func agentStatus(a *agent.Agent) (agent.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return a.Status(ctx)
}

// counter sums one status counter over the agents.
func (w *wireAgents) counter(b *testing.B, name string) uint64 {
	var sum uint64
	for _, a := range w.agents {
		s, err := agentStatus(a)
		if err != nil {
			b.Fatal(err)
		}
		sum += s.Counters[name]
	}
	return sum
}

// reportFrames runs window and reports what pact's transport handed
// memberlist meanwhile: reliable-frames/s/node (each one a TCP stream of
// its own, as memberlist's SendReliable opens one per message),
// be-frames/s/node (best-effort, one datagram each), and heights/s, the
// heights node-1 decided.
func (w *wireAgents) reportFrames(b *testing.B, window func()) {
	height := func() uint64 {
		s, err := agentStatus(w.agents[0])
		if err != nil {
			b.Fatal(err)
		}
		return s.Height
	}
	t0, h0 := time.Now(), height()
	reliable, bestEffort := w.counter(b, "transport_sent_reliable"), w.counter(b, "transport_sent_best_effort")
	window()
	per := time.Since(t0).Seconds()
	b.ReportMetric(float64(w.counter(b, "transport_sent_reliable")-reliable)/per/float64(len(w.agents)), "reliable-frames/s/node")
	b.ReportMetric(float64(w.counter(b, "transport_sent_best_effort")-bestEffort)/per/float64(len(w.agents)), "be-frames/s/node")
	b.ReportMetric(float64(height()-h0)/per, "heights/s")
}

// mqttBytes is the topic and payload bytes the agents have published so
// far: what their MQTT side would carry to the broker, without MQTT's own
// framing.
func (w *wireAgents) mqttBytes() uint64 {
	var sum uint64
	for _, r := range w.reports {
		for _, p := range r.Published() {
			sum += uint64(len(p.Topic) + len(p.Payload))
		}
	}
	return sum
}

// sendRequests hands rate signed blink requests a second to every agent,
// as the broker hands each request to every subscriber, until the
// returned function is called; that returns how many were sent.
func (w *wireAgents) sendRequests(b *testing.B, rate int) (stop func() int) {
	topic := wire.Topics{Cluster: wireCluster}.Request("blink")
	quit, finished := make(chan struct{}), make(chan int)
	go func() {
		sent := 0
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for {
			select {
			case <-quit:
				finished <- sent
				return
			case <-tick.C:
			}
			w.seq++
			req := &wire.Request{
				Header: wire.Header{TS: wire.Timestamp(time.Now())},
				ID:     fmt.Sprintf("wire-%06d", w.seq),
				Action: "blink",
				Params: map[string]string{"duration": "100ms"},
			}
			if err := wire.SignRequest(wireCluster, req, w.operator); err != nil {
				b.Error(err)
				continue
			}
			payload, _ := json.Marshal(req)
			for _, r := range w.reports {
				r.Inject(topic, payload)
			}
			sent++
		}
	}()
	return func() int { close(quit); return <-finished }
}

// awaitWire polls cond until it returns "" or within passes; then it
// fails with cond's last complaint. within is a ceiling, not a speed
// expectation.
func awaitWire(b *testing.B, within time.Duration, what string, cond func() string) {
	b.Helper()
	deadline := time.Now().Add(within)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("after %s waiting for %s: %s", within, what, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
