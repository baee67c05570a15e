package sim

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/seed44533760/pact/consensus"
)

// The simulated application understands four kinds of entry, all plain
// bytes:
//
//	op/<anything>                  a client operation; <anything> is not empty.
//	                               A decided op requested at a time it names
//	                               (op/<id>@<ms>) is an action: one validator
//	                               performs it, others witness it (actions.go)
//	eject/<node>\x00<evidence>     remove <node> from the validator set;
//	                               <evidence> is consensus.Evidence.Marshal
//	                               of an equivocation by <node>
//	accuse/…                       a validator's signed accusation of another
//	                               (ledger.go); f+1 distinct accusers eject
//	mark/<node>/<nonce>            a witness's marker: the block holding it was
//	                               decided after the marker was made (pins.go)
//
// A block is valid when every entry is well formed, none was decided before
// and none appears twice in it, every eject names a current validator and
// carries evidence that verifies under that validator's key, and every
// accusation is between two current validators, recent, and signed by its
// accuser. Ejections take effect from the next height. The agent has its
// own, richer entries; these exist so the simulator exercises detection and
// ejection end to end.
const (
	opPrefix    = "op/"
	ejectPrefix = "eject/"
)

// Errors of the simulated application.
var (
	errMalformedEntry = errors.New("malformed entry")
	errDuplicateEntry = errors.New("entry already decided")
	errBadEjection    = errors.New("ejection not justified")
	errBadAccusation  = errors.New("accusation not valid")
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
	// Reason is "equivocation" (an eject entry with self-proving evidence)
	// or "accused" (f+1 distinct validators accused the node).
	Reason string `json:"reason"`
	// Accusers and Grounds, for an ejection by accusation: the validators
	// whose accusations counted, and the reasons they gave
	// ("inconsistent-readings", "witness-contradiction").
	Accusers []string `json:"accusers,omitempty"`
	Grounds  []string `json:"grounds,omitempty"`
}

// application is the simulated replicated state: the validator set with
// the accusations that may shrink it (ledger), and the set of decided
// entries. Each node has its own copy, rebuilt from its persisted log after
// a crash.
type application struct {
	cluster  string
	verifier consensus.Verifier

	next    uint64 // the height Validate judges; last applied + 1
	vals    *consensus.ValidatorSet
	ledger  *ledger
	decided map[string]struct{}
	ejected []Ejection

	// The process's hooks, nil during the replay of a restart: what was
	// decided before the crash was acted on before it. They run inside
	// consensus.Node.Step and must not call back into the node.
	onEject func(Ejection)
	// onOp is called for every decided op with the set in force at its
	// height, which assigns its performer and witnesses.
	onOp func(height uint64, op consensus.Entry, vals *consensus.ValidatorSet)
	// onBook is called for every decided op, replayed ones too: a witness
	// rebuilds from its log which ops were assigned to whom (pins.go).
	onBook func(height uint64, op consensus.Entry, vals *consensus.ValidatorSet)
	// onMark is called for every decided marker (pins.go).
	onMark func(height uint64, node consensus.NodeID, nonce string)

	override func(height uint64, entries []consensus.Entry, honest error) error
}

var _ consensus.Application = (*application)(nil)

func newApplication(cluster string, genesis *consensus.ValidatorSet, v consensus.Verifier) *application {
	return &application{cluster: cluster, verifier: v, next: 1, vals: genesis, ledger: newLedger(genesis), decided: make(map[string]struct{})}
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
		if err := a.validateEntry(height, e); err != nil {
			return err
		}
	}
	return nil
}

func (a *application) validateEntry(height uint64, e consensus.Entry) error {
	if acc, isAccusation, err := parseAccusation(e); isAccusation {
		if err != nil {
			return err
		}
		return a.validateAccusation(height, &acc)
	}
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
	if _, _, isMark, err := parseMark(e); isMark {
		return err
	}
	return fmt.Errorf("%w: %.40q", errMalformedEntry, e)
}

// validateAccusation accepts an accusation between two current validators,
// made at most accuseWindow heights ago, under the accuser's signature.
func (a *application) validateAccusation(height uint64, acc *accusation) error {
	accuser, ok := a.vals.Get(acc.accuser)
	switch {
	case !ok:
		return fmt.Errorf("%w: accuser %s is not a validator", errBadAccusation, acc.accuser)
	case !a.vals.Has(acc.accused):
		return fmt.Errorf("%w: %s is not a validator", errBadAccusation, acc.accused)
	case acc.accuser == acc.accused:
		return fmt.Errorf("%w: %s accuses itself", errBadAccusation, acc.accuser)
	case acc.height > height:
		return fmt.Errorf("%w: %s's accusation of %s is dated height %d, after %d", errBadAccusation, acc.accuser, acc.accused, acc.height, height)
	case acc.height+accuseWindow <= height:
		return fmt.Errorf("%w: %s's accusation of %s at height %d is too old for height %d", errBadAccusation, acc.accuser, acc.accused, acc.height, height)
	case !a.verifier.Verify(accuser.PubKey, accuseSignBytes(a.cluster, acc.text()), acc.sig):
		return fmt.Errorf("%w: %s's accusation of %s: bad signature", errBadAccusation, acc.accuser, acc.accused)
	}
	return nil
}

// Apply implements consensus.Application.
func (a *application) Apply(height uint64, entries []consensus.Entry, current *consensus.ValidatorSet) *consensus.ValidatorSet {
	if height != a.next {
		panic(fmt.Sprintf("sim: application at height %d asked to apply height %d", a.next, height))
	}
	for _, e := range entries {
		a.decided[string(e)] = struct{}{}
		if bytes.HasPrefix(e, []byte(opPrefix)) {
			if a.onBook != nil {
				a.onBook(height, e, current)
			}
			if a.onOp != nil {
				a.onOp(height, e, current)
			}
		}
		if a.onMark != nil {
			if node, nonce, ok, err := parseMark(e); ok && err == nil {
				a.onMark(height, node, nonce)
			}
		}
	}
	ejected := a.ledger.apply(height, entries)
	for _, ej := range ejected {
		a.ejected = append(a.ejected, ej)
		if a.onEject != nil {
			a.onEject(ej)
		}
	}
	a.next = height + 1
	a.vals = a.ledger.vals
	return a.vals
}
