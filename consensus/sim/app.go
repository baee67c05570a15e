package sim

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/seed44533760/pact/consensus"
)

// The simulated application understands two kinds of entry, both plain bytes:
//
//	op/<anything>                  a client operation; <anything> is not empty
//	eject/<node>\x00<evidence>     remove <node> from the validator set;
//	                               <evidence> is consensus.Evidence.Marshal
//	                               of an equivocation by <node>
//
// A block is valid when every entry is well formed, none was decided before
// and none appears twice in it, and every eject names a current validator and
// carries evidence that verifies under that validator's key. Ejections take
// effect from the next height. The agent has its own, richer entries; these
// exist so the simulator exercises ejection end to end.
const (
	opPrefix    = "op/"
	ejectPrefix = "eject/"
)

// Errors of the simulated application.
var (
	errMalformedEntry = errors.New("malformed entry")
	errDuplicateEntry = errors.New("entry already decided")
	errBadEjection    = errors.New("ejection not justified")
)

// OpEntry is a client operation entry.
func OpEntry(op string) consensus.Entry { return consensus.Entry(opPrefix + op) }

// EjectEntry is the entry that ejects ev's offender, carrying ev as proof.
func EjectEntry(ev *consensus.Evidence) consensus.Entry {
	var b bytes.Buffer
	b.WriteString(ejectPrefix)
	b.WriteString(string(ev.Offender()))
	b.WriteByte(0)
	b.Write(ev.Marshal())
	return b.Bytes()
}

// parseEject splits an eject entry; ok is false for any other entry.
func parseEject(e consensus.Entry) (node consensus.NodeID, ev *consensus.Evidence, ok bool, err error) {
	if !bytes.HasPrefix(e, []byte(ejectPrefix)) {
		return "", nil, false, nil
	}
	name, proof, found := bytes.Cut(e[len(ejectPrefix):], []byte{0})
	if !found || len(name) == 0 {
		return "", nil, true, fmt.Errorf("%w: eject entry without a node name and evidence", errMalformedEntry)
	}
	ev, err = consensus.UnmarshalEvidence(proof)
	if err != nil {
		return "", nil, true, fmt.Errorf("%w: eject %s: %w", errMalformedEntry, name, err)
	}
	if ev.Offender() != consensus.NodeID(name) {
		return "", nil, true, fmt.Errorf("%w: eject %s with evidence against %s", errBadEjection, name, ev.Offender())
	}
	return consensus.NodeID(name), ev, true, nil
}

// Ejection is one decided ejection.
type Ejection struct {
	Node   string `json:"node"`
	Height uint64 `json:"height"`
}

// application is the simulated replicated state: the validator set and the
// set of decided entries. Each node has its own copy, rebuilt from its
// persisted log after a crash.
type application struct {
	cluster  string
	verifier consensus.Verifier

	next     uint64 // the height Validate judges; last applied + 1
	vals     *consensus.ValidatorSet
	decided  map[string]struct{}
	ejected  []Ejection
	onEject  func(Ejection) // nil during a replay after restart
	override func(height uint64, entries []consensus.Entry, honest error) error
}

var _ consensus.Application = (*application)(nil)

func newApplication(cluster string, genesis *consensus.ValidatorSet, v consensus.Verifier) *application {
	return &application{cluster: cluster, verifier: v, next: 1, vals: genesis, decided: make(map[string]struct{})}
}

// Validate implements consensus.Application.
func (a *application) Validate(height uint64, entries []consensus.Entry) error {
	err := a.validate(height, entries)
	if a.override != nil {
		return a.override(height, entries, err)
	}
	return err
}

func (a *application) validate(height uint64, entries []consensus.Entry) error {
	if height != a.next {
		return fmt.Errorf("block for height %d, application is at %d", height, a.next)
	}
	inBlock := make(map[string]struct{}, len(entries))
	for _, e := range entries {
		k := string(e)
		if _, dup := inBlock[k]; dup {
			return fmt.Errorf("%w: %.40q twice in one block", errDuplicateEntry, k)
		}
		inBlock[k] = struct{}{}
		if _, dup := a.decided[k]; dup {
			return fmt.Errorf("%w: %.40q", errDuplicateEntry, k)
		}
		if err := a.validateEntry(e); err != nil {
			return err
		}
	}
	return nil
}

func (a *application) validateEntry(e consensus.Entry) error {
	node, ev, isEject, err := parseEject(e)
	switch {
	case err != nil:
		return err
	case isEject:
		val, ok := a.vals.Get(node)
		if !ok {
			return fmt.Errorf("%w: %s is not a validator", errBadEjection, node)
		}
		if err := ev.Verify(a.cluster, val.PubKey, a.verifier); err != nil {
			return fmt.Errorf("%w: %s: %w", errBadEjection, node, err)
		}
		return nil
	case strings.HasPrefix(string(e), opPrefix) && len(e) > len(opPrefix):
		return nil
	}
	return fmt.Errorf("%w: %.40q", errMalformedEntry, e)
}

// Apply implements consensus.Application.
func (a *application) Apply(height uint64, entries []consensus.Entry, current *consensus.ValidatorSet) *consensus.ValidatorSet {
	if height != a.next {
		panic(fmt.Sprintf("sim: application at height %d asked to apply height %d", a.next, height))
	}
	next, ejected := nextValidators(current, entries)
	for _, e := range entries {
		a.decided[string(e)] = struct{}{}
	}
	for _, id := range ejected {
		ej := Ejection{Node: string(id), Height: height}
		a.ejected = append(a.ejected, ej)
		if a.onEject != nil {
			a.onEject(ej)
		}
	}
	a.next = height + 1
	a.vals = next
	return next
}

// nextValidators is the validator-set transition of one decided block: every
// ejected validator leaves (a set never becomes empty). The checker uses it
// too, to know which set must have signed each certificate.
func nextValidators(current *consensus.ValidatorSet, entries []consensus.Entry) (*consensus.ValidatorSet, []consensus.NodeID) {
	var ejected []consensus.NodeID
	for _, e := range entries {
		node, _, isEject, err := parseEject(e)
		if !isEject || err != nil || !current.Has(node) {
			continue
		}
		if smaller, err := current.Without(node); err == nil {
			current = smaller
			ejected = append(ejected, node)
		}
	}
	return current, ejected
}
