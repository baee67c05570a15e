package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/seed44533760/pact/consensus"
)

// Snapshot is the application's agreed state (validators, capability
// documents, assignment history) after applying the block decided at Height.
// The store keeps it opaque; Height 0 is the genesis state.
type Snapshot struct {
	Height uint64
	Data   []byte
}

// maxCompactPerSave bounds the commits one SaveReady deletes, so lowering
// KeepHeights on a full log costs many small transactions, not one huge one.
const maxCompactPerSave = 1024

// SaveReady persists what a consensus Ready asks to be durable, in one
// transaction: after a crash, all of it is on disk or none of it is. guard
// may be nil (unchanged), decided empty, snapshot nil (not taken this time).
// The agent calls it before it sends any of the Ready's messages.
//
// decided must continue the log: each commit's height is the next one, or
// one already stored for the same block (kept as it is). A gap, or a
// different block at a stored height, is refused with ErrRefused: the first
// is a caller's bug, the second a fork. A snapshot may not be older than the
// stored one nor of a height not decided. Then commits below
// LastHeight-KeepHeights+1 are deleted, but never one at or above the
// snapshot's height, and none at all before there is a snapshot: the
// snapshot plus the commits after it are the agreed state.
func (s *Store) SaveReady(guard *consensus.SignState, decided []consensus.Commit, snapshot *Snapshot) error {
	if guard == nil && len(decided) == 0 && snapshot == nil {
		return s.usable()
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var last uint64
	err := s.update(func(tx *bolt.Tx) error {
		if guard != nil {
			if err := putGuard(tx, *guard); err != nil {
				return err
			}
		}
		snapHeight, hasSnap, err := getSnapshotHeight(tx)
		if err != nil {
			return err
		}
		if last, err = appendCommits(tx, decided, snapHeight); err != nil {
			return err
		}
		if snapshot != nil {
			switch {
			case snapshot.Height > last:
				return fmt.Errorf("%w: snapshot at h=%d, but only %d heights are decided", ErrRefused, snapshot.Height, last)
			case hasSnap && snapshot.Height < snapHeight:
				return fmt.Errorf("%w: snapshot at h=%d is older than the stored one at h=%d", ErrRefused, snapshot.Height, snapHeight)
			}
			if err := tx.Bucket(bucketState).Put(keySnapshot, seal(bucketState, keySnapshot, encodeSnapshot(snapshot))); err != nil {
				return err
			}
			snapHeight, hasSnap = snapshot.Height, true
		}
		if !hasSnap {
			return nil
		}
		return s.compact(tx, last, snapHeight)
	})
	if err != nil {
		return err
	}
	s.last.Store(last)
	if guard != nil {
		s.markSigned()
	}
	return nil
}

// appendCommits stores decided after the log's end and returns the new last
// height.
func appendCommits(tx *bolt.Tx, decided []consensus.Commit, snapHeight uint64) (uint64, error) {
	b := tx.Bucket(bucketCommits)
	last, err := lastHeight(tx)
	if err != nil {
		return 0, err
	}
	last = max(last, snapHeight)
	for i := range decided {
		c := &decided[i]
		h := c.Block.Height
		switch {
		case h == last+1:
			if err := b.Put(u64Key(h), seal(bucketCommits, u64Key(h), encodeCommit(c))); err != nil {
				return 0, err
			}
			last = h
		case h == 0 || h > last+1:
			return 0, fmt.Errorf("%w: commit for h=%d after h=%d leaves a gap", ErrRefused, h, last)
		default:
			old, err := getCommit(tx, h)
			if err != nil {
				return 0, err
			}
			if old == nil {
				return 0, fmt.Errorf("%w: commit for h=%d, which was compacted away", ErrRefused, h)
			}
			if oh, nh := old.Block.Hash(), c.Block.Hash(); oh != nh {
				return 0, fmt.Errorf("%w: commit for h=%d decides block %s, the stored one decided %s", ErrRefused, h, nh, oh)
			}
			// The same block, perhaps with another quorum's signatures: keep
			// the stored certificate.
		}
	}
	return last, nil
}

// compact deletes the oldest commits the store no longer needs: those below
// both the KeepHeights window and the snapshot.
func (s *Store) compact(tx *bolt.Tx, last, snapHeight uint64) error {
	if last < s.opts.KeepHeights {
		return nil
	}
	below := min(last-s.opts.KeepHeights+1, snapHeight)
	var doomed [][]byte
	c := tx.Bucket(bucketCommits).Cursor()
	for k, _ := c.First(); k != nil && len(doomed) < maxCompactPerSave; k, _ = c.Next() {
		h, err := keyU64(k)
		if err != nil {
			return err
		}
		if h >= below {
			break
		}
		doomed = append(doomed, bytes.Clone(k))
	}
	b := tx.Bucket(bucketCommits)
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// LastHeight is the highest decided height stored; 0 if none.
func (s *Store) LastHeight() uint64 { return s.last.Load() }

// Commit returns the decided block at height with its certificate, for
// consensus.CommitLog. It reads one key and never waits for a writer. A
// damaged value reads as absent here (CommitLog has no error) but makes the
// store unusable, so the next SaveGuard fails and the agent stops signing.
func (s *Store) Commit(height uint64) (*consensus.Commit, bool) {
	var c *consensus.Commit
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		c, err = getCommit(tx, height)
		return err
	})
	return c, err == nil && c != nil
}

// Commits returns the stored commits with from <= height <= to, in height
// order. Heights compacted away are absent; since compaction removes only
// the oldest, what is returned has no gaps.
func (s *Store) Commits(from, to uint64) ([]consensus.Commit, error) {
	var out []consensus.Commit
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCommits).Cursor()
		for k, v := c.Seek(u64Key(from)); k != nil; k, v = c.Next() {
			h, err := keyU64(k)
			if err != nil {
				return err
			}
			if h > to {
				break
			}
			p, err := unseal(bucketCommits, k, v)
			if err != nil {
				return err
			}
			cm, err := decodeCommit(h, p)
			if err != nil {
				return err
			}
			out = append(out, *cm)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Snapshot returns the stored agreed state, or nil if none was saved.
func (s *Store) Snapshot() (*Snapshot, error) {
	var snap *Snapshot
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		snap, err = getSnapshot(tx)
		return err
	})
	return snap, err
}

func lastHeight(tx *bolt.Tx) (uint64, error) {
	k, _ := tx.Bucket(bucketCommits).Cursor().Last()
	if k == nil {
		return 0, nil
	}
	return keyU64(k)
}

func getCommit(tx *bolt.Tx, h uint64) (*consensus.Commit, error) {
	k := u64Key(h)
	v := tx.Bucket(bucketCommits).Get(k)
	if v == nil {
		return nil, nil
	}
	p, err := unseal(bucketCommits, k, v)
	if err != nil {
		return nil, err
	}
	return decodeCommit(h, p)
}

func getSnapshot(tx *bolt.Tx) (*Snapshot, error) {
	v := tx.Bucket(bucketState).Get(keySnapshot)
	if v == nil {
		return nil, nil
	}
	p, err := unseal(bucketState, keySnapshot, v)
	if err != nil {
		return nil, err
	}
	return decodeSnapshot(p)
}

// getSnapshotHeight reads the stored snapshot's height, checking its
// checksum but not copying its data.
func getSnapshotHeight(tx *bolt.Tx) (uint64, bool, error) {
	v := tx.Bucket(bucketState).Get(keySnapshot)
	if v == nil {
		return 0, false, nil
	}
	p, err := unseal(bucketState, keySnapshot, v)
	if err != nil {
		return 0, false, err
	}
	if len(p) < 8 {
		return 0, false, fmt.Errorf("%w: snapshot of %d bytes", ErrCorrupt, len(p))
	}
	return binary.BigEndian.Uint64(p), true, nil
}
