package agreed

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// Ejection evidence
//
// An eject entry is valid when its evidence proves the node misbehaved,
// checked against the state before its block, by every validator alike:
//
//   - equivocation: two conflicting signed consensus messages of one step
//     (consensus.Evidence).
//   - conflicting-outcomes: two different outcomes the node signed for the
//     same assignment (instance and height).
//   - unassigned-outcome: an outcome the node signed for work the agreed
//     state never gave it.
//   - forged-entry: a frame the node signed carrying an entry with a
//     signature that does not verify (forged.go).
//   - accused: signed accusations of the node by f+1 distinct validators
//     (wire.Accusation) — at least one of them honest. What is not
//     self-proving (a sensor that lies, a pin that did not move, a flood)
//     reaches an ejection this way.

// Ejection reasons besides ReasonEquivocation.
const (
	ReasonConflictingOutcomes = "conflicting-outcomes"
	ReasonUnassignedOutcome   = "unassigned-outcome"
	ReasonAccused             = "accused"
)

// MaxAccusationAge is how many heights old an accusation may be when an
// eject entry carries it: accusations do not pile up over a node's life.
const MaxAccusationAge = 100

// OutcomeEvidence is the evidence of conflicting-outcomes (two outcomes)
// and unassigned-outcome (one).
type OutcomeEvidence struct {
	Outcomes []*wire.Outcome `json:"outcomes"`
}

// AccusedEvidence is the evidence of an ejection by accusation.
type AccusedEvidence struct {
	Accusations []*wire.Accusation `json:"accusations"`
}

// NewOutcomeEjection builds an eject entry from one outcome signed for work
// never assigned (reason ReasonUnassignedOutcome) or two conflicting ones
// (ReasonConflictingOutcomes).
func NewOutcomeEjection(node, reason string, outcomes ...*wire.Outcome) *Entry {
	b, _ := json.Marshal(OutcomeEvidence{Outcomes: outcomes})
	return &Entry{Type: TypeEject, Eject: &Ejection{Node: node, Reason: reason, Evidence: b}}
}

// NewAccusedEjection builds an eject entry from accusations of node,
// ordered by accuser.
func NewAccusedEjection(node string, accusations []*wire.Accusation) *Entry {
	sorted := append([]*wire.Accusation(nil), accusations...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Node < sorted[j].Node })
	b, _ := json.Marshal(AccusedEvidence{Accusations: sorted})
	return &Entry{Type: TypeEject, Eject: &Ejection{Node: node, Reason: ReasonAccused, Evidence: b}}
}

// checkEvidence judges an eject entry's evidence against the node's key.
func (s *State) checkEvidence(j *Ejection, pub ed25519.PublicKey) error {
	switch j.Reason {
	case ReasonEquivocation:
		ev, err := consensus.UnmarshalEvidence(j.Evidence)
		if err != nil {
			return fmt.Errorf("%w: eject: %v", ErrInvalid, err)
		}
		if string(ev.Offender()) != j.Node {
			return fmt.Errorf("%w: eject: evidence is against %s, not %s", ErrInvalid, ev.Offender(), j.Node)
		}
		if err := ev.Verify(s.cluster, consensus.PublicKey(pub), s.verifier); err != nil {
			return fmt.Errorf("%w: eject: evidence: %v", ErrInvalid, err)
		}
		return nil
	case ReasonConflictingOutcomes, ReasonUnassignedOutcome:
		return s.checkOutcomeEvidence(j, pub)
	case ReasonAccused:
		return s.checkAccusations(j)
	case ReasonForgedEntry:
		return s.checkForgedFrame(j, pub)
	}
	return fmt.Errorf("%w: eject: unknown reason %q", ErrInvalid, j.Reason)
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

func (s *State) checkOutcomeEvidence(j *Ejection, pub ed25519.PublicKey) error {
	var ev OutcomeEvidence
	if err := decodeStrict(j.Evidence, &ev); err != nil {
		return fmt.Errorf("%w: eject: evidence: %v", ErrInvalid, err)
	}
	want := 1
	if j.Reason == ReasonConflictingOutcomes {
		want = 2
	}
	if len(ev.Outcomes) != want {
		return fmt.Errorf("%w: eject: %s needs %d outcomes, not %d", ErrInvalid, j.Reason, want, len(ev.Outcomes))
	}
	for _, o := range ev.Outcomes {
		if o == nil || o.Performer != j.Node {
			return fmt.Errorf("%w: eject: an outcome not performed by %s", ErrInvalid, j.Node)
		}
		if err := wire.VerifyOutcome(s.cluster, o, pub); err != nil {
			return fmt.Errorf("%w: eject: outcome: %v", ErrInvalid, err)
		}
	}
	o := ev.Outcomes[0]
	if j.Reason == ReasonConflictingOutcomes {
		p := ev.Outcomes[1]
		if o.Action != p.Action || o.Instance != p.Instance || o.Height != p.Height {
			return fmt.Errorf("%w: eject: the outcomes are of different work", ErrInvalid)
		}
		if o.OK == p.OK && o.Error == p.Error && o.Readback == p.Readback {
			return fmt.Errorf("%w: eject: the outcomes do not conflict", ErrInvalid)
		}
		return nil
	}
	// Work never assigned: the state knows the instance and the node was
	// never its performer, or the outcome names a height the state
	// remembers completely and no record of the instance exists.
	if o.Height > s.Height {
		return fmt.Errorf("%w: eject: the outcome names height %d, not decided yet", ErrInvalid, o.Height)
	}
	if rec, ok := s.Assigned[o.Instance]; ok {
		if rec.Performer == j.Node || contains(rec.Tried, j.Node) {
			return fmt.Errorf("%w: eject: %s was assigned %s", ErrInvalid, j.Node, o.Instance)
		}
		return nil
	}
	if o.Height <= s.Forgotten {
		return fmt.Errorf("%w: eject: height %d is older than the assignments the state remembers", ErrInvalid, o.Height)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkAccusations: f+1 distinct current validators, none of them the
// accused, each accusation of j.Node signed, recent, for this cluster.
func (s *State) checkAccusations(j *Ejection) error {
	var ev AccusedEvidence
	if err := decodeStrict(j.Evidence, &ev); err != nil {
		return fmt.Errorf("%w: eject: evidence: %v", ErrInvalid, err)
	}
	need := s.vals.Faulty() + 1
	seen := map[string]bool{}
	for _, a := range ev.Accusations {
		if a == nil || a.Accused != j.Node {
			return fmt.Errorf("%w: eject: an accusation of someone else", ErrInvalid)
		}
		if seen[a.Node] {
			return fmt.Errorf("%w: eject: %s accuses twice", ErrInvalid, a.Node)
		}
		seen[a.Node] = true
		key, ok := s.ValidatorKey(a.Node)
		if !ok {
			return fmt.Errorf("%w: eject: accuser %s is not a validator", ErrInvalid, a.Node)
		}
		if a.Height > s.Height || a.Height+MaxAccusationAge < s.Height {
			return fmt.Errorf("%w: eject: %s's accusation is from height %d, the state is at %d", ErrInvalid, a.Node, a.Height, s.Height)
		}
		if err := s.verifyAccusation(a, key); err != nil {
			return fmt.Errorf("%w: eject: %v", ErrInvalid, err)
		}
	}
	if len(seen) < need {
		return fmt.Errorf("%w: eject: %d accusers, %d needed (f+1)", ErrInvalid, len(seen), need)
	}
	return nil
}

// verifyAccusation is wire.VerifyAccusation with the signature cache.
func (s *State) verifyAccusation(a *wire.Accusation, key ed25519.PublicKey) error {
	k, cacheable := payloadDigest(wire.DomainAccusation+"\x00"+string(key), a)
	if cacheable && s.verified.has(k) {
		return nil
	}
	if err := wire.VerifyAccusation(s.cluster, a, key); err != nil {
		return err
	}
	if cacheable {
		s.verified.add(k)
	}
	return nil
}
