package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// load checks that the file belongs to this node and that every value in
// it is whole, then fills the caches. checkPages has already walked the
// structure; this reads every value: an SD card that returns garbage for an
// old commit is not to be trusted with the guard either, and the time to find
// out is before the first signature, not while serving a peer.
func (s *Store) load(cluster, node string) error {
	return s.guarded(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			if err := checkOwner(tx, cluster, node); err != nil {
				return fmt.Errorf("%w (%s)", err, s.path)
			}
			if err := s.scan(tx); err != nil {
				return fmt.Errorf("%w (%s)", err, s.path)
			}
			return nil
		})
	})
}

// checkOwner compares the meta bucket with the names Open was given.
func checkOwner(tx *bolt.Tx, cluster, node string) error {
	m := tx.Bucket(bucketMeta)
	if m == nil {
		return fmt.Errorf("%w: no meta bucket", ErrCorrupt)
	}
	get := func(key []byte) ([]byte, error) {
		v := m.Get(key)
		if v == nil {
			return nil, fmt.Errorf("%w: meta/%s missing", ErrCorrupt, key)
		}
		return unseal(bucketMeta, key, v)
	}
	schema, err := get(keySchema)
	if err != nil {
		return err
	}
	if len(schema) != 1 || schema[0] != schemaVersion {
		return fmt.Errorf("%w: file has schema %x, this pact reads %d", ErrSchema, schema, schemaVersion)
	}
	c, err := get(keyCluster)
	if err != nil {
		return err
	}
	n, err := get(keyNode)
	if err != nil {
		return err
	}
	if !bytes.Equal(c, []byte(cluster)) || !bytes.Equal(n, []byte(node)) {
		return fmt.Errorf("%w: it is node %q's of cluster %q, not node %q's of cluster %q", ErrForeign, n, c, node, cluster)
	}
	return nil
}

// scan verifies the checksum of every value, decodes the guard and the
// snapshot, and counts what the caches need.
func (s *Store) scan(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		b := tx.Bucket(name)
		if b == nil {
			return fmt.Errorf("%w: bucket %s missing", ErrCorrupt, name)
		}
		err := b.ForEach(func(k, v []byte) error {
			p, err := unseal(name, k, v)
			if err != nil {
				return err
			}
			switch {
			case bytes.Equal(name, bucketCommits):
				h, err := keyU64(k)
				if err != nil {
					return err
				}
				s.last.Store(h) // keys ascend
			case bytes.Equal(name, bucketOutbox):
				if _, err := keyU64(k); err != nil {
					return err
				}
				s.outboxLen++
			case bytes.Equal(name, bucketExec):
				s.execLen++
			case bytes.Equal(name, bucketGuard):
				if _, err := decodeGuard(p); err != nil {
					return err
				}
			case bytes.Equal(name, bucketState):
				if _, err := decodeSnapshot(p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if _, err := getGuard(tx); err != nil {
		return err
	}
	// The newest commit is the one a restart builds on: decode it in full.
	if h := s.last.Load(); h > 0 {
		v := tx.Bucket(bucketCommits).Get(u64Key(h))
		p, err := unseal(bucketCommits, u64Key(h), v)
		if err != nil {
			return err
		}
		if _, err := decodeCommit(h, p); err != nil {
			return err
		}
	}
	return nil
}
