package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/seed44533760/pact/consensus"
)

// create makes a new state file at path, whole or not at all: it builds the
// file under a temporary name, with its buckets and the owner's names
// committed and fsync'd, then links it into place and fsyncs the directory.
// Without the directory fsync a power cut could drop the new name (CometBFT's
// state rolled back that way, cometbft#6031) and the node would come back
// with no guard at all. Linking rather than renaming means two agents racing
// on a fresh directory cannot replace each other's file.
func create(path, cluster, node string, timeout time.Duration) error {
	dir := filepath.Dir(path)
	if err := mkdirAllDurable(dir); err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	// Leftovers of a creation that crashed hold nothing: nothing was ever
	// signed with them.
	if old, err := filepath.Glob(filepath.Join(dir, filepath.Base(path)+".new-*")); err == nil {
		for _, o := range old {
			_ = os.Remove(o)
		}
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".new-*") // mode 0600
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}

	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		m := tx.Bucket(bucketMeta)
		for _, kv := range [][2][]byte{
			{keySchema, []byte{schemaVersion}},
			{keyCluster, []byte(cluster)},
			{keyNode, []byte(node)},
		} {
			if err := m.Put(kv[0], seal(bucketMeta, kv[0], kv[1])); err != nil {
				return err
			}
		}
		// The guard exists from the start, as "never signed", so that a
		// guard that is missing later is damage, never a fresh node.
		return tx.Bucket(bucketGuard).Put(keyGuard, seal(bucketGuard, keyGuard, encodeGuard(consensus.SignState{})))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}

	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // another process created it first; Open opens theirs
		}
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	return nil
}

// mkdirAllDurable creates dir and any missing parents, mode 0700, fsyncing
// each new directory's parent so the new names survive a power cut.
func mkdirAllDurable(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAllDurable(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

// syncDir makes the names in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
