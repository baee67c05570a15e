package bench

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/consensus"
)

// The pact side of every comparison: n consensus nodes, each driven the way
// agent/loop.go drives one — one goroutine owns the node, steps what the
// transport delivers, ticks, takes entries, and after every event carries
// out the Ready: persist (guard and commits in one fsynced transaction),
// then send, then Advance. What the agent adds on top (its application,
// memberlist, MQTT) is left out; what it relies on for safety (the guard
// written before any message leaves, every signature checked by the
// transport's workers and again by the core) is all here.

const (
	benchCluster = "bench"
	// pactTick is the agent's tick. On the happy path no timeout fires, so
	// it does not enter the figures; it only has to be the one the
	// consensus timeouts (consensus.DefaultConfig, in ticks) were made for.
	pactTick = 100 * time.Millisecond
	// entryBytes is about the size of an agent's assignment entry.
	entryBytes = 64
	// waitLimit bounds every wait for a decision: a broken run fails
	// instead of hanging. It is not a speed expectation.
	waitLimit = 60 * time.Second
)

// durability says where a node keeps what must survive a crash.
type durability string

const (
	inMemory durability = "mem"   // nothing reaches a disk
	onDisk   durability = "fsync" // bbolt files, fsynced on every write
)

// ledger is where a pact node makes a Ready durable before any of its
// messages leave: *store.Store on disk, memLedger in memory.
type ledger interface {
	SaveReady(guard *consensus.SignState, decided []consensus.Commit, snapshot *store.Snapshot) error
	Close() error
}

var (
	_ ledger = (*store.Store)(nil)
	_ ledger = (*memLedger)(nil)
)

// memLedger keeps the guard and forgets the commits: the in-memory twin of
// the store for the "mem" runs, as raft's InmemStore is raft's.
type memLedger struct {
	guard consensus.SignState
	last  uint64
}

func (m *memLedger) SaveReady(guard *consensus.SignState, decided []consensus.Commit, _ *store.Snapshot) error {
	if guard != nil {
		m.guard = *guard
	}
	for i := range decided {
		if h := decided[i].Block.Height; h != m.last+1 {
			return fmt.Errorf("commit at height %d after %d", h, m.last)
		}
		m.last++
	}
	return nil
}

func (m *memLedger) Close() error { return nil }

// decision is one height a node decided, when it had been persisted.
type decision struct {
	height  uint64
	entries int
	at      time.Time
}

// pactNode is one validator: its core, transport, ledger and loop.
type pactNode struct {
	id      consensus.NodeID
	node    *consensus.Node
	tr      *transport.Transport
	ledger  ledger
	propose chan []consensus.Entry
	decided chan decision
	refused atomic.Uint64 // messages the core refused, stale ones aside
	writes  *atomic.Uint64
	failed  atomic.Pointer[error]
}

// pactCluster is n pactNodes on one MemoryNetwork.
type pactCluster struct {
	nodes  []*pactNode
	vals   *consensus.ValidatorSet
	height uint64 // the next height to be decided
	stop   chan struct{}
	loops  sync.WaitGroup
	crypto cryptoCounts
	writes atomic.Uint64 // Readies persisted (fsynced transactions on disk), all nodes
}

// benchDir is where state files go: PACT_BENCH_DIR when set (the disk
// under test), else a temporary directory of the test.
func benchDir(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv("PACT_BENCH_DIR")
	if d == "" {
		return tb.TempDir()
	}
	dir, err := os.MkdirTemp(d, "pact-bench-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// nodeKey is validator i's key, from a fixed seed so runs are comparable.
func nodeKey(i int) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	binary.BigEndian.PutUint64(seed, uint64(i)+1)
	return ed25519.NewKeyFromSeed(seed)
}

// benchApp accepts every block and never changes the validator set.
type benchApp struct{}

func (benchApp) Validate(uint64, []consensus.Entry) error { return nil }
func (benchApp) Apply(_ uint64, _ []consensus.Entry, cur *consensus.ValidatorSet) *consensus.ValidatorSet {
	return cur
}

// newPactCluster starts n validators with real Ed25519 keys. The
// transports keep their defaults but for the per-validator rate limit:
// 100 messages/s with a burst of 200 is a flood guard sized for a Pi
// fleet's pace, and one decision a millisecond would exceed it within a
// second, so the benchmarks would measure the limiter's drops and the
// rebroadcast timeouts that recover from them.
func newPactCluster(tb testing.TB, n int, d durability) *pactCluster {
	tb.Helper()
	vals := make([]consensus.Validator, n)
	signers := make([]consensus.Signer, n)
	keys := make(map[string]consensus.PublicKey, n)
	for i := range n {
		s := consensus.Ed25519Signer{Key: nodeKey(i)}
		id := consensus.NodeID(fmt.Sprintf("node-%d", i+1))
		vals[i], signers[i] = consensus.Validator{ID: id, PubKey: s.PublicKey()}, s
		keys[string(id)] = s.PublicKey()
	}
	vs, err := consensus.NewValidatorSet(vals)
	if err != nil {
		tb.Fatal(err)
	}
	dir := ""
	if d == onDisk {
		dir = benchDir(tb)
	}
	c := &pactCluster{vals: vs, height: 1, stop: make(chan struct{})}
	counting := countingVerifier{Verifier: consensus.Ed25519Verifier{}, n: &c.crypto.verifies}
	network := transport.NewMemoryNetwork()
	for i, v := range vals {
		p := &pactNode{
			id:      v.ID,
			writes:  &c.writes,
			propose: make(chan []consensus.Entry, 16),
			decided: make(chan decision, 1<<16),
		}
		// As in the agent: one cache per node, shared by its transport and
		// its core, so a vote is verified once.
		verifier := consensus.NewVerifyCache(counting, 4096)
		ccfg := consensus.DefaultConfig()
		ccfg.Cluster, ccfg.ID = benchCluster, v.ID
		ccfg.Signer = countingSigner{Signer: signers[i], n: &c.crypto.signs}
		ccfg.Verifier = verifier
		ccfg.App, ccfg.Validators = benchApp{}, vs
		if p.node, err = consensus.NewNode(ccfg); err != nil {
			tb.Fatal(err)
		}
		if d == onDisk {
			st, err := store.Open(filepath.Join(dir, string(v.ID)+".db"), benchCluster, v.ID, nil)
			if err != nil {
				tb.Fatal(err)
			}
			p.ledger = st
		} else {
			p.ledger = &memLedger{}
		}
		tcfg := transport.DefaultConfig()
		tcfg.Self, tcfg.Cluster = string(v.ID), benchCluster
		tcfg.Verifier = verifier
		tcfg.Keys = func(name string) (consensus.PublicKey, bool) { k, ok := keys[name]; return k, ok }
		tcfg.RatePerSecond, tcfg.Burst = 1e6, 1e6
		var tr *transport.Transport
		link := network.Join(string(v.ID), func(frame []byte) { tr.Receive(frame) })
		if tr, err = transport.New(tcfg, link); err != nil {
			tb.Fatal(err)
		}
		p.tr = tr
		c.nodes = append(c.nodes, p)
	}
	for _, p := range c.nodes {
		c.loops.Add(1)
		go p.loop(c.stop, &c.loops)
	}
	tb.Cleanup(c.close)
	return c
}

// close stops the loops, then the transports and ledgers.
func (c *pactCluster) close() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	c.loops.Wait()
	for _, p := range c.nodes {
		p.tr.Close()
		p.ledger.Close()
	}
}

// loop is the node's one goroutine, as in agent/loop.go.
func (p *pactNode) loop(stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	ticker := time.NewTicker(pactTick)
	defer ticker.Stop()
	inbound := p.tr.Inbound()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
			p.node.Tick()
		case in, ok := <-inbound:
			if !ok {
				return
			}
			p.step(in)
			// As the agent does: step what else has arrived, then persist
			// once.
		batch:
			for range 64 {
				select {
				case in, ok := <-inbound:
					if !ok {
						return
					}
					p.step(in)
				default:
					break batch
				}
			}
		case es := <-p.propose:
			p.node.Propose(es...)
		}
		if err := p.flush(); err != nil {
			p.failed.Store(&err)
			return
		}
	}
}

func (p *pactNode) step(in transport.Inbound) {
	if in.Kind == transport.KindConsensus {
		if err := p.node.Step(in.Msg); err != nil && !errors.Is(err, consensus.ErrStale) {
			p.refused.Add(1)
		}
	}
}

// flush carries out the node's Ready: persist, then send, then Advance.
func (p *pactNode) flush() error {
	if !p.node.HasReady() {
		return nil
	}
	rd := p.node.Ready()
	if rd.SignState != nil || len(rd.Decided) > 0 {
		if err := p.ledger.SaveReady(rd.SignState, rd.Decided, nil); err != nil {
			return fmt.Errorf("%s: persist: %w", p.id, err)
		}
		p.writes.Add(1)
	}
	now := time.Now()
	for i := range rd.Decided {
		b := &rd.Decided[i].Block
		p.decided <- decision{height: b.Height, entries: len(b.Entries), at: now}
	}
	for _, m := range rd.Messages {
		p.tr.Send(m)
	}
	p.node.Advance()
	return nil
}

// await returns the node's decision of height h, skipping earlier ones.
func (p *pactNode) await(tb testing.TB, h uint64) decision {
	tb.Helper()
	timeout := time.NewTimer(waitLimit)
	defer timeout.Stop()
	for {
		select {
		case d := <-p.decided:
			if d.height >= h {
				return d
			}
		case <-timeout.C:
			var failure error
			if e := p.failed.Load(); e != nil {
				failure = *e
			}
			tb.Fatalf("%s: height %d not decided within %s (node at height %d, %d messages refused, loop error %v, transport %+v)",
				p.id, h, waitLimit, p.node.Height(), p.refused.Load(), failure, p.tr.Stats())
		}
	}
}

// entry returns the i-th distinct entry of a run.
func entry(i uint64) consensus.Entry {
	e := make(consensus.Entry, entryBytes)
	binary.BigEndian.PutUint64(e, i)
	copy(e[8:], "pact bench entry")
	return e
}

// decideOne hands e to every node, as the broker hands a request to every
// agent, and returns the time until the height's round-0 proposer (the
// node that orders it, raft's leader's counterpart) has decided it,
// persisted and applied. It then waits, untimed, until every node has
// decided the height, so that decisions are taken one at a time.
func (c *pactCluster) decideOne(tb testing.TB, e consensus.Entry) time.Duration {
	tb.Helper()
	h := c.height
	proposer := c.index(c.vals.Proposer(h, 0))
	batch := []consensus.Entry{e}
	t0 := time.Now()
	for _, p := range c.nodes {
		p.propose <- batch
	}
	d := c.nodes[proposer].await(tb, h)
	if d.height != h {
		tb.Fatalf("%s decided height %d, want %d", c.nodes[proposer].id, d.height, h)
	}
	for i, p := range c.nodes {
		if i != proposer {
			p.await(tb, h)
		}
	}
	c.height++
	return d.at.Sub(t0)
}

// decideBurst hands entries to every node at once and returns the time
// until node-1 has decided all of them, and in how many heights.
func (c *pactCluster) decideBurst(tb testing.TB, entries []consensus.Entry) (time.Duration, int) {
	tb.Helper()
	t0 := time.Now()
	for _, p := range c.nodes {
		p.propose <- entries
	}
	first := c.nodes[0]
	got, heights := 0, 0
	var last decision
	for got < len(entries) {
		last = first.await(tb, c.height)
		got += last.entries
		heights++
		c.height = last.height + 1
	}
	if got != len(entries) {
		tb.Fatalf("decided %d entries, handed over %d", got, len(entries))
	}
	for _, p := range c.nodes[1:] {
		p.await(tb, last.height)
	}
	return last.at.Sub(t0), heights
}

func (c *pactCluster) index(id consensus.NodeID) int {
	for i, p := range c.nodes {
		if p.id == id {
			return i
		}
	}
	panic(fmt.Sprintf("bench: %s is not a validator", id))
}

// stopAndCountRoundChanges stops the cluster and sums the nodes' rounds
// entered after round 0: zero on the happy path the benchmarks measure.
func (c *pactCluster) stopAndCountRoundChanges() uint64 {
	// Stats is read by the node's own goroutine only; the loops are
	// stopped first.
	c.close()
	var sum uint64
	for _, p := range c.nodes {
		sum += p.node.Stats().RoundChanges
	}
	return sum
}
