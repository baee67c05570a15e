package consensus_test

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// The benchmarks below measure what one decided height costs the whole
// cluster, so the protocol's own cost can be set against the signature
// verifications it cannot avoid (docs/BENCHMARKS.md states the goal and the
// figures). One iteration of BenchmarkDecide is one height: every node is
// handed the same entries, then messages are delivered — each through
// Marshal and Unmarshal, as on the wire, none lost — until every node has
// decided. Everything runs on the benchmark's goroutine, so wall time is the
// cluster's CPU time; us_cpu/decision additionally counts the garbage
// collector's background work where the platform can measure it
// (bench_cpu_unix_test.go).
//
// Identifiers carry a bench prefix because package consensus_test is shared
// with other test files.

// benchSizes are the cluster sizes the issue asks about: f = 1, 2, 3, 5.
var benchSizes = []int{4, 7, 10, 16}

const (
	benchCluster          = "bench"
	benchEntriesPerHeight = 4  // a few agent entries per block
	benchEntryBytes       = 64 // about the size of an assignment entry
)

// benchCounts is how often a cluster signed and verified. Only one goroutine
// drives a cluster, so plain counters do.
type benchCounts struct{ signs, verifies uint64 }

type benchCountingSigner struct {
	consensus.Signer
	counts *benchCounts
}

func (s benchCountingSigner) Sign(msg []byte) []byte {
	s.counts.signs++
	return s.Signer.Sign(msg)
}

type benchCountingVerifier struct {
	consensus.Verifier
	counts *benchCounts
}

func (v benchCountingVerifier) Verify(pub consensus.PublicKey, msg, sig []byte) bool {
	v.counts.verifies++
	return v.Verifier.Verify(pub, msg, sig)
}

// benchApp accepts every block and never changes the validator set.
type benchApp struct{}

func (benchApp) Validate(uint64, []consensus.Entry) error { return nil }
func (benchApp) Apply(_ uint64, _ []consensus.Entry, cur *consensus.ValidatorSet) *consensus.ValidatorSet {
	return cur
}

// benchKeys returns n validators with their signers and a verifier, for
// crypto "ed25519" (keys from fixed seeds, so runs are comparable) or "fake".
func benchKeys(tb testing.TB, n int, crypto string) ([]consensus.Validator, []consensus.Signer, consensus.Verifier) {
	tb.Helper()
	vals := make([]consensus.Validator, n)
	signers := make([]consensus.Signer, n)
	for i := range n {
		id := consensus.NodeID(fmt.Sprintf("n%02d", i))
		switch crypto {
		case "ed25519":
			seed := make([]byte, ed25519.SeedSize)
			binary.BigEndian.PutUint64(seed, uint64(i)+1)
			s := consensus.Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed)}
			vals[i], signers[i] = consensus.Validator{ID: id, PubKey: s.PublicKey()}, s
		case "fake":
			s := consensus.FakeSigner{Key: consensus.PublicKey(id)}
			vals[i], signers[i] = consensus.Validator{ID: id, PubKey: s.PublicKey()}, s
		default:
			tb.Fatalf("unknown crypto %q", crypto)
		}
	}
	if crypto == "ed25519" {
		return vals, signers, consensus.Ed25519Verifier{}
	}
	return vals, signers, consensus.FakeVerifier{}
}

// benchDelivery is one encoded message on its way to one node.
type benchDelivery struct {
	to   int
	wire []byte
}

// benchNet is a synchronous, lossless, in-order network of n nodes.
type benchNet struct {
	nodes  []*consensus.Node
	index  map[consensus.NodeID]int
	counts benchCounts

	queue []benchDelivery // FIFO from head
	head  int

	height    uint64   // next height to decide
	decided   []uint64 // heights each node has decided
	guards    []consensus.SignState
	wireBytes uint64 // bytes handed to the network, counted once per recipient
	delivered uint64 // messages handed to Step
}

func newBenchNet(tb testing.TB, n int, crypto string) *benchNet {
	tb.Helper()
	vals, signers, verifier := benchKeys(tb, n, crypto)
	vs, err := consensus.NewValidatorSet(vals)
	if err != nil {
		tb.Fatal(err)
	}
	net := &benchNet{
		index:   make(map[consensus.NodeID]int, n),
		height:  1,
		decided: make([]uint64, n),
		guards:  make([]consensus.SignState, n),
	}
	for i, v := range vals {
		cfg := consensus.DefaultConfig()
		cfg.Cluster = benchCluster
		cfg.ID = v.ID
		cfg.Signer = benchCountingSigner{Signer: signers[i], counts: &net.counts}
		cfg.Verifier = benchCountingVerifier{Verifier: verifier, counts: &net.counts}
		cfg.App = benchApp{}
		cfg.Validators = vs
		node, err := consensus.NewNode(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		net.nodes = append(net.nodes, node)
		net.index[v.ID] = i
	}
	return net
}

// decideHeight hands every node the same entries and delivers messages until
// the queue is empty; every node must then have decided the next height.
func (net *benchNet) decideHeight(tb testing.TB, entries []consensus.Entry) {
	for i, node := range net.nodes {
		node.Propose(entries...)
		net.drain(tb, i)
	}
	for net.head < len(net.queue) {
		d := net.queue[net.head]
		net.queue[net.head] = benchDelivery{}
		net.head++
		m, err := consensus.Unmarshal(d.wire)
		if err != nil {
			tb.Fatalf("unmarshal: %v", err)
		}
		net.delivered++
		// Votes that reach a node after it decided are the normal tail of a
		// height; anything else refused is a bug in the driver or the core.
		if err := net.nodes[d.to].Step(m); err != nil && !errors.Is(err, consensus.ErrStale) {
			tb.Fatalf("%s refused %s: %v", net.nodes[d.to].Status().ID, m, err)
		}
		net.drain(tb, d.to)
	}
	net.queue, net.head = net.queue[:0], 0
	for i, node := range net.nodes {
		if net.decided[i] != net.height || node.Height() != net.height+1 {
			tb.Fatalf("%s decided %d heights and is at height %d, want %d and %d; stats %+v",
				node.Status().ID, net.decided[i], node.Height(), net.height, net.height+1, node.Stats())
		}
	}
	net.height++
}

// drain does what the agent does with a Ready: keep the guard, apply the
// decisions, send the messages, Advance.
func (net *benchNet) drain(tb testing.TB, i int) {
	node := net.nodes[i]
	if !node.HasReady() {
		return
	}
	rd := node.Ready()
	if rd.SignState != nil {
		net.guards[i] = *rd.SignState
	}
	net.decided[i] += uint64(len(rd.Decided))
	if len(rd.Evidence) > 0 {
		tb.Fatalf("%s reported evidence in an honest cluster: %v", node.Status().ID, rd.Evidence[0].String())
	}
	for k := range rd.Messages {
		m := &rd.Messages[k]
		wire := m.Marshal()
		if m.To != "" {
			net.send(net.index[m.To], wire)
			continue
		}
		for j := range net.nodes {
			if j != i {
				net.send(j, wire)
			}
		}
	}
	node.Advance()
}

func (net *benchNet) send(to int, wire []byte) {
	net.queue = append(net.queue, benchDelivery{to: to, wire: wire})
	net.wireBytes += uint64(len(wire))
}

// benchEntries returns the entries proposed for height h: distinct per
// height, so no block is ever a duplicate of an earlier one.
func benchEntries(h uint64) []consensus.Entry {
	out := make([]consensus.Entry, benchEntriesPerHeight)
	for k := range out {
		e := make(consensus.Entry, benchEntryBytes)
		binary.BigEndian.PutUint64(e, h)
		binary.BigEndian.PutUint64(e[8:], uint64(k))
		out[k] = e
	}
	return out
}

// BenchmarkDecide measures one decided height of an n-node cluster with real
// and with fake signatures. ns/op and B/op are per decided height for the
// whole cluster; the custom metrics are documented in docs/BENCHMARKS.md.
func BenchmarkDecide(b *testing.B) {
	for _, n := range benchSizes {
		for _, crypto := range []string{"ed25519", "fake"} {
			b.Run(fmt.Sprintf("n=%d/%s", n, crypto), func(b *testing.B) {
				net := newBenchNet(b, n, crypto)
				// One warm-up height, so maps and buffers reach their
				// steady size before the clock starts.
				net.decideHeight(b, benchEntries(net.height))
				before := net.counts
				wireBefore, deliveredBefore := net.wireBytes, net.delivered
				cpuBefore, haveCPU := benchCPUTime()
				b.ReportAllocs()
				heights := 0
				for b.Loop() {
					net.decideHeight(b, benchEntries(net.height))
					heights++
				}
				cpuAfter, _ := benchCPUTime()
				elapsed := b.Elapsed()
				if !haveCPU {
					cpuBefore, cpuAfter = 0, elapsed
				}
				per := func(v float64) float64 { return v / float64(heights) }
				b.ReportMetric(float64(heights)/elapsed.Seconds(), "heights/s")
				b.ReportMetric(per(float64((cpuAfter - cpuBefore).Microseconds())), "us_cpu/decision")
				b.ReportMetric(per(float64(net.counts.verifies-before.verifies)), "verifies/decision")
				b.ReportMetric(per(float64(net.counts.signs-before.signs)), "signs/decision")
				b.ReportMetric(per(float64(net.delivered-deliveredBefore)), "msgs/decision")
				b.ReportMetric(per(float64(net.wireBytes-wireBefore)), "wireB/decision")
			})
		}
	}
}

// benchVoteSignBytes is what a validator signs for a precommit: the same
// length as the sign bytes of every proposal and vote in BenchmarkDecide
// (proposals sign the block hash, not the block).
func benchVoteSignBytes() []byte {
	m := &consensus.Message{Type: consensus.MsgPrecommit, Height: 1234, Round: 0, BlockHash: consensus.Hash{1, 2, 3}}
	return consensus.SignBytes(benchCluster, m)
}

// benchCPU reports process CPU time per iteration as ns_cpu/op, so the
// baselines compare with us_cpu/decision on the same footing: time the
// benchmark's thread was descheduled by other load counts in neither.
type benchCPU struct {
	start time.Duration
	ok    bool
}

func benchStartCPU() benchCPU {
	t, ok := benchCPUTime()
	return benchCPU{t, ok}
}

func (c benchCPU) report(b *testing.B) {
	if end, ok := benchCPUTime(); ok && c.ok && b.N > 0 {
		b.ReportMetric(float64(end-c.start)/float64(b.N), "ns_cpu/op")
	}
}

// BenchmarkSignEd25519 and BenchmarkVerifyEd25519 are the floor for one
// signature and one verification.
func BenchmarkSignEd25519(b *testing.B)   { benchSign(b, "ed25519") }
func BenchmarkVerifyEd25519(b *testing.B) { benchVerify(b, "ed25519") }

// BenchmarkSignFake and BenchmarkVerifyFake are what the fake runs of
// BenchmarkDecide spend on "cryptography", subtracted to get the protocol's
// own cost.
func BenchmarkSignFake(b *testing.B)   { benchSign(b, "fake") }
func BenchmarkVerifyFake(b *testing.B) { benchVerify(b, "fake") }

func benchSign(b *testing.B, kind string) {
	_, signers, _ := benchKeys(b, 1, kind)
	msg := benchVoteSignBytes()
	cpu := benchStartCPU()
	for b.Loop() {
		signers[0].Sign(msg)
	}
	cpu.report(b)
}

func benchVerify(b *testing.B, kind string) {
	vals, signers, v := benchKeys(b, 1, kind)
	msg := benchVoteSignBytes()
	sig := signers[0].Sign(msg)
	cpu := benchStartCPU()
	for b.Loop() {
		if !v.Verify(vals[0].PubKey, msg, sig) {
			b.Fatal("signature does not verify")
		}
	}
	cpu.report(b)
}

// BenchmarkCodec measures the wire format for the two messages that matter:
// a vote (most of the traffic) and a proposal carrying 100 entries.
func BenchmarkCodec(b *testing.B) {
	_, signers, _ := benchKeys(b, 1, "ed25519")
	vote := &consensus.Message{Type: consensus.MsgPrevote, From: "n00", Height: 1234, BlockHash: consensus.Hash{1, 2, 3}}
	vote.Signature = signers[0].Sign(consensus.SignBytes(benchCluster, vote))

	blk := &consensus.Block{Height: 1234}
	for k := range 100 {
		e := make(consensus.Entry, benchEntryBytes)
		binary.BigEndian.PutUint64(e, uint64(k))
		blk.Entries = append(blk.Entries, e)
	}
	prop := &consensus.Message{Type: consensus.MsgProposal, From: "n00", Height: 1234, POLRound: -1, BlockHash: blk.Hash(), Block: blk}
	prop.Signature = signers[0].Sign(consensus.SignBytes(benchCluster, prop))

	for _, c := range []struct {
		name string
		m    *consensus.Message
	}{{"vote", vote}, {"proposal100", prop}} {
		wire := c.m.Marshal()
		b.Run(c.name+"/marshal", func(b *testing.B) {
			b.SetBytes(int64(len(wire)))
			b.ReportAllocs()
			for b.Loop() {
				c.m.Marshal()
			}
		})
		b.Run(c.name+"/unmarshal", func(b *testing.B) {
			b.SetBytes(int64(len(wire)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := consensus.Unmarshal(wire); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyCommit measures checking a commit certificate for a 16-node
// set, what a node catching up pays per height. The certificate holds
// exactly a quorum of precommits, as the core builds them in a cluster
// without loss.
func BenchmarkVerifyCommit(b *testing.B) {
	const n = 16
	for _, crypto := range []string{"ed25519", "fake"} {
		b.Run(fmt.Sprintf("n=%d/%s", n, crypto), func(b *testing.B) {
			vals, signers, verifier := benchKeys(b, n, crypto)
			vs, err := consensus.NewValidatorSet(vals)
			if err != nil {
				b.Fatal(err)
			}
			blk := consensus.Block{Height: 1234, Entries: benchEntries(1234)}
			pre := &consensus.Message{Type: consensus.MsgPrecommit, Height: blk.Height, BlockHash: blk.Hash()}
			sb := consensus.SignBytes(benchCluster, pre)
			c := &consensus.Commit{Block: blk}
			for i := range vs.Quorum() {
				c.Votes = append(c.Votes, consensus.CommitVote{From: vals[i].ID, Signature: signers[i].Sign(sb)})
			}
			var counts benchCounts
			v := benchCountingVerifier{Verifier: verifier, counts: &counts}
			b.ReportAllocs()
			for b.Loop() {
				if err := consensus.VerifyCommit(benchCluster, c, vs, v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(counts.verifies)/float64(b.N), "verifies/op")
		})
	}
}
