package store

import (
	"cmp"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/seed44533760/pact/consensus"
)

// SaveGuard makes the double-sign guard durable: when it returns nil, the
// guard is fsync'd and survives a crash, and the messages signed under it may
// leave. It refuses (ErrRefused) a guard that would move the stored one back,
// which no correct caller asks for: the guard is only ever replaced by a
// later one, never deleted.
func (s *Store) SaveGuard(g consensus.SignState) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.update(func(tx *bolt.Tx) error { return putGuard(tx, g) }); err != nil {
		return err
	}
	s.markSigned()
	return nil
}

// Guard returns the last guard saved; the zero SignState if this node has
// never signed. An error (ErrCorrupt above all) means the node must not
// sign: it cannot know what it signed before.
func (s *Store) Guard() (consensus.SignState, error) {
	var g consensus.SignState
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		g, err = getGuard(tx)
		return err
	})
	return g, err
}

// getGuard reads the guard. It is written when the file is created, so a
// missing one is damage: reading it as "never signed" could let the node
// equivocate.
func getGuard(tx *bolt.Tx) (consensus.SignState, error) {
	b := tx.Bucket(bucketGuard)
	if b == nil {
		return consensus.SignState{}, fmt.Errorf("%w: guard bucket missing", ErrCorrupt)
	}
	v := b.Get(keyGuard)
	if v == nil {
		return consensus.SignState{}, fmt.Errorf("%w: guard missing", ErrCorrupt)
	}
	p, err := unseal(bucketGuard, keyGuard, v)
	if err != nil {
		return consensus.SignState{}, err
	}
	return decodeGuard(p)
}

// putGuard stores g if it does not move the guard back. The consensus core
// already never hands out an earlier guard; checking again where it becomes
// durable costs one small read in a transaction that is writing anyway, and
// turns a caller's mistake (a stale SignState after a restart, say) into an
// error instead of a rolled-back guard.
func putGuard(tx *bolt.Tx, g consensus.SignState) error {
	old, err := getGuard(tx)
	if err != nil {
		return err
	}
	switch c := compareHRS(g, old); {
	case c < 0:
		return fmt.Errorf("%w: guard %s would go back from %s", ErrRefused, g, old)
	case c == 0 && g != old:
		return fmt.Errorf("%w: guard %s differs from %s at the same height, round and step", ErrRefused, g, old)
	case c == 0:
		return nil
	}
	return tx.Bucket(bucketGuard).Put(keyGuard, seal(bucketGuard, keyGuard, encodeGuard(g)))
}

// compareHRS orders guards by (height, round, step), as the consensus core
// does.
func compareHRS(a, b consensus.SignState) int {
	if c := cmp.Compare(a.Height, b.Height); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Round, b.Round); c != 0 {
		return c
	}
	return cmp.Compare(a.Step, b.Step)
}
