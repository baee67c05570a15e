package agreed

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// Forged entries
//
// Validators pass the entries they want decided to each other in frames
// they sign (the cluster's mempool; agent/gossip.go). An honest validator
// only sends entries it built or checked, so every signature inside them
// verifies. A frame whose signer is a validator and whose entry carries a
// signature that does not verify — a capability document, an operator's
// request, a node's readings, an admission or retirement, the evidence of an ejection —
// proves that validator forged it: the eject entry carries the frame.

// ReasonForgedEntry ejects the signer of a frame carrying a forged entry.
const ReasonForgedEntry = "forged-entry"

const entryFrameDomain = "pact/entry/v1\n"

// EntryFrameSignBytes is what a validator signs when it sends an entry to
// its peers.
func EntryFrameSignBytes(cluster string, entry consensus.Entry) []byte {
	b := make([]byte, 0, len(entryFrameDomain)+len(cluster)+1+len(entry))
	b = append(b, entryFrameDomain...)
	b = append(b, cluster...)
	b = append(b, '\n')
	return append(b, entry...)
}

// ForgedFrame is the evidence of ReasonForgedEntry: a frame as its signer
// sent it.
type ForgedFrame struct {
	From  string `json:"from"`
	Sig   []byte `json:"sig"`   // the signer's signature over EntryFrameSignBytes
	Entry []byte `json:"entry"` // the entry, as sent
}

// Forged reports why entry, sent in a frame, carries a signature that does
// not verify; "" if it does not (or the state cannot tell: a signer it
// does not know).
func (s *State) Forged(entry consensus.Entry) string {
	e, err := Decode(entry)
	if err != nil {
		return ""
	}
	switch e.Type {
	case TypeAdvertise:
		if err := e.Doc.Verify(s.cluster); err != nil {
			return fmt.Sprintf("capability document of %s: %v", e.Doc.Node, err)
		}
	case TypeAdmit:
		if op, ok := s.operators[e.Admit.Operator]; ok {
			sig, err := base64.StdEncoding.DecodeString(e.Admit.Sig)
			if err != nil || !ed25519.Verify(op, e.Admit.SignBytes(s.cluster), sig) {
				return "admission with a bad operator signature"
			}
		}
	case TypeRetire:
		if _, ok := s.operators[e.Retire.Operator]; ok && s.verifyRetirement(e.Retire) != nil {
			return "retirement with a bad operator signature"
		}
	case TypeAssign:
		if r := e.Assign.Request; r != nil {
			if _, err := wire.VerifyRequestBy(s.cluster, r, s.operators, true); err != nil && r.Sig != "" {
				return fmt.Sprintf("request %s: %v", r.ID, err)
			}
		}
		for _, r := range e.Assign.Trigger {
			if why := s.forgedReadings(r); why != "" {
				return why
			}
		}
	case TypeRearm:
		for _, r := range e.Rearm.Readings {
			if why := s.forgedReadings(r); why != "" {
				return why
			}
		}
	case TypeEject:
		return s.forgedEvidence(e.Eject)
	}
	return ""
}

func (s *State) forgedReadings(r *wire.Readings) string {
	if r == nil {
		return ""
	}
	if key, ok := s.ValidatorKey(r.Node); ok && wire.VerifyReadings(s.cluster, r, key) != nil {
		return "readings of " + r.Node + " with a bad signature"
	}
	return ""
}

// forgedEvidence looks for a signature that does not verify in an
// ejection's evidence, by the keys the state knows.
func (s *State) forgedEvidence(j *Ejection) string {
	key, known := s.ValidatorKey(j.Node)
	switch j.Reason {
	case ReasonEquivocation:
		ev, err := consensus.UnmarshalEvidence(j.Evidence)
		if err == nil && known && ev.Verify(s.cluster, consensus.PublicKey(key), s.verifier) != nil && string(ev.Offender()) == j.Node {
			return "equivocation evidence with bad signatures"
		}
	case ReasonConflictingOutcomes, ReasonUnassignedOutcome:
		var ev OutcomeEvidence
		if json.Unmarshal(j.Evidence, &ev) == nil && known {
			for _, o := range ev.Outcomes {
				if o != nil && o.Performer == j.Node && wire.VerifyOutcome(s.cluster, o, key) != nil {
					return "an outcome of " + j.Node + " with a bad signature"
				}
			}
		}
	case ReasonAccused:
		var ev AccusedEvidence
		if json.Unmarshal(j.Evidence, &ev) == nil {
			for _, a := range ev.Accusations {
				if a == nil {
					continue
				}
				if k, ok := s.ValidatorKey(a.Node); ok && wire.VerifyAccusation(s.cluster, a, k) != nil {
					return "an accusation by " + a.Node + " with a bad signature"
				}
			}
		}
	}
	return ""
}

// NewForgedEntryEjection builds the eject entry of the signer of a frame
// carrying a forged entry.
func NewForgedEntryEjection(from string, sig []byte, entry consensus.Entry) *Entry {
	b, _ := json.Marshal(ForgedFrame{From: from, Sig: sig, Entry: entry})
	return &Entry{Type: TypeEject, Eject: &Ejection{Node: from, Reason: ReasonForgedEntry, Evidence: b}}
}

func (s *State) checkForgedFrame(j *Ejection, pub ed25519.PublicKey) error {
	var f ForgedFrame
	if err := decodeStrict(j.Evidence, &f); err != nil {
		return fmt.Errorf("%w: eject: evidence: %v", ErrInvalid, err)
	}
	if f.From != j.Node {
		return fmt.Errorf("%w: eject: the frame is %s's, not %s's", ErrInvalid, f.From, j.Node)
	}
	if !ed25519.Verify(pub, EntryFrameSignBytes(s.cluster, f.Entry), f.Sig) {
		return fmt.Errorf("%w: eject: %s did not sign that frame", ErrInvalid, j.Node)
	}
	if s.Forged(f.Entry) == "" {
		return fmt.Errorf("%w: eject: the entry %s sent is not forged", ErrInvalid, j.Node)
	}
	return nil
}
