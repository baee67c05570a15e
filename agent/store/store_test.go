package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/seed44533760/pact/consensus"
)

func TestOpen_CreatesPrivateFileAndDirectories(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "lib", "pact")
	path := filepath.Join(dir, "state.db")
	s, err := Open(path, testCluster, testNode, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("state file mode %o, want 600", m)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := di.Mode().Perm(); m != 0o700 {
		t.Errorf("data directory mode %o, want 700", m)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("data directory holds %v, want only state.db (no temporary file left)", entries)
	}
	if g, err := s.Guard(); err != nil || g != (consensus.SignState{}) {
		t.Errorf("fresh store: Guard() = %v, %v; want the zero guard", g, err)
	}
	if h := s.LastHeight(); h != 0 {
		t.Errorf("fresh store: LastHeight() = %d", h)
	}
	if snap, err := s.Snapshot(); snap != nil || err != nil {
		t.Errorf("fresh store: Snapshot() = %v, %v", snap, err)
	}
}

func TestOpen_RemovesLeftoversOfACrashedCreation(t *testing.T) {
	dir := t.TempDir()
	leftover := filepath.Join(dir, "state.db.new-123")
	if err := os.WriteFile(leftover, []byte("half-made"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "state.db"), testCluster, testNode, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover temporary file still there: %v", err)
	}
}

func TestOpen_RefusesAnotherOwner(t *testing.T) {
	s := openTest(t, nil)
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		cluster string
		node    consensus.NodeID
	}{
		{"other cluster", "orchard", testNode},
		{"other node", testCluster, "pi-4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(path, tc.cluster, tc.node, nil)
			if !errors.Is(err, ErrForeign) {
				t.Fatalf("Open as %s/%s: %v, want ErrForeign", tc.cluster, tc.node, err)
			}
			for _, want := range []string{path, testCluster, string(testNode)} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestOpen_SecondAgentFailsFast(t *testing.T) {
	s := openTest(t, nil)
	_, err := Open(s.Path(), testCluster, testNode, &Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "another pact agent") || !strings.Contains(err.Error(), s.Path()) {
		t.Errorf("error %q should ask about another agent and name the file", err)
	}
	// The first store is unaffected.
	if err := s.SaveGuard(testGuard(1, 0, consensus.StepPrevote)); err != nil {
		t.Fatal(err)
	}
}

func TestOpen_MustExist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	_, err := Open(path, testCluster, testNode, &Options{MustExist: true})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a missing file with MustExist: %v, want ErrCorrupt naming the path", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open with MustExist created the file")
	}
	s, err := Open(path, testCluster, testNode, nil)
	if err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, &Options{MustExist: true})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpen_SchemaFromTheFuture(t *testing.T) {
	s := openTest(t, nil)
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	withBolt(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte{schemaVersion + 1}))
	})
	if _, err := Open(path, testCluster, testNode, nil); !errors.Is(err, ErrSchema) {
		t.Fatalf("Open: %v, want ErrSchema", err)
	}
}

func TestOpen_RequiresNamesAndValidOptions(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "a.db"), "", testNode, nil); err == nil {
		t.Error("Open without a cluster name succeeded")
	}
	if _, err := Open(filepath.Join(dir, "b.db"), testCluster, "", nil); err == nil {
		t.Error("Open without a node name succeeded")
	}
	_, err := Open(filepath.Join(dir, "c.db"), testCluster, testNode, &Options{Timeout: -1, OutboxLimit: -1})
	if err == nil || !strings.Contains(err.Error(), "Timeout") || !strings.Contains(err.Error(), "OutboxLimit") {
		t.Errorf("Open with two bad options: %v, want both named", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed Opens left files: %v", entries)
	}
}

func TestOptions_Defaults(t *testing.T) {
	var nilOpts *Options
	for _, o := range []*Options{nilOpts, {}} {
		if got := o.withDefaults(); got != DefaultOptions() {
			t.Errorf("withDefaults(%v) = %+v, want %+v", o, got, DefaultOptions())
		}
	}
	d := DefaultOptions()
	if err := d.Validate(); err != nil {
		t.Errorf("DefaultOptions invalid: %v", err)
	}
}

func TestClose_Idempotent(t *testing.T) {
	s := openTest(t, nil)
	for range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if err := s.SaveGuard(testGuard(1, 0, consensus.StepPrevote)); !errors.Is(err, ErrClosed) {
		t.Errorf("SaveGuard after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Guard(); !errors.Is(err, ErrClosed) {
		t.Errorf("Guard after Close: %v, want ErrClosed", err)
	}
	if _, ok := s.Commit(1); ok {
		t.Error("Commit after Close found something")
	}
	if s.Err() != nil {
		t.Errorf("Err after a clean Close: %v", s.Err())
	}
}

// withBolt edits a closed state file behind the store's back.
func withBolt(t testing.TB, path string, fn func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}
