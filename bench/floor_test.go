package bench

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/consensus"
)

// The floor of one decision, from parts measured in the same run:
//
//	3 one-way delays   proposal, prevotes, precommits: the good case of
//	                   PBFT, Tendermint and IBFT
//	1 + 2(2f+1) verifications   the proposal, then a quorum of prevotes
//	                   and a quorum of precommits, one after the other
//	1 fsync            the decision made durable (fsync runs only)
//
// It is a floor for this kind of protocol on this machine, not for pact's
// code: it leaves out everything pact does between those steps, including
// the guard it writes before each of its signatures and the verification
// the core repeats after the transport's.

// floorParts are the medians and 99th percentiles of the parts.
type floorParts struct {
	delay, verify, fsync [2]time.Duration // p50, p99
}

// verifications is how many Ed25519 verifications the floor counts for n
// validators.
func verifications(n int) int {
	f := (n - 1) / 3
	return 1 + 2*(2*f+1)
}

// floor composes the parts: index 0 the median, 1 the 99th percentile.
func (p floorParts) floor(n int, d durability, k int) time.Duration {
	t := 3*p.delay[k] + time.Duration(verifications(n))*p.verify[k]
	if d == onDisk {
		t += p.fsync[k]
	}
	return t
}

// measureFloor times each part: samples one-way deliveries through pact's
// transport on a MemoryNetwork, verifications of a signed prevote, and
// fsyncs of a small write in the directory the state files use.
func measureFloor(tb testing.TB, d durability, samples int) floorParts {
	tb.Helper()
	var p floorParts
	p.delay = quantiles(oneWayDelays(tb, samples))
	p.verify = quantiles(verifyTimes(samples * 4))
	if d == onDisk {
		p.fsync = quantiles(fsyncTimes(tb, benchDir(tb), samples))
	}
	return p
}

// oneWayDelays sends a prevote from one transport to another, one at a
// time, and times Send to its arrival on the receiver's Inbound channel:
// encoding, the link, decoding, the rate limiter, a verification worker
// and the channel — everything a message crosses but the signature check,
// which the floor counts on its own (the receiver verifies with fake
// signatures, which cost a tenth of a microsecond).
func oneWayDelays(tb testing.TB, samples int) []time.Duration {
	tb.Helper()
	network := transport.NewMemoryNetwork()
	open := func(name string) *transport.Transport {
		cfg := transport.DefaultConfig()
		cfg.Self, cfg.Cluster = name, benchCluster
		cfg.Verifier = consensus.FakeVerifier{}
		cfg.Keys = func(n string) (consensus.PublicKey, bool) { return consensus.PublicKey(n), true }
		cfg.RatePerSecond, cfg.Burst = 1e6, 1e6
		var tr *transport.Transport
		link := network.Join(name, func(frame []byte) { tr.Receive(frame) })
		tr, err := transport.New(cfg, link)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { tr.Close() })
		return tr
	}
	a, b := open("a"), open("b")
	signer := consensus.FakeSigner{Key: consensus.PublicKey("a")}
	out := make([]time.Duration, 0, samples)
	for i := range samples + samples/10 {
		m := consensus.Message{Type: consensus.MsgPrevote, From: "a", To: "b", Height: uint64(i + 1)}
		m.BlockHash[0] = 1
		m.Signature = signer.Sign(consensus.SignBytes(benchCluster, &m))
		t0 := time.Now()
		a.Send(m)
		select {
		case <-b.Inbound():
		case <-time.After(waitLimit):
			tb.Fatalf("prevote %d never arrived; stats %+v", i, b.Stats())
		}
		if i >= samples/10 { // the first tenth warms up
			out = append(out, time.Since(t0))
		}
	}
	return out
}

// verifyTimes times Ed25519 verifications of a prevote's sign bytes.
func verifyTimes(samples int) []time.Duration {
	s := consensus.Ed25519Signer{Key: nodeKey(0)}
	m := consensus.Message{Type: consensus.MsgPrevote, From: "node-1", Height: 1}
	m.BlockHash[0] = 1
	msg := consensus.SignBytes(benchCluster, &m)
	sig, pub := s.Sign(msg), s.PublicKey()
	var v consensus.Ed25519Verifier
	out := make([]time.Duration, 0, samples)
	for range samples {
		t0 := time.Now()
		if !v.Verify(pub, msg, sig) {
			panic("bench: a valid signature did not verify")
		}
		out = append(out, time.Since(t0))
	}
	return out
}

// fsyncTimes overwrites 128 bytes of a file in dir and fsyncs it, samples
// times, and times each write and fsync.
func fsyncTimes(tb testing.TB, dir string, samples int) []time.Duration {
	tb.Helper()
	f, err := os.Create(filepath.Join(dir, "fsync-probe"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 128)
	out := make([]time.Duration, 0, samples)
	for i := range samples {
		buf[0] = byte(i)
		t0 := time.Now()
		if _, err := f.WriteAt(buf, 0); err != nil {
			tb.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			tb.Fatal(err)
		}
		out = append(out, time.Since(t0))
	}
	return out
}

// quantiles returns the median and 99th percentile (nearest rank).
func quantiles(ds []time.Duration) [2]time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return [2]time.Duration{percentile(s, 50), percentile(s, 99)}
}

// percentile of sorted samples, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}
