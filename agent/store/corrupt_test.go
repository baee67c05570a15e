package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/seed44533760/pact/consensus"
)

// What populated stores.
var (
	populatedGuard    = testGuard(201, 0, consensus.StepPrevote)
	populatedSnapshot = Snapshot{Height: 200, Data: bytes.Repeat([]byte("state "), 2000)}
)

func populatedCommits() []consensus.Commit {
	var decided []consensus.Commit
	for h := uint64(1); h <= 200; h++ {
		decided = append(decided, testCommit(h, 7, 0))
	}
	return decided
}

// populated returns a closed state file with a guard, 200 commits, a
// snapshot of 12 kB (several overflow pages) and two outbox messages.
func populated(t *testing.T) string {
	t.Helper()
	s := openTest(t, nil)
	g := populatedGuard
	if err := s.SaveReady(&g, populatedCommits(), &populatedSnapshot); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := s.Outbox().Put("pact/greenhouse/outcomes", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return s.Path()
}

// checkPopulated reports how s differs from what populated stored.
func checkPopulated(s *Store) error {
	if g, err := s.Guard(); err != nil || g != populatedGuard {
		return fmt.Errorf("Guard() = %v, %v", g, err)
	}
	got, err := s.Commits(0, 1000)
	want := populatedCommits()
	if err != nil || len(got) != len(want) {
		return fmt.Errorf("Commits: %d, %v", len(got), err)
	}
	for i := range want {
		if !commitsEqual(&got[i], &want[i]) {
			return fmt.Errorf("commit %d differs", want[i].Block.Height)
		}
	}
	if snap, err := s.Snapshot(); err != nil || snap.Height != populatedSnapshot.Height || !bytes.Equal(snap.Data, populatedSnapshot.Data) {
		return fmt.Errorf("Snapshot() differs (%v)", err)
	}
	n := 0
	for m, err := range s.Outbox().Pending() {
		if err != nil || m.Seq != uint64(n+1) || !bytes.Equal(m.Payload, []byte{byte(n)}) {
			return fmt.Errorf("outbox message %d: %+v, %v", n, m, err)
		}
		n++
	}
	if n != 2 {
		return fmt.Errorf("%d outbox messages", n)
	}
	return nil
}

// filePageSize is the page size bbolt chose for path (the OS page size,
// 16 kB on a Pi 5).
func filePageSize(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := readMeta(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	return m.pageSize
}

// flip changes one byte of a stored value, keeping its length.
func flip(tx *bolt.Tx, bucket, key []byte) error {
	v := bytes.Clone(tx.Bucket(bucket).Get(key))
	if v == nil {
		return fmt.Errorf("no %s/%x", bucket, key)
	}
	v[len(v)/2] ^= 0x10
	return tx.Bucket(bucket).Put(key, v)
}

var storedValues = []struct {
	name        string
	bucket, key []byte
	read        func(*Store) error
}{
	{"guard", bucketGuard, keyGuard, func(s *Store) error { _, err := s.Guard(); return err }},
	{"commit", bucketCommits, u64Key(150), func(s *Store) error { _, err := s.Commits(150, 150); return err }},
	{"snapshot", bucketState, keySnapshot, func(s *Store) error { _, err := s.Snapshot(); return err }},
	{"outbox", bucketOutbox, u64Key(1), func(s *Store) error {
		for _, err := range s.Outbox().Pending() {
			if err != nil {
				return err
			}
		}
		return nil
	}},
	{"cluster name", bucketMeta, keyCluster, nil},
}

// A damaged value read while the store is open is ErrCorrupt, and from then
// on the store refuses to write a guard: the agent stops signing.
func TestCorrupt_ValueReadWhileOpen(t *testing.T) {
	for _, tc := range storedValues {
		if tc.read == nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(populated(t), testCluster, testNode, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.db.Update(func(tx *bolt.Tx) error { return flip(tx, tc.bucket, tc.key) }); err != nil {
				t.Fatal(err)
			}
			if err := tc.read(s); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("read of a damaged %s: %v, want ErrCorrupt", tc.name, err)
			}
			if !errors.Is(s.Err(), ErrCorrupt) {
				t.Errorf("Err() = %v, want ErrCorrupt", s.Err())
			}
			if err := s.SaveGuard(testGuard(300, 0, consensus.StepPropose)); !errors.Is(err, ErrCorrupt) {
				t.Errorf("SaveGuard after corruption: %v, want ErrCorrupt", err)
			}
			if _, ok := s.Commit(100); ok {
				t.Error("Commit served a height from a store known to be corrupt")
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close after corruption: %v", err)
			}
		})
	}
}

// CommitLog has no error to return: a damaged commit reads as absent, but the
// store remembers it.
func TestCorrupt_CommitLogLookup(t *testing.T) {
	s, err := Open(populated(t), testCluster, testNode, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.db.Update(func(tx *bolt.Tx) error { return flip(tx, bucketCommits, u64Key(42)) }); err != nil {
		t.Fatal(err)
	}
	if c, ok := s.Commit(42); ok || c != nil {
		t.Fatalf("Commit(42) = %v, %v from a damaged value", c, ok)
	}
	if err := s.SaveReady(nil, []consensus.Commit{testCommit(201, 7, 0)}, nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("SaveReady after a damaged lookup: %v, want ErrCorrupt", err)
	}
}

// Open reads every value, so a damaged one anywhere stops the node before it
// signs anything.
func TestCorrupt_ValueFoundAtOpen(t *testing.T) {
	for _, tc := range storedValues {
		t.Run(tc.name, func(t *testing.T) {
			path := populated(t)
			withBolt(t, path, func(tx *bolt.Tx) error { return flip(tx, tc.bucket, tc.key) })
			_, err := Open(path, testCluster, testNode, nil)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Open: %v, want ErrCorrupt naming %s", err, path)
			}
			t.Log(err)
		})
	}
}

func TestCorrupt_MissingBucketOrKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*bolt.Tx) error
	}{
		{"guard bucket", func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketGuard) }},
		// Read as "never signed", a lost guard could make the node equivocate.
		{"guard", func(tx *bolt.Tx) error { return tx.Bucket(bucketGuard).Delete(keyGuard) }},
		{"meta bucket", func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketMeta) }},
		{"node name", func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyNode) }},
		{"a commit key of the wrong size", func(tx *bolt.Tx) error {
			k := []byte("h7")
			return tx.Bucket(bucketCommits).Put(k, seal(bucketCommits, k, nil))
		}},
		{"a value moved to another key", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketCommits)
			return b.Put(u64Key(201), bytes.Clone(b.Get(u64Key(200))))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := populated(t)
			withBolt(t, path, tc.edit)
			if _, err := Open(path, testCluster, testNode, nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
		})
	}
}

// A damaged file is an error that names the file and says "corrupt", never a
// panic, a crash or a fresh start.
func TestCorrupt_DamagedFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	ps := filePageSize(t, populated(t))
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"empty", func([]byte) []byte { return nil }},
		{"garbage", func(b []byte) []byte { return garbage(len(b)) }},
		{"short garbage", func([]byte) []byte { return garbage(100) }},
		{"truncated to half", func(b []byte) []byte { return b[:len(b)/2] }},
		{"truncated to the meta pages", func(b []byte) []byte { return b[:2*ps] }},
		{"both meta pages zeroed", func(b []byte) []byte { clear(b[:2*ps]); return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := populated(t)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = Open(path, testCluster, testNode, nil)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "corrupt") {
				t.Fatalf("Open: %v, want ErrCorrupt naming %s", err, path)
			}
			t.Log(err)
			if fi, err := os.Stat(path); err != nil || (fi.Size() == 0) != (len(tc.damage(b)) == 0) {
				t.Errorf("Open changed the damaged file: %v", err)
			}
		})
	}
}

// Damage to any one data page either hits a page in use, and Open reports
// ErrCorrupt, or a free one, and the store works. Nothing crashes.
func TestCorrupt_EveryPage(t *testing.T) {
	path := populated(t)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := filePageSize(t, path)
	pages := len(orig) / pageSize
	rng := rand.New(rand.NewPCG(3, 4))
	damages := []struct {
		name   string
		damage func(p []byte)
	}{
		{"zeroed", func(p []byte) { clear(p) }},
		{"random", func(p []byte) { fillRandom(rng, p) }},
		{"one bit", func(p []byte) { i := rng.IntN(len(p)); p[i] ^= 1 << rng.IntN(8) }},
		{"header byte", func(p []byte) { p[rng.IntN(16)] ^= byte(1 + rng.IntN(255)) }},
	}
	perPage := 2 // of the four kinds, chosen at random for each page
	if testing.Short() {
		perPage = 1
	}
	seen := map[string]int{}
	for pg := 2; pg < pages; pg++ { // 0 and 1 are the meta pages
		for _, k := range rng.Perm(len(damages))[:perPage] {
			name, damage := damages[k].name, damages[k].damage
			b := bytes.Clone(orig)
			damage(b[pg*pageSize : (pg+1)*pageSize])
			if bytes.Equal(b, orig) {
				continue
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, testCluster, testNode, nil)
			switch {
			case errors.Is(err, ErrCorrupt):
				seen["corrupt"]++
			case err != nil:
				t.Fatalf("page %d %s: Open: %v, want ErrCorrupt or success", pg, name, err)
			default:
				// The damage hit a free page or unused space: everything
				// must read back as it was.
				seen["ok"]++
				if err := checkPopulated(s); err != nil {
					t.Errorf("page %d %s: Open succeeded, but %v", pg, name, err)
				}
				_ = s.Close()
			}
		}
	}
	t.Logf("%d pages: %v", pages, seen)
	if seen["corrupt"] == 0 {
		t.Error("no damage was detected at all")
	}
}

func fillRandom(rng *rand.Rand, p []byte) {
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
}

// bbolt writes its two meta pages in turn. A power cut while the newer one
// is written (its commit never returned, so nothing signed under it left the
// node) leaves it torn; bbolt then opens the file at the previous commit,
// which is right. (The same fallback would hide a meta page damaged after
// its commit returned: see the package doc's Limits.)
func TestCorrupt_TornMetaPageOpensThePreviousCommit(t *testing.T) {
	path := populated(t)
	s, err := Open(path, testCluster, testNode, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveGuard(testGuard(300, 0, consensus.StepPropose)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := filePageSize(t, path)
	newest := 0
	if txid := func(pg int) uint64 { return le.Uint64(b[pg*ps+pageHeaderSize+48:]) }; txid(1) > txid(0) {
		newest = 1
	}
	b[newest*ps+pageHeaderSize+20] ^= 0xff // inside the root bucket's page id
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, testCluster, testNode, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := checkPopulated(s); err != nil {
		t.Error(err)
	}
}
