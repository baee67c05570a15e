package bench

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// The raft side of every comparison: n hashicorp/raft servers in this
// process over raft's InmemTransport, with raft's InmemStore ("mem") or
// raft-boltdb/v2 ("fsync": bbolt, as pact's store, fsynced on every
// StoreLogs). Raft signs nothing and verifies nothing: that, and its one
// fewer message round, is what pact pays for tolerating liars.

// raftConfig is raft's DefaultConfig, quiet, with heartbeat, election and
// leader lease timeouts of 2 s (defaults 1 s, 1 s, 500 ms: on this shared
// machine under load, a follower busy writing a burst to disk let the
// leader's lease run out, and the burst failed), and two changes for
// bursts:
//
//   - MaxAppendEntries 1,024 (default 64), the bound of pact's blocks
//     (consensus MaxBlockEntries). It matters more than it seems: a
//     replicator sends one batch of at most MaxAppendEntries per trigger
//     (pipelineSend), and the rest waits for the next trigger or the
//     CommitTimeout (50 ms); at 64 a 10,000-entry burst went at 1,000–3,000
//     entries/s.
//   - BatchApplyCh, so Applies queue in a channel of MaxAppendEntries and
//     the leader writes what waits there as one batch.
//
// A leader's Apply waits for its own and a quorum's log writes, never for a
// heartbeat or an election timeout, so the timings do not enter the
// figures of one decision at a time.
func raftConfig(id raft.ServerID) *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = id
	c.LogOutput = io.Discard
	c.LogLevel = "ERROR"
	c.HeartbeatTimeout = 2 * time.Second
	c.ElectionTimeout = 2 * time.Second
	c.LeaderLeaseTimeout = 2 * time.Second
	c.BatchApplyCh = true
	c.MaxAppendEntries = 1024
	// No snapshots during a run: they would charge one run a pause the
	// other never sees.
	c.SnapshotThreshold = 1 << 40
	c.SnapshotInterval = time.Hour
	return c
}

// raftRPCTimeout is how long an InmemTransport RPC may wait for the peer:
// raft's default of 500 ms is shorter than a busy disk's worst fsync.
const raftRPCTimeout = 10 * time.Second

// countingLogs counts StoreLogs calls: on the leader, each is one batch of
// entries written (and fsynced) together, raft's counterpart of a block.
type countingLogs struct {
	raft.LogStore
	batches atomic.Uint64
}

func (l *countingLogs) StoreLogs(logs []*raft.Log) error {
	l.batches.Add(1)
	return l.LogStore.StoreLogs(logs)
}

func (l *countingLogs) StoreLog(log *raft.Log) error {
	return l.StoreLogs([]*raft.Log{log})
}

// countFSM applies by counting.
type countFSM struct{ applied atomic.Uint64 }

func (f *countFSM) Apply(*raft.Log) any                 { f.applied.Add(1); return nil }
func (f *countFSM) Snapshot() (raft.FSMSnapshot, error) { return emptySnapshot{}, nil }
func (f *countFSM) Restore(r io.ReadCloser) error       { return r.Close() }

type emptySnapshot struct{}

func (emptySnapshot) Persist(sink raft.SnapshotSink) error { return sink.Close() }
func (emptySnapshot) Release()                             {}

// raftCluster is n servers, one of which leads.
type raftCluster struct {
	servers []*raft.Raft
	logs    []*countingLogs
	closers []io.Closer
	leader  int
	// leaderChanges counts the elections after the first: the leader
	// lost its office (on this machine, only under load, with fsync).
	leaderChanges int
}

func newRaftCluster(tb testing.TB, n int, d durability) *raftCluster {
	tb.Helper()
	c := &raftCluster{}
	dir := ""
	if d == onDisk {
		dir = benchDir(tb)
	}
	var cfg raft.Configuration
	addrs := make([]raft.ServerAddress, n)
	trans := make([]*raft.InmemTransport, n)
	for i := range n {
		id := raft.ServerID(fmt.Sprintf("node-%d", i+1))
		addrs[i], trans[i] = raft.NewInmemTransportWithTimeout(raft.ServerAddress(id), raftRPCTimeout)
		cfg.Servers = append(cfg.Servers, raft.Server{Suffrage: raft.Voter, ID: id, Address: addrs[i]})
	}
	for i := range n {
		for j := range n {
			if i != j {
				trans[i].Connect(addrs[j], trans[j])
			}
		}
	}
	tb.Cleanup(c.close)
	for i, s := range cfg.Servers {
		var logs raft.LogStore
		var stable raft.StableStore
		if d == onDisk {
			bs, err := raftboltdb.NewBoltStore(filepath.Join(dir, string(s.ID)+".raft.db"))
			if err != nil {
				tb.Fatal(err)
			}
			c.closers = append(c.closers, bs)
			logs, stable = bs, bs
		} else {
			st := raft.NewInmemStore()
			logs, stable = st, st
		}
		counted := &countingLogs{LogStore: logs}
		snaps := raft.NewDiscardSnapshotStore()
		if err := raft.BootstrapCluster(raftConfig(s.ID), counted, stable, snaps, trans[i], cfg); err != nil {
			tb.Fatal(err)
		}
		r, err := raft.NewRaft(raftConfig(s.ID), &countFSM{}, counted, stable, snaps, trans[i])
		if err != nil {
			tb.Fatal(err)
		}
		c.servers = append(c.servers, r)
		c.logs = append(c.logs, counted)
	}
	c.awaitLeader(tb)
	return c
}

// awaitLeader waits until one server leads and has committed its first
// entry of the term (Barrier), so the first measured Apply pays nothing
// of the election.
func (c *raftCluster) awaitLeader(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		for i, r := range c.servers {
			if r.State() == raft.Leader {
				if err := r.Barrier(waitLimit).Error(); err != nil {
					break
				}
				c.leader = i
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("no raft leader within %s", waitLimit)
}

func (c *raftCluster) close() {
	for _, r := range c.servers {
		r.Shutdown().Error()
	}
	c.servers = nil
	for _, cl := range c.closers {
		cl.Close()
	}
	c.closers = nil
}

// writes is how many log batches every server has written so far.
func (c *raftCluster) writes() uint64 {
	var sum uint64
	for _, l := range c.logs {
		sum += l.batches.Load()
	}
	return sum
}

// decideOne applies e on the leader and returns the time until Apply's
// future returns: e is stored by a quorum, committed, and applied to the
// leader's FSM. Should the leader lose its office meanwhile, e is applied
// again on the next one, and the time includes the election.
func (c *raftCluster) decideOne(tb testing.TB, e []byte) time.Duration {
	tb.Helper()
	t0 := time.Now()
	for {
		err := c.servers[c.leader].Apply(e, waitLimit).Error()
		if err == nil {
			return time.Since(t0)
		}
		c.leaderLost(tb, err)
	}
}

// leaderLost waits for the next leader after an Apply failed because the
// leader lost its office, and fails the benchmark on any other error.
func (c *raftCluster) leaderLost(tb testing.TB, err error) {
	tb.Helper()
	if !errors.Is(err, raft.ErrLeadershipLost) && !errors.Is(err, raft.ErrNotLeader) {
		tb.Fatalf("raft apply: %v", err)
	}
	c.leaderChanges++
	c.awaitLeader(tb)
}

// raftClients is how many goroutines hand a burst to the leader, as many
// clients would; Apply blocks while the apply channel is full.
const raftClients = 64

// decideBurst applies every entry at once from raftClients goroutines and
// returns the time until the last future returned, and how many batches
// the leader wrote. Entries whose leader lost its office are applied again
// on the next one.
func (c *raftCluster) decideBurst(tb testing.TB, entries [][]byte) (time.Duration, int) {
	tb.Helper()
	t0 := time.Now()
	batches := 0
	for len(entries) > 0 {
		leader := c.leader
		before := c.logs[leader].batches.Load()
		futures := make([]raft.ApplyFuture, len(entries))
		var wg sync.WaitGroup
		for w := range raftClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(entries); i += raftClients {
					futures[i] = c.servers[leader].Apply(entries[i], waitLimit)
				}
			}()
		}
		wg.Wait()
		var again [][]byte
		var lost error
		for i, f := range futures {
			if err := f.Error(); err != nil {
				again, lost = append(again, entries[i]), err
			}
		}
		batches += int(c.logs[leader].batches.Load() - before)
		if lost != nil {
			c.leaderLost(tb, lost)
		}
		entries = again
	}
	return time.Since(t0), batches
}
