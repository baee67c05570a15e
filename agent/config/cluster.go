package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/consensus"
)

// Cluster is the cluster file: what every node of one cluster shares, byte
// for byte. It binds node names to keys (the genesis validator set), holds
// the gossip encryption keys and the operators' keys, and defines the
// actions the cluster can carry out.
type Cluster struct {
	// Name is the cluster's name: it is part of every signature, of the MQTT
	// topic root (pact/<cluster>/…) and of memberlist's label, so two
	// clusters on one LAN or broker cannot mix. Key `cluster`, required.
	Name string `yaml:"cluster"`

	// GossipKey encrypts memberlist traffic (AES-256-GCM): standard base64 of
	// 32 random bytes (`head -c32 /dev/urandom | base64`). It keeps
	// strangers out; it does not authenticate members. Required.
	GossipKey string `yaml:"gossip_key"`

	// GossipKeys are further keys accepted on receive, for rotating the
	// gossip key without a flag day: add the new key here everywhere, then
	// make it GossipKey everywhere, then drop the old one.
	GossipKeys []string `yaml:"gossip_keys,omitempty"`

	// Validators is the genesis validator set: node name → standard base64
	// of its 32-byte Ed25519 public key. Admissions and ejections change the
	// set later, through the log; this map never changes. At least one.
	Validators map[string]string `yaml:"validators"`

	// Operators are the keys allowed to sign action requests (MQTT, pact
	// request) and admissions: name → base64 Ed25519 public key. At least one
	// unless AllowUnsignedRequests.
	Operators map[string]string `yaml:"operators,omitempty"`

	// AllowUnsignedRequests accepts action requests without an operator
	// signature. For a bench or a demo only. Default false.
	AllowUnsignedRequests bool `yaml:"allow_unsigned_requests,omitempty"`

	// Timings are the consensus protocol's clock and timeouts.
	Timings Timings `yaml:"timings"`

	// Gossip tunes memberlist's failure detector.
	Gossip Gossip `yaml:"gossip"`

	// Actions is the action catalogue: what may be requested, by name.
	Actions map[string]Action `yaml:"actions,omitempty"`

	src *source
}

// Timings are durations in the cluster file, turned into ticks for the
// consensus core by ConsensusTimings. Every one but Tick must be a whole
// number of ticks.
type Timings struct {
	// Tick is the consensus clock period. Default 100ms.
	Tick time.Duration `yaml:"tick"`
	// Propose is how long validators wait for a proposal in round 0 before
	// prevoting nil. Default 1s.
	Propose time.Duration `yaml:"propose"`
	// Prevote and Precommit are how long a validator waits after 2f+1 votes
	// of a step that do not agree. Default 500ms each.
	Prevote   time.Duration `yaml:"prevote"`
	Precommit time.Duration `yaml:"precommit"`
	// RoundIncrease is added to each timeout per round, so a round that
	// failed because messages were slow gives them more time in the next.
	// Default 500ms.
	RoundIncrease time.Duration `yaml:"round_increase"`
	// Rebroadcast is how often a node re-sends its messages of an undecided
	// round; votes travel best-effort. Default 1s.
	Rebroadcast time.Duration `yaml:"rebroadcast"`
	// Status is how often an idle node announces its height. Default 5s.
	Status time.Duration `yaml:"status"`
}

// DefaultTimings fit a LAN of Raspberry Pis; they equal consensus.DefaultConfig
// at a 100ms tick.
func DefaultTimings() Timings {
	return Timings{
		Tick:          100 * time.Millisecond,
		Propose:       time.Second,
		Prevote:       500 * time.Millisecond,
		Precommit:     500 * time.Millisecond,
		RoundIncrease: 500 * time.Millisecond,
		Rebroadcast:   time.Second,
		Status:        5 * time.Second,
	}
}

// TickCounts are Timings in ticks, ready for consensus.Config.
type TickCounts struct {
	Tick                               time.Duration
	Propose, Prevote, Precommit, Delta int
	Rebroadcast, Status                int
}

// ConsensusTimings converts the timings to tick counts. It assumes Validate
// passed: each duration is a positive multiple of Tick.
func (t Timings) ConsensusTimings() TickCounts {
	ticks := func(d time.Duration) int {
		if t.Tick <= 0 {
			return 0
		}
		return int(d / t.Tick)
	}
	return TickCounts{
		Tick:        t.Tick,
		Propose:     ticks(t.Propose),
		Prevote:     ticks(t.Prevote),
		Precommit:   ticks(t.Precommit),
		Delta:       ticks(t.RoundIncrease),
		Rebroadcast: ticks(t.Rebroadcast),
		Status:      ticks(t.Status),
	}
}

// Apply sets the timeouts of cfg; the caller ticks the node every tc.Tick.
func (tc TickCounts) Apply(cfg *consensus.Config) {
	cfg.TimeoutPropose = tc.Propose
	cfg.TimeoutPrevote = tc.Prevote
	cfg.TimeoutPrecommit = tc.Precommit
	cfg.TimeoutDelta = tc.Delta
	cfg.RebroadcastTicks = tc.Rebroadcast
	cfg.StatusTicks = tc.Status
}

// GossipProfile names a set of memberlist failure-detector settings.
type GossipProfile string

const (
	// GossipLAN is memberlist's DefaultLANConfig: quick detection on a
	// wired network of ordinary computers.
	GossipLAN GossipProfile = "lan"
	// GossipPi is gentler: longer probe intervals and timeouts and a larger
	// suspicion multiplier, so a Pi Zero on Wi-Fi that stalls on its SD card
	// is not declared dead. The membership package owns the numbers.
	GossipPi GossipProfile = "pi"
)

// Gossip tunes memberlist. Zero values keep the profile's setting.
type Gossip struct {
	// Profile is the base: lan or pi. Default pi.
	Profile GossipProfile `yaml:"profile"`
	// ProbeInterval is how often each node probes a random peer.
	ProbeInterval time.Duration `yaml:"probe_interval,omitempty"`
	// ProbeTimeout is how long a probe waits for an ack; shorter than
	// ProbeInterval.
	ProbeTimeout time.Duration `yaml:"probe_timeout,omitempty"`
	// SuspicionMult scales how long a suspect node has to refute before it
	// is declared dead.
	SuspicionMult int `yaml:"suspicion_mult,omitempty"`
	// GossipInterval is how often gossip messages are sent.
	GossipInterval time.Duration `yaml:"gossip_interval,omitempty"`
}

// DefaultCluster returns a Cluster with every default filled in and no
// identity: name, keys, validators and operators are left empty.
func DefaultCluster() *Cluster {
	return &Cluster{
		Timings: DefaultTimings(),
		Gossip:  Gossip{Profile: GossipPi},
	}
}

// ApplyDefaults fills in defaults that decoding over DefaultCluster cannot
// (those inside map entries). Load calls it; it is idempotent.
func (c *Cluster) ApplyDefaults() {
	if c.Gossip.Profile == "" {
		c.Gossip.Profile = GossipPi
	}
	for name, a := range c.Actions {
		a.ApplyDefaults()
		c.Actions[name] = a
	}
}

// File is the file c was loaded from; "" for a value built in code.
func (c *Cluster) File() string {
	if c.src == nil {
		return ""
	}
	return c.src.file
}

// ValidatorKey returns the genesis public key of node.
func (c *Cluster) ValidatorKey(node string) (ed25519.PublicKey, bool) {
	s, ok := c.Validators[node]
	if !ok {
		return nil, false
	}
	pub, err := identity.ParsePublicKey(s)
	return pub, err == nil
}

// ValidatorSet returns the genesis validators for consensus.NewNode.
func (c *Cluster) ValidatorSet() (*consensus.ValidatorSet, error) {
	names := make([]string, 0, len(c.Validators))
	for name := range c.Validators {
		names = append(names, name)
	}
	slices.Sort(names)
	vals := make([]consensus.Validator, 0, len(names))
	for _, name := range names {
		pub, err := identity.ParsePublicKey(c.Validators[name])
		if err != nil {
			return nil, fmt.Errorf("validators.%s: %w", name, err)
		}
		vals = append(vals, consensus.Validator{ID: consensus.NodeID(name), PubKey: consensus.PublicKey(pub)})
	}
	return consensus.NewValidatorSet(vals)
}

// OperatorKeys returns the operators' public keys by name; entries that do
// not parse are left out (Validate reports them).
func (c *Cluster) OperatorKeys() map[string]ed25519.PublicKey {
	out := make(map[string]ed25519.PublicKey, len(c.Operators))
	for name, s := range c.Operators {
		if pub, err := identity.ParsePublicKey(s); err == nil {
			out[name] = pub
		}
	}
	return out
}

// GossipKeyring returns the decoded gossip keys, the primary one first, for
// memberlist.NewKeyring(keys, keys[0]). Keys that do not decode are left
// out (Validate reports them).
func (c *Cluster) GossipKeyring() [][]byte {
	var out [][]byte
	for _, s := range append([]string{c.GossipKey}, c.GossipKeys...) {
		if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == gossipKeySize {
			out = append(out, k)
		}
	}
	return out
}

// gossipKeySize is AES-256's key size, the one memberlist's keyring uses.
const gossipKeySize = 32
