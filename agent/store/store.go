package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/seed44533760/pact/consensus"
)

// Store is a node's durable state in one bbolt file. It is safe for
// concurrent use, though the agent calls it from the goroutine that owns the
// consensus node. Every method that writes is one bbolt transaction, and so
// one fsync'd commit: when it returns nil the write survives a crash.
type Store struct {
	path string
	opts Options
	db   *bolt.DB

	// wmu serialises writers (bbolt does too) so that the caches below are
	// updated in the same order as the commits they describe.
	wmu       sync.Mutex
	outboxLen int
	execLen   int

	last atomic.Uint64 // highest stored commit height

	marked bool // Options.SignedMarker exists (marker.go); under wmu

	mu      sync.Mutex
	closed  bool
	failure error // the first corruption or failed commit; sticky
}

var _ consensus.CommitLog = (*Store)(nil)

// Open opens the state file at path for the named cluster and node, creating
// it (and its directory, mode 0700) on first start unless opts.MustExist is
// set. cluster and node are not options: a state file belongs to exactly one
// node of one cluster, and Open refuses one that belongs to another
// (ErrForeign) rather than sign with someone else's guard.
//
// Open reads the whole file before it returns: every page's structure, then
// the checksum of every stored value. A damaged file is reported as
// ErrCorrupt naming the path; it is never repaired or replaced. A file that
// another process holds fails after opts.Timeout with ErrLocked.
func Open(path, cluster string, node consensus.NodeID, opts *Options) (*Store, error) {
	o := opts.withDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if cluster == "" || node == "" {
		return nil, fmt.Errorf("store: open %s: cluster and node names are required", path)
	}
	path = filepath.Clean(path)

	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if o.MustExist {
			return nil, fmt.Errorf("%w: %s is missing, and this node has signed before: restore it or re-provision the node, never start fresh", ErrCorrupt, path)
		}
		if o.SignedMarker != "" {
			if _, err := os.Stat(o.SignedMarker); err == nil {
				return nil, fmt.Errorf("%w: %s is missing, and %s says this node has signed before: restore it or re-provision the node, never start fresh", ErrCorrupt, path, o.SignedMarker)
			}
		}
		if err := create(path, cluster, string(node), o.Timeout); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("store: open %s: not a regular file", path)
	}

	f, err := lockFile(path, o.Timeout)
	switch {
	case errors.Is(err, errBusy):
		return nil, fmt.Errorf("%w: %s is held by another process (waited %s)", ErrLocked, path, o.Timeout)
	case err != nil:
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := checkFile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	db, err := openBolt(path, f, o.Timeout)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, opts: o, db: db}
	if err := s.addBuckets(); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := s.load(cluster, string(node)); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// checkFile refuses an empty file, which bbolt would quietly initialise
// (ours are created whole: temp file, fsync, link, fsync the directory, so
// an empty one is damage, not a first start), then checks the pages.
func checkFile(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return errors.New("the file is empty")
	}
	return checkPages(f, fi.Size())
}

// openBolt hands the locked, checked file to bbolt, with fsync on every
// commit and the freelist written to disk. With NoFreelistSync bbolt would
// rebuild the freelist at every open by walking the tree on a goroutine of
// its own, where a damaged page is an unrecoverable panic; synced, it costs
// one more page per commit. bbolt takes over f, and closes it on failure.
func openBolt(path string, f *os.File, timeout time.Duration) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			_ = f.Close() // releases the lock
			db, err = nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{
		Timeout:  timeout,
		OpenFile: func(string, int, os.FileMode) (*os.File, error) { return f, nil },
	})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum), errors.Is(err, bolterrors.ErrVersionMismatch):
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	return nil, fmt.Errorf("store: open %s: %w", path, err)
}

// Path is the state file's path.
func (s *Store) Path() string { return s.path }

// Err returns the error that made the store unusable — the first corruption
// it read or the first commit that failed — or nil. The agent polls it to
// raise an alert; every method returns it too.
func (s *Store) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failure
}

// Close closes the file and releases its lock. It may be called more than
// once; later calls return nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// usable returns why the store cannot be used, or nil.
func (s *Store) usable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failure != nil {
		return fmt.Errorf("store: %s unusable since an earlier failure: %w", s.path, s.failure)
	}
	if s.closed {
		return ErrClosed
	}
	return nil
}

// fail records the first failure; later calls keep the first.
func (s *Store) fail(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failure == nil {
		s.failure = err
	}
	return err
}

// view runs fn in a read transaction.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	if err := s.usable(); err != nil {
		return err
	}
	err := s.guarded(func() error { return s.db.View(fn) })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrCorrupt):
		return s.fail(err)
	case errors.Is(err, bolterrors.ErrDatabaseNotOpen):
		return ErrClosed
	}
	return err
}

// update runs fn in a write transaction, committed with fsync. An error fn
// returns leaves the store as it was; a failed commit makes the store
// unusable, because after a failed fsync nobody knows what reached the disk
// (the fsyncgate lesson): only reopening the file tells.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	if err := s.usable(); err != nil {
		return err
	}
	var fnErr error
	err := s.guarded(func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			fnErr = fn(tx)
			return fnErr
		})
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrCorrupt):
		return s.fail(err)
	case errors.Is(err, bolterrors.ErrDatabaseNotOpen):
		return ErrClosed
	case err == fnErr:
		return err
	}
	return s.fail(fmt.Errorf("store: commit to %s failed: %w", s.path, err))
}

// guarded runs fn and turns a panic into ErrCorrupt. bbolt trusts its pages:
// a damaged one makes it panic, or fault on a truncated mapping, which
// SetPanicOnFault turns into a panic too. A bbolt transaction releases its
// locks on the way out of a panic, and the store refuses all work after it.
func (s *Store) guarded(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, r)
		}
	}()
	return fn()
}
