package store

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/seed44533760/pact/consensus"
)

// checkPages must accept every file the store writes: a false alarm would
// keep a healthy node from signing. Random workloads (batches of commits,
// snapshots up to 64 kB that need overflow pages, compaction that fills the
// freelist, outbox churn) are checked after every step, and bbolt's own
// Tx.Check must agree.
func TestCheckPages_AcceptsWhatTheStoreWrites(t *testing.T) {
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 99))
		opts := &Options{KeepHeights: uint64(10 + rng.IntN(50))}
		s := openTest(t, opts)
		path := s.Path()
		var next uint64 = 1
		steps := 40
		if testing.Short() {
			steps = 15
		}
		for step := range steps {
			var batch []consensus.Commit
			for range rng.IntN(30) {
				batch = append(batch, testCommit(next, 1+rng.IntN(7), 0))
				next++
			}
			var snap *Snapshot
			if rng.IntN(2) == 0 {
				snap = &Snapshot{Height: next - 1, Data: bytes.Repeat([]byte{byte(step)}, rng.IntN(64<<10))}
			}
			g := testGuard(next, int32(step), consensus.StepPropose)
			if err := s.SaveReady(&g, batch, snap); err != nil {
				t.Fatal(err)
			}
			for range rng.IntN(5) {
				if _, err := s.Outbox().Put("t", make([]byte, rng.IntN(3000))); err != nil {
					t.Fatal(err)
				}
			}
			for m, err := range s.Outbox().Pending() {
				if err != nil {
					t.Fatal(err)
				}
				if rng.IntN(2) == 0 {
					if err := s.Outbox().Ack(m.Seq); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			checkBothWays(t, path)
			var err error
			if s, err = Open(path, testCluster, testNode, opts); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// checkBothWays runs checkPages and bbolt's Tx.Check on a healthy file.
func checkBothWays(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkPages(f, fi.Size()); err != nil {
		t.Fatalf("checkPages: %v", err)
	}
	f.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Fatalf("bbolt Check: %v", err)
	}
}
