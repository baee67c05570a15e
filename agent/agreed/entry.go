package agreed

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/consensus"
)

// Entry types.
const (
	TypeAdvertise = "advertise"
	TypeAdmit     = "admit"
	TypeEject     = "eject"
	TypeRetire    = "retire"
	TypeAssign    = "assign"
	TypeReassign  = "reassign"
	TypeRearm     = "rearm"
)

// MaxEntrySize bounds one encoded entry.
const MaxEntrySize = 128 << 10

// ErrInvalid wraps every reason an entry is refused.
var ErrInvalid = errors.New("invalid entry")

// Entry is one decided (or proposed) change to the agreed state. Exactly one
// of the payload fields is set, matching Type.
type Entry struct {
	Type     string               `json:"type"`
	Doc      *capability.Document `json:"doc,omitempty"`
	Admit    *Admission           `json:"admit,omitempty"`
	Eject    *Ejection            `json:"eject,omitempty"`
	Retire   *Retirement          `json:"retire,omitempty"`
	Assign   *Assignment          `json:"assign,omitempty"`
	Reassign *Reassignment        `json:"reassign,omitempty"`
	Rearm    *Rearming            `json:"rearm,omitempty"`
}

// Admission makes a node a validator. An operator listed in the cluster file
// signs it (pact admit); Nonce makes every admission distinct, so an old one
// cannot be replayed to bring back a node ejected since.
type Admission struct {
	Node     string `json:"node"`
	Key      string `json:"key"` // base64 Ed25519 public key of the node
	Operator string `json:"operator"`
	Nonce    string `json:"nonce"`
	Sig      string `json:"sig"` // operator's signature over SignBytes
}

// SignBytes is what the operator signs.
func (a *Admission) SignBytes(cluster string) []byte {
	return fmt.Appendf(nil, "pact/admit/v1\n%s\n%s\n%s\n%s\n%s", cluster, a.Node, a.Key, a.Operator, a.Nonce)
}

// Sign signs the admission with an operator key.
func (a *Admission) Sign(cluster string, key ed25519.PrivateKey) {
	a.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(key, a.SignBytes(cluster)))
}

// Ejection removes a validator. Evidence is the marshalled proof; for now
// consensus equivocation evidence (consensus.Evidence), which anyone can
// check with the node's public key.
type Ejection struct {
	Node     string `json:"node"`
	Reason   string `json:"reason"`
	Evidence []byte `json:"evidence"`
}

// Reasons for an ejection.
const ReasonEquivocation = "equivocation"

// Encode returns the entry as consensus entry bytes.
func (e *Entry) Encode() consensus.Entry {
	b, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("agreed: marshal of a plain struct failed: %v", err))
	}
	return consensus.Entry(b)
}

// Decode parses entry bytes strictly: unknown fields, trailing data, a
// payload that does not match the type, and oversized input are refused.
func Decode(b consensus.Entry) (*Entry, error) {
	if len(b) > MaxEntrySize {
		return nil, fmt.Errorf("%w: %d bytes", ErrInvalid, len(b))
	}
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrInvalid)
	}
	set := 0
	for _, p := range []bool{e.Doc != nil, e.Admit != nil, e.Eject != nil, e.Retire != nil, e.Assign != nil, e.Reassign != nil, e.Rearm != nil} {
		if p {
			set++
		}
	}
	ok := set == 1 && ((e.Type == TypeAdvertise && e.Doc != nil) ||
		(e.Type == TypeAdmit && e.Admit != nil) ||
		(e.Type == TypeEject && e.Eject != nil) ||
		(e.Type == TypeRetire && e.Retire != nil) ||
		(e.Type == TypeAssign && e.Assign != nil) ||
		(e.Type == TypeReassign && e.Reassign != nil) ||
		(e.Type == TypeRearm && e.Rearm != nil))
	if !ok {
		return nil, fmt.Errorf("%w: type %q with the wrong payload", ErrInvalid, e.Type)
	}
	return &e, nil
}

// NewEjection builds an eject entry from equivocation evidence.
func NewEjection(ev *consensus.Evidence) *Entry {
	return &Entry{Type: TypeEject, Eject: &Ejection{
		Node:     string(ev.Offender()),
		Reason:   ReasonEquivocation,
		Evidence: ev.Marshal(),
	}}
}

func decodeKey(s string) (ed25519.PublicKey, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: %q is not a base64 Ed25519 public key", ErrInvalid, s)
	}
	return ed25519.PublicKey(k), nil
}
