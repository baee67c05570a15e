package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Fencing and executions
//
// A performer drives an output only under an assignment newer than any it
// has executed on that output: the fencing token (the agreed height of the
// assignment, and its place in the block) of every execution is written here,
// fsynced, before the pin moves. After a crash the record says the action
// was begun, so a restarted agent reports it as interrupted instead of
// running it a second time.

// ErrFenced: the execution was refused because the output already ran an
// assignment with this token or a newer one, or the instance was begun
// before.
var ErrFenced = errors.New("fenced")

// maxExecutions bounds the execution records; the older half (lowest
// tokens) is dropped beyond it. Agreed state forgets assignments sooner than
// that. A variable for the test of the bound.
var maxExecutions = 8192

// Execution is the durable record of one assignment this node began.
type Execution struct {
	Instance string
	Output   string
	Token    uint64
	// Done is set once the outcome was recorded; Outcome is its payload.
	Done    bool
	Outcome []byte
}

// Fence is the newest token executed on output (0: none).
func (s *Store) Fence(output string) (uint64, error) {
	var tok uint64
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		tok, err = getFence(tx, output)
		return err
	})
	return tok, err
}

func getFence(tx *bolt.Tx, output string) (uint64, error) {
	k := []byte(output)
	v := tx.Bucket(bucketFences).Get(k)
	if v == nil {
		return 0, nil
	}
	p, err := unseal(bucketFences, k, v)
	if err != nil {
		return 0, err
	}
	if len(p) != 8 {
		return 0, fmt.Errorf("%w: fence of %q is %d bytes", ErrCorrupt, output, len(p))
	}
	return binary.BigEndian.Uint64(p), nil
}

// BeginExecution records, durably, that this node is about to drive output
// for instance under token. It fails with ErrFenced when the output's fence
// is already at token or beyond, or when the instance was begun before.
func (s *Store) BeginExecution(instance, output string, token uint64) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.update(func(tx *bolt.Tx) error {
		fence, err := getFence(tx, output)
		if err != nil {
			return err
		}
		if fence >= token {
			return fmt.Errorf("%w: %s ran token %d, not older than %d", ErrFenced, output, fence, token)
		}
		ex := tx.Bucket(bucketExec)
		if ex.Get([]byte(instance)) != nil {
			return fmt.Errorf("%w: %s was begun before", ErrFenced, instance)
		}
		k := []byte(output)
		if err := tx.Bucket(bucketFences).Put(k, seal(bucketFences, k, u64Key(token))); err != nil {
			return err
		}
		if err := putExecution(ex, &Execution{Instance: instance, Output: output, Token: token}); err != nil {
			return err
		}
		if s.execLen+1 > maxExecutions {
			n, err := pruneExecutions(ex)
			if err != nil {
				return err
			}
			s.execLen -= n
		}
		s.execLen++ // the transaction cannot fail after this point but at commit, which breaks the store
		return nil
	})
}

// FinishExecution stores the outcome of a begun instance.
func (s *Store) FinishExecution(instance string, outcome []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.update(func(tx *bolt.Tx) error {
		ex := tx.Bucket(bucketExec)
		e, err := getExecution(ex, instance)
		if err != nil {
			return err
		}
		if e == nil {
			return fmt.Errorf("store: finish %s: never begun", instance)
		}
		e.Done, e.Outcome = true, outcome
		return putExecution(ex, e)
	})
}

// Execution returns the record of instance, or nil.
func (s *Store) Execution(instance string) (*Execution, error) {
	var e *Execution
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		e, err = getExecution(tx.Bucket(bucketExec), instance)
		return err
	})
	return e, err
}

// Unfinished lists the executions begun and never finished: what a crash
// interrupted.
func (s *Store) Unfinished() ([]Execution, error) {
	var out []Execution
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketExec).ForEach(func(k, v []byte) error {
			e, err := decodeExecution(k, v)
			if err != nil {
				return err
			}
			if !e.Done {
				out = append(out, *e)
			}
			return nil
		})
	})
	return out, err
}

func getExecution(b *bolt.Bucket, instance string) (*Execution, error) {
	v := b.Get([]byte(instance))
	if v == nil {
		return nil, nil
	}
	return decodeExecution([]byte(instance), v)
}

// An execution is [token u64][done byte][output len uvarint][output][outcome].
func putExecution(b *bolt.Bucket, e *Execution) error {
	p := binary.BigEndian.AppendUint64(nil, e.Token)
	done := byte(0)
	if e.Done {
		done = 1
	}
	p = append(p, done)
	p = binary.AppendUvarint(p, uint64(len(e.Output)))
	p = append(p, e.Output...)
	p = append(p, e.Outcome...)
	k := []byte(e.Instance)
	return b.Put(k, seal(bucketExec, k, p))
}

func decodeExecution(k, v []byte) (*Execution, error) {
	p, err := unseal(bucketExec, k, v)
	if err != nil {
		return nil, err
	}
	bad := fmt.Errorf("%w: execution %q is malformed", ErrCorrupt, k)
	if len(p) < 9 {
		return nil, bad
	}
	e := &Execution{Instance: string(k), Token: binary.BigEndian.Uint64(p), Done: p[8] == 1}
	p = p[9:]
	n, m := binary.Uvarint(p)
	if m <= 0 || uint64(len(p)-m) < n {
		return nil, bad
	}
	e.Output = string(p[m : m+int(n)])
	e.Outcome = bytes.Clone(p[m+int(n):])
	return e, nil
}

// pruneExecutions drops the older half of the records and says how many.
func pruneExecutions(b *bolt.Bucket) (int, error) {
	type rec struct {
		key   []byte
		token uint64
	}
	var all []rec
	err := b.ForEach(func(k, v []byte) error {
		if len(v) < 8 {
			return fmt.Errorf("%w: execution %q is malformed", ErrCorrupt, k)
		}
		all = append(all, rec{bytes.Clone(k), binary.BigEndian.Uint64(v)})
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Drop every record whose token is below the median.
	tokens := make([]uint64, len(all))
	for i, r := range all {
		tokens[i] = r.token
	}
	median := nthSmallest(tokens, len(tokens)/2)
	n := 0
	for _, r := range all {
		if r.token < median {
			if err := b.Delete(r.key); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

func nthSmallest(v []uint64, n int) uint64 {
	c := slices.Clone(v)
	slices.Sort(c)
	return c[n]
}

// addBuckets creates the buckets of addedBuckets in a file that predates
// them.
func (s *Store) addBuckets() error {
	missing := false
	err := s.guarded(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			for _, name := range addedBuckets {
				if tx.Bucket(name) == nil {
					missing = true
				}
			}
			return nil
		})
	})
	if err != nil || !missing {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		for _, name := range addedBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
}
