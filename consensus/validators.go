package consensus

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/seed44533760/pact/consensus/quorum"
)

// Validator is a voting member: a name bound to a public key.
type Validator struct {
	ID     NodeID
	PubKey PublicKey
}

// ValidatorSet is the set of validators in force at a height, kept sorted by
// ID so that every node derives the same proposer order. All validators have
// equal voting power. A ValidatorSet is immutable once built; changes make a
// new set.
type ValidatorSet struct {
	list   []Validator
	index  map[NodeID]int
	names  []string
	voters map[string]struct{} // shared, read-only, by every tally over the set
}

// NewValidatorSet builds a set; it rejects empty sets, empty names, duplicate
// names and empty keys.
func NewValidatorSet(vals []Validator) (*ValidatorSet, error) {
	if len(vals) == 0 {
		return nil, fmt.Errorf("%w: empty validator set", ErrConfig)
	}
	list := append([]Validator(nil), vals...)
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	vs := &ValidatorSet{list: list, index: make(map[NodeID]int, len(list))}
	for i, v := range list {
		if v.ID == "" {
			return nil, fmt.Errorf("%w: validator %d has an empty name", ErrConfig, i)
		}
		if len(v.ID) > maxIDLen {
			return nil, fmt.Errorf("%w: validator name %.20q… longer than %d bytes", ErrConfig, v.ID, maxIDLen)
		}
		if len(v.PubKey) == 0 {
			return nil, fmt.Errorf("%w: validator %q has no public key", ErrConfig, v.ID)
		}
		if _, dup := vs.index[v.ID]; dup {
			return nil, fmt.Errorf("%w: validator %q listed twice", ErrConfig, v.ID)
		}
		vs.index[v.ID] = i
		vs.names = append(vs.names, string(v.ID))
	}
	vs.voters = quorum.VoterSet(vs.names)
	return vs, nil
}

// Len is the number of validators.
func (vs *ValidatorSet) Len() int { return len(vs.list) }

// Quorum is the number of votes that decide: 2f+1.
func (vs *ValidatorSet) Quorum() int { return quorum.Threshold(len(vs.list)) }

// Faulty is f, how many Byzantine validators the set tolerates.
func (vs *ValidatorSet) Faulty() int { return quorum.Faulty(len(vs.list)) }

// Has reports whether id is a validator.
func (vs *ValidatorSet) Has(id NodeID) bool { _, ok := vs.index[id]; return ok }

// Get returns the validator named id.
func (vs *ValidatorSet) Get(id NodeID) (Validator, bool) {
	i, ok := vs.index[id]
	if !ok {
		return Validator{}, false
	}
	return vs.list[i], true
}

// List returns the validators sorted by ID. The caller must not modify it.
func (vs *ValidatorSet) List() []Validator { return vs.list }

// IDs returns the validator names sorted.
func (vs *ValidatorSet) IDs() []NodeID {
	out := make([]NodeID, len(vs.list))
	for i, v := range vs.list {
		out[i] = v.ID
	}
	return out
}

// Proposer is the validator that proposes at (height, round): round-robin over
// the sorted set, shifted by height so every validator leads in turn even when
// every height decides in round 0.
func (vs *ValidatorSet) Proposer(height uint64, round int32) NodeID {
	n := uint64(len(vs.list))
	return vs.list[(height+uint64(round))%n].ID
}

// Without returns a copy of the set without id; it fails when that would
// leave the set empty.
func (vs *ValidatorSet) Without(id NodeID) (*ValidatorSet, error) {
	out := make([]Validator, 0, len(vs.list))
	for _, v := range vs.list {
		if v.ID != id {
			out = append(out, v)
		}
	}
	return NewValidatorSet(out)
}

// With returns a copy of the set with v added or its key replaced.
func (vs *ValidatorSet) With(v Validator) (*ValidatorSet, error) {
	out := make([]Validator, 0, len(vs.list)+1)
	for _, old := range vs.list {
		if old.ID != v.ID {
			out = append(out, old)
		}
	}
	return NewValidatorSet(append(out, v))
}

// Equal reports whether two sets hold the same validators with the same keys.
func (vs *ValidatorSet) Equal(o *ValidatorSet) bool {
	if len(vs.list) != len(o.list) {
		return false
	}
	for i := range vs.list {
		if vs.list[i].ID != o.list[i].ID || !bytes.Equal(vs.list[i].PubKey, o.list[i].PubKey) {
			return false
		}
	}
	return true
}

func (vs *ValidatorSet) tally() *quorum.Tally[Hash] { return quorum.NewTallyOver[Hash](vs.voters) }
