package agreed

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
)

// Retirement
//
// A validator leaves the set in one of two ways: ejected, on evidence that
// it misbehaved, or retired, on an operator's word (pact retire). Retiring
// is for a node that is gone — a dead Pi whose SD card, and so its key, is
// lost — or whose key is being rotated: left in the set, it would count as
// one of the f faulty validators for ever. A retired node is not suspect:
// the cluster does not refuse its gossip, and `pact admit` brings it back,
// with its old key or a new one.
//
// Retiring one of n validators takes f from (n-1)/3 to (n-2)/3 and the
// quorum with it; the quorum of n-1 is never above that of n, so the nodes
// that could decide before still can. The only retirement refused for the
// size of the set is that of the last validator: a cluster keeps at least
// one. Whether the validators left can still tolerate a fault is the
// operator's call, as it is when admitting.

// Retirement removes a validator at an operator's word. Key binds it to the
// validator's key, so that a retirement signed for a key does not remove a
// node that came back with another; Nonce makes every retirement distinct,
// and a decided one is remembered (State.Retirements), so that it cannot be
// replayed after the node is admitted again.
type Retirement struct {
	Node     string `json:"node"`
	Key      string `json:"key"` // base64 Ed25519 public key the node holds as a validator
	Operator string `json:"operator"`
	Nonce    string `json:"nonce"`
	Reason   string `json:"reason,omitempty"` // free text for people, at most MaxRetireReason bytes
	Sig      string `json:"sig"`              // operator's signature over SignBytes
}

// MaxRetireReason bounds a retirement's reason text, in bytes.
const MaxRetireReason = 200

// maxNonce bounds the nonce of a retirement.
const maxNonce = 64

// SignBytes is what the operator signs.
func (r *Retirement) SignBytes(cluster string) []byte {
	return fmt.Appendf(nil, "pact/retire/v1\n%s\n%s\n%s\n%s\n%s\n%s", cluster, r.Node, r.Key, r.Operator, r.Nonce, r.Reason)
}

// Sign signs the retirement with an operator key.
func (r *Retirement) Sign(cluster string, key ed25519.PrivateKey) {
	r.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(key, r.SignBytes(cluster)))
}

// Retired records a node an operator retired: shown by pact status, and
// what lets a reassign name the node's open work (ReasonPerformerRetired).
// An admission of the node removes it.
type Retired struct {
	Height   uint64 `json:"height"`
	Operator string `json:"operator"`
	Key      string `json:"key"` // the key the node held until then
	Reason   string `json:"reason,omitempty"`
}

// RetiredNames lists the retired nodes, sorted.
func (s *State) RetiredNames() []string { return sortedKeys(s.Retired) }

// IsRetired reports whether name was retired (and not admitted since).
func (s *State) IsRetired(name string) bool { _, ok := s.Retired[name]; return ok }

func (s *State) checkRetire(r *Retirement) (string, error) {
	if err := s.verifyRetirement(r); err != nil {
		return "", err
	}
	if len(r.Reason) > MaxRetireReason || strings.IndexFunc(r.Reason, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("%w: retire: the reason must be one line of at most %d bytes", ErrInvalid, MaxRetireReason)
	}
	if r.Nonce == "" || len(r.Nonce) > maxNonce || strings.IndexFunc(r.Nonce, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("%w: retire: the nonce must be 1 to %d printable characters", ErrInvalid, maxNonce)
	}
	key, ok := s.Validators[r.Node]
	if !ok {
		return "", fmt.Errorf("%w: retire: %s is not a validator", ErrInvalid, r.Node)
	}
	if key != r.Key {
		return "", fmt.Errorf("%w: retire: %s holds key %s, not %s", ErrInvalid, r.Node, key, r.Key)
	}
	if len(s.Validators) <= 1 {
		return "", fmt.Errorf("%w: retire: %s is the last validator", ErrInvalid, r.Node)
	}
	if _, used := s.Retirements[retirementDigest(r)]; used {
		return "", fmt.Errorf("%w: retire: this retirement was already used", ErrInvalid)
	}
	return "node/" + r.Node, nil
}

// verifyRetirement checks the operator's signature.
func (s *State) verifyRetirement(r *Retirement) error {
	op, ok := s.operators[r.Operator]
	if !ok {
		return fmt.Errorf("%w: retire: %q is not an operator of the cluster", ErrInvalid, r.Operator)
	}
	sig, err := base64.StdEncoding.DecodeString(r.Sig)
	if err != nil || !ed25519.Verify(op, r.SignBytes(s.cluster), sig) {
		return fmt.Errorf("%w: retire: operator signature does not verify", ErrInvalid)
	}
	return nil
}

// applyRetire removes the node from the set as an ejection does, and
// reports whether it did. A retirement that no longer applies (an earlier
// entry of its block removed the node, or every other validator) is still
// used up.
func (s *State) applyRetire(height uint64, r *Retirement) bool {
	s.Retirements[retirementDigest(r)] = height
	if s.Validators[r.Node] != r.Key || len(s.Validators) <= 1 {
		return false
	}
	s.Retired[r.Node] = Retired{Height: height, Operator: r.Operator, Key: r.Key, Reason: r.Reason}
	delete(s.Validators, r.Node)
	delete(s.Capabilities, r.Node)
	return true
}

func retirementDigest(r *Retirement) string {
	h := sha256.Sum256([]byte("retire\n" + r.Sig + "\n" + r.Nonce + "\n" + r.Node))
	return hex.EncodeToString(h[:16])
}
