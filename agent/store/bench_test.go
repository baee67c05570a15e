package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

// Benchmarks measure fsync, so where the file lives matters: set
// PACT_BENCH_DIR to a directory on the disk under test (the SD card on a Pi);
// the default is the test's temporary directory.
func benchStore(b *testing.B, opts *Options) *Store {
	b.Helper()
	dir := b.TempDir()
	if d := os.Getenv("PACT_BENCH_DIR"); d != "" {
		var err error
		if dir, err = os.MkdirTemp(d, "pact-bench-"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	s, err := Open(filepath.Join(dir, "state.db"), testCluster, testNode, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// One guard, one fsync'd commit: the latency every signed message waits for.
func BenchmarkSaveGuard(b *testing.B) {
	s := benchStore(b, nil)
	var h uint64
	for b.Loop() {
		h++
		if err := s.SaveGuard(testGuard(h, 0, consensus.StepPrevote)); err != nil {
			b.Fatal(err)
		}
	}
}

// A Ready that decides a height: the precommit guard and one commit with 7
// signatures, in one transaction; compaction runs with KeepHeights 10,000.
func BenchmarkSaveReady(b *testing.B) {
	for _, bc := range []struct {
		name     string
		snapshot int
	}{{"commit", -1}, {"commit+4kB-snapshot", 4 << 10}} {
		b.Run(bc.name, func(b *testing.B) {
			s := benchStore(b, nil)
			var h uint64
			data := make([]byte, max(bc.snapshot, 0))
			for b.Loop() {
				h++
				g := testGuard(h, 0, consensus.StepPrecommit)
				var snap *Snapshot
				if bc.snapshot >= 0 {
					snap = &Snapshot{Height: h, Data: data}
				}
				if err := s.SaveReady(&g, []consensus.Commit{testCommit(h, 7, 0)}, snap); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Serving catch-up from the log: one read transaction, checksum, decode.
func BenchmarkCommit(b *testing.B) {
	s := benchStore(b, nil)
	const n = 1000
	var batch []consensus.Commit
	for h := uint64(1); h <= n; h++ {
		batch = append(batch, testCommit(h, 7, 0))
	}
	if err := s.SaveReady(nil, batch, nil); err != nil {
		b.Fatal(err)
	}
	var h uint64
	for b.Loop() {
		h = h%n + 1
		if _, ok := s.Commit(h); !ok {
			b.Fatal("missing commit")
		}
	}
}

// Open of a full log (KeepHeights commits of 7 signatures): the page walk
// and the checksum of every value that run before the node may sign.
func BenchmarkOpen_FullLog(b *testing.B) {
	s := benchStore(b, nil)
	for h := uint64(1); h <= DefaultKeepHeights; h += 1000 {
		var batch []consensus.Commit
		for i := h; i < h+1000; i++ {
			batch = append(batch, testCommit(i, 7, 0))
		}
		if err := s.SaveReady(nil, batch, &Snapshot{Height: h + 999, Data: make([]byte, 32<<10)}); err != nil {
			b.Fatal(err)
		}
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := Open(path, testCluster, testNode, nil)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	}
}
