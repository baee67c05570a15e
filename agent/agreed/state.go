package agreed

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/consensus"
)

// Ejected records why and when a node was removed.
type Ejected struct {
	Height   uint64 `json:"height"`
	Reason   string `json:"reason"`
	Evidence []byte `json:"evidence"`
	// Key is the node's public key when it was ejected: what its evidence
	// is checked with once it is no longer a validator (pact evidence).
	Key string `json:"key,omitempty"`
}

// State is the agreed state after Height. The exported fields are what a
// snapshot holds; Operators and Cluster come from the cluster file and are
// not part of it.
type State struct {
	Height       uint64                          `json:"height"`
	Validators   map[string]string               `json:"validators"` // name → base64 public key
	Ejected      map[string]Ejected              `json:"ejected"`
	Capabilities map[string]*capability.Document `json:"capabilities"`
	Admissions   map[string]uint64               `json:"admissions"` // hex digest of a used admission → height
	// Retired are the nodes operators retired (retire.go), and Retirements
	// the hex digests of decided retirements → height. Snapshots written
	// before retirements existed lack them: Restore makes them empty.
	Retired     map[string]Retired `json:"retired"`
	Retirements map[string]uint64  `json:"retirements"`

	// Actions. Snapshots written before these existed lack them: Restore
	// makes them empty.
	Assigned     map[string]*Assigned `json:"assigned"`      // instance → record
	LastAssigned map[string]uint64    `json:"last_assigned"` // node → height of its latest assignment
	Requests     map[string]uint64    `json:"requests"`      // request id → height it was assigned (anti-replay)
	Disarmed     map[string]bool      `json:"disarmed"`      // action → its trigger has fired and not re-armed
	LastRun      map[string]string    `json:"last_run"`      // action → At of its latest assignment (cooldown)
	ReadingsUsed map[string]string    `json:"readings_used"` // node → ts of its newest readings used in an entry (anti-replay)
	// Forgotten is the highest height of an assignment record dropped to
	// bound memory: an outcome for a later height names work the state
	// still knows about, or none at all.
	Forgotten uint64 `json:"forgotten,omitempty"`

	cluster   string
	operators map[string]ed25519.PublicKey
	verifier  consensus.Verifier
	vals      *consensus.ValidatorSet

	rules    Rules
	hasRules bool
	// appliedAt is when this node applied the latest assign or reassign of
	// an instance, by its own clock: where its deadline starts. Not agreed,
	// not snapshotted; since stands in for instances applied before a
	// restart.
	appliedAt map[string]time.Time
	since     time.Time

	verified verifiedCache // signatures already checked (sigcache.go)
	// inBlock holds the performers of the assignments of the block being
	// judged, while Validate or Prepare runs (prepare.go); nil otherwise.
	inBlock map[string]uint64
}

// Genesis builds the state before height 1.
func Genesis(cluster string, validators map[string]ed25519.PublicKey, operators map[string]ed25519.PublicKey) (*State, error) {
	s := &State{
		Validators:   map[string]string{},
		Ejected:      map[string]Ejected{},
		Capabilities: map[string]*capability.Document{},
		Admissions:   map[string]uint64{},
	}
	for name, k := range validators {
		s.Validators[name] = base64.StdEncoding.EncodeToString(k)
	}
	if err := s.bind(cluster, operators); err != nil {
		return nil, err
	}
	return s, nil
}

// Restore rebuilds a state from a snapshot. A snapshot from before the
// action maps existed restores with them empty.
func Restore(snapshot []byte, cluster string, operators map[string]ed25519.PublicKey) (*State, error) {
	var s State
	if err := json.Unmarshal(snapshot, &s); err != nil {
		return nil, fmt.Errorf("agreed state snapshot: %w", err)
	}
	for _, m := range []bool{s.Validators == nil, s.Ejected == nil, s.Capabilities == nil, s.Admissions == nil} {
		if m {
			return nil, errors.New("agreed state snapshot: missing maps")
		}
	}
	for id, a := range s.Assigned {
		if a == nil {
			return nil, fmt.Errorf("agreed state snapshot: assignment %s is null", id)
		}
	}
	if err := s.bind(cluster, operators); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *State) bind(cluster string, operators map[string]ed25519.PublicKey) error {
	s.cluster, s.operators, s.verifier = cluster, operators, consensus.Ed25519Verifier{}
	s.appliedAt = map[string]time.Time{}
	fill(&s.Retired)
	fill(&s.Retirements)
	fill(&s.Assigned)
	fill(&s.LastAssigned)
	fill(&s.Requests)
	fill(&s.Disarmed)
	fill(&s.LastRun)
	fill(&s.ReadingsUsed)
	return s.rebuildSet()
}

func (s *State) rebuildSet() error {
	var vals []consensus.Validator
	for name, k := range s.Validators {
		pub, err := decodeKey(k)
		if err != nil {
			return fmt.Errorf("validator %s: %w", name, err)
		}
		vals = append(vals, consensus.Validator{ID: consensus.NodeID(name), PubKey: consensus.PublicKey(pub)})
	}
	vs, err := consensus.NewValidatorSet(vals)
	if err != nil {
		return err
	}
	s.vals = vs
	return nil
}

// Snapshot encodes the state.
func (s *State) Snapshot() []byte {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("agreed: snapshot marshal failed: %v", err))
	}
	return b
}

// ValidatorSet is the set in force at Height+1.
func (s *State) ValidatorSet() *consensus.ValidatorSet { return s.vals }

// ValidatorNames lists the validators, sorted.
func (s *State) ValidatorNames() []string { return sortedKeys(s.Validators) }

// EjectedNames lists the ejected nodes, sorted.
func (s *State) EjectedNames() []string { return sortedKeys(s.Ejected) }

// IsEjected reports whether name was ejected (and not admitted since).
// A retired node is not ejected (IsRetired).
func (s *State) IsEjected(name string) bool { _, ok := s.Ejected[name]; return ok }

// ValidatorKey returns a validator's public key.
func (s *State) ValidatorKey(name string) (ed25519.PublicKey, bool) {
	k, ok := s.Validators[name]
	if !ok {
		return nil, false
	}
	pub, err := decodeKey(k)
	return pub, err == nil
}

// fill makes a nil map empty.
func fill[V any](m *map[string]V) {
	if *m == nil {
		*m = map[string]V{}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var _ consensus.Application = (*State)(nil)

// Validate implements consensus.Application: every entry must be valid
// against the state after height-1 and the assignments before it in the
// block (prepare.go), and valid together (no node advertised
// twice, no admission used twice, nobody ejected twice in one block; no
// instance, request id or trigger moved twice, no action with a cooldown
// assigned twice). Checks of readings and request freshness, deadlines and
// outcomes are this node's own judgement (Rules); the rest is
// deterministic.
func (s *State) Validate(height uint64, entries []consensus.Entry) error {
	if height != s.Height+1 {
		return fmt.Errorf("%w: block for height %d, state at %d", ErrInvalid, height, s.Height)
	}
	seen := map[string]bool{}
	s.inBlock = map[string]uint64{}
	defer func() { s.inBlock = nil }()
	for i, raw := range entries {
		e, err := Decode(raw)
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		keys, err := s.check(e)
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		for _, key := range keys {
			if seen[key] {
				return fmt.Errorf("entry %d: %w: %s twice in one block", i, ErrInvalid, key)
			}
			seen[key] = true
		}
		s.countInBlock(height, e)
	}
	return nil
}

// CheckEntry judges one entry on its own against the current state: what
// the agent asks before it accepts an entry from a peer into its pending
// list.
func (s *State) CheckEntry(raw consensus.Entry) (*Entry, error) {
	e, err := Decode(raw)
	if err != nil {
		return nil, err
	}
	if _, err := s.check(e); err != nil {
		return nil, err
	}
	return e, nil
}

// check validates one entry and returns the keys that must be unique within
// a block.
func (s *State) check(e *Entry) ([]string, error) {
	switch e.Type {
	case TypeAssign:
		return s.checkAssign(e.Assign)
	case TypeReassign:
		return s.checkReassign(e.Reassign)
	case TypeRearm:
		return s.checkRearm(e.Rearm)
	}
	key, err := s.checkMembership(e)
	if err != nil {
		return nil, err
	}
	return []string{key}, nil
}

// checkMembership validates an advertise, admit, eject or retire entry and returns
// the key that must be unique within a block.
func (s *State) checkMembership(e *Entry) (string, error) {
	switch e.Type {
	case TypeAdvertise:
		d := e.Doc
		if err := d.Verify(s.cluster); err != nil {
			return "", fmt.Errorf("%w: advertise: %v", ErrInvalid, err)
		}
		if s.Validators[d.Node] != d.Key {
			return "", fmt.Errorf("%w: advertise: %s is not a validator with key %s", ErrInvalid, d.Node, d.Key)
		}
		if old := s.Capabilities[d.Node]; old != nil && d.Seq <= old.Seq {
			return "", fmt.Errorf("%w: advertise: %s seq %d is not newer than the committed %d", ErrInvalid, d.Node, d.Seq, old.Seq)
		}
		return "node/" + d.Node, nil
	case TypeAdmit:
		a := e.Admit
		op, ok := s.operators[a.Operator]
		if !ok {
			return "", fmt.Errorf("%w: admit: %q is not an operator of the cluster", ErrInvalid, a.Operator)
		}
		sig, err := base64.StdEncoding.DecodeString(a.Sig)
		if err != nil || !ed25519.Verify(op, a.SignBytes(s.cluster), sig) {
			return "", fmt.Errorf("%w: admit: operator signature does not verify", ErrInvalid)
		}
		if _, err := decodeKey(a.Key); err != nil {
			return "", fmt.Errorf("admit: %w", err)
		}
		if _, ok := s.Validators[a.Node]; ok {
			return "", fmt.Errorf("%w: admit: %s is already a validator", ErrInvalid, a.Node)
		}
		for name, k := range s.Validators {
			if k == a.Key {
				return "", fmt.Errorf("%w: admit: key already belongs to validator %s", ErrInvalid, name)
			}
		}
		if _, used := s.Admissions[admissionDigest(a)]; used {
			return "", fmt.Errorf("%w: admit: this admission was already used", ErrInvalid)
		}
		return "node/" + a.Node, nil
	case TypeEject:
		j := e.Eject
		pub, ok := s.ValidatorKey(j.Node)
		if !ok {
			return "", fmt.Errorf("%w: eject: %s is not a validator", ErrInvalid, j.Node)
		}
		if len(s.Validators) <= 1 {
			return "", fmt.Errorf("%w: eject: %s is the last validator", ErrInvalid, j.Node)
		}
		if err := s.checkEvidence(j, pub); err != nil {
			return "", err
		}
		return "node/" + j.Node, nil
	case TypeRetire:
		return s.checkRetire(e.Retire)
	}
	return "", fmt.Errorf("%w: unknown type %q", ErrInvalid, e.Type)
}

func admissionDigest(a *Admission) string {
	h := sha256.Sum256([]byte(a.Sig + "\n" + a.Nonce + "\n" + a.Node))
	return hex.EncodeToString(h[:16])
}

// Apply implements consensus.Application. Entries were validated when
// proposed; one that no longer applies (a certified block this node judged
// differently) is skipped rather than half-applied.
func (s *State) Apply(height uint64, entries []consensus.Entry, current *consensus.ValidatorSet) *consensus.ValidatorSet {
	changed := false
	for _, raw := range entries {
		e, err := Decode(raw)
		if err != nil {
			continue
		}
		switch e.Type {
		case TypeAdvertise:
			if s.Validators[e.Doc.Node] == e.Doc.Key {
				s.Capabilities[e.Doc.Node] = e.Doc
			}
		case TypeAdmit:
			a := e.Admit
			s.Validators[a.Node] = a.Key
			delete(s.Ejected, a.Node)
			delete(s.Retired, a.Node)
			s.Admissions[admissionDigest(a)] = height
			changed = true
		case TypeEject:
			j := e.Eject
			if _, ok := s.Validators[j.Node]; ok && len(s.Validators) > 1 {
				s.Ejected[j.Node] = Ejected{Height: height, Reason: j.Reason, Evidence: j.Evidence, Key: s.Validators[j.Node]}
				delete(s.Validators, j.Node)
				delete(s.Capabilities, j.Node)
				changed = true
			}
		case TypeRetire:
			changed = s.applyRetire(height, e.Retire) || changed
		case TypeAssign:
			s.applyAssign(height, e.Assign)
		case TypeReassign:
			s.applyReassign(height, e.Reassign)
		case TypeRearm:
			s.applyRearm(e.Rearm)
		}
	}
	s.prune()
	s.Height = height
	if changed {
		if err := s.rebuildSet(); err != nil {
			panic(fmt.Sprintf("agreed: validator set broken after height %d: %v", height, err))
		}
	}
	return s.vals
}
