package consensus

import (
	"errors"
	"fmt"
)

// Application is the node's view of the replicated application: the agent's
// agreed state, or the simulator's model of it. The core calls it
// synchronously from Step, Tick and Propose.
type Application interface {
	// Validate judges the entries of a block proposed at height. It must be
	// deterministic given the decided history up to height-1, and must not
	// block. A non-nil error makes this node prevote nil.
	Validate(height uint64, entries []Entry) error

	// Apply is called exactly once for every decided height, in order, before
	// the node moves to height+1 (also for heights learned through catch-up).
	// It returns the validator set in force at height+1: current when the
	// block changes nothing. It must be deterministic and must not block.
	Apply(height uint64, entries []Entry, current *ValidatorSet) *ValidatorSet
}

// Preparer is implemented by applications that build the block a proposer
// offers rather than take its pending entries verbatim (ABCI's
// PrepareProposal): entries whose content depends on the state they are
// decided in — an assignment names the node the state picks, and entries of
// one block pick in turn — are rebuilt against the state at height.
type Preparer interface {
	// Prepare returns the entries to propose at height, built from pending
	// (in order), and the pending entries that can never be decided and
	// are to be forgotten. Each returned entry must be new or one of
	// pending; the block is still checked with Validate. It must be
	// deterministic and must not block.
	Prepare(height uint64, pending []Entry) (block []Entry, discard []Entry)
}

// CommitLog serves decided heights that have left the node's in-memory window,
// so it can help far-behind peers catch up. The agent backs it with its
// database; nil means "only the in-memory window".
type CommitLog interface {
	// Commit returns the decided block at height with its certificate. It must
	// not block for long: it is called from Step.
	Commit(height uint64) (*Commit, bool)
}

// Config sets up a Node. Timeouts are counted in ticks: the caller decides
// how long a tick is (the agent uses 100 ms; the simulator uses virtual time).
type Config struct {
	// Cluster is the cluster name. It is part of every sign-bytes string, so
	// no message can be replayed into another cluster.
	Cluster string

	// ID is this node's name. It need not be in Validators: a node outside
	// the set follows decisions but never signs a vote.
	ID NodeID

	// Signer signs this node's messages. The node votes only while
	// Validators hold Signer's key for ID; under another key it follows
	// decisions like a node outside the set: a node that replaces one whose
	// key was lost, until the cluster has retired the old key and admitted
	// the new one.
	Signer Signer

	// Verifier checks every signature the node receives.
	Verifier Verifier

	// App validates proposals and applies decisions.
	App Application

	// Log serves old commits to peers that are far behind. Optional.
	Log CommitLog

	// Height is the first height this node has not decided: 1 for a new
	// cluster, last decided + 1 after a restart.
	Height uint64

	// Validators is the validator set in force at Height.
	Validators *ValidatorSet

	// LastSigned is the double-sign guard restored from durable storage; the
	// zero value for a node that has never signed. A node restarted without
	// it may equivocate: the agent refuses to start when its copy is corrupt.
	LastSigned SignState

	// TimeoutPropose is how long a validator waits for a proposal in round 0
	// before prevoting nil; TimeoutPrevote and TimeoutPrecommit how long it
	// waits after seeing 2f+1 votes of a step without a quorum for one value.
	// Each grows by TimeoutDelta per round, so a round that failed because
	// messages were slow gives them more time in the next (go-ibft#92: a base
	// timeout shorter than the slowest honest step means round 0 never
	// succeeds).
	TimeoutPropose   int
	TimeoutPrevote   int
	TimeoutPrecommit int
	TimeoutDelta     int

	// RebroadcastTicks is how often a node at an undecided height re-sends its
	// own messages of the current round. Votes travel best-effort, so this is
	// what makes progress certain on a lossy network. At the second,
	// fourth, eighth... rebroadcast of a round, the node also relays what it
	// holds of the round from others (and the previous round's precommits), standing in
	// for the gossip layer the algorithm assumes.
	RebroadcastTicks int

	// StatusTicks is how often an idle node announces its height, so peers
	// that fell behind while the cluster was idle learn to catch up. Zero
	// disables the heartbeat.
	StatusTicks int

	// CatchUpBatch is how many consecutive commits one catch-up reply carries.
	CatchUpBatch int

	// KeepCommits is how many recent commits the node keeps in memory to
	// serve catch-up without touching Log.
	KeepCommits int

	// MaxBlockEntries and MaxBlockBytes bound the block a proposer builds and
	// the blocks it accepts.
	MaxBlockEntries int
	MaxBlockBytes   int

	// MaxRoundsAhead bounds how far past the current round the node keeps
	// messages, so a peer cannot make it hold state for arbitrary rounds.
	MaxRoundsAhead int
}

// DefaultConfig returns timings fit for a LAN of Raspberry Pis with a 100 ms
// tick: one second for a proposal, half a second per vote step, growing by
// half a second a round. The caller fills in identity, keys and application.
func DefaultConfig() Config {
	return Config{
		Height:           1,
		TimeoutPropose:   10,
		TimeoutPrevote:   5,
		TimeoutPrecommit: 5,
		TimeoutDelta:     5,
		RebroadcastTicks: 10,
		StatusTicks:      50,
		CatchUpBatch:     32,
		KeepCommits:      256,
		MaxBlockEntries:  1024,
		MaxBlockBytes:    1 << 20,
		MaxRoundsAhead:   64,
	}
}

// Validate reports every problem with the configuration at once, each naming
// its field.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: "+format, append([]any{ErrConfig, field}, args...)...))
	}
	if c.Cluster == "" {
		bad("Cluster", "empty")
	}
	if c.ID == "" {
		bad("ID", "empty")
	}
	if c.Signer == nil {
		bad("Signer", "nil")
	}
	if c.Verifier == nil {
		bad("Verifier", "nil")
	}
	if c.App == nil {
		bad("App", "nil")
	}
	if c.Height == 0 {
		bad("Height", "must be at least 1")
	}
	if c.Validators == nil || c.Validators.Len() == 0 {
		bad("Validators", "empty")
	}
	for _, t := range []struct {
		name string
		v    int
		min  int
	}{
		{"TimeoutPropose", c.TimeoutPropose, 1},
		{"TimeoutPrevote", c.TimeoutPrevote, 1},
		{"TimeoutPrecommit", c.TimeoutPrecommit, 1},
		{"TimeoutDelta", c.TimeoutDelta, 0},
		{"RebroadcastTicks", c.RebroadcastTicks, 1},
		{"StatusTicks", c.StatusTicks, 0},
		{"CatchUpBatch", c.CatchUpBatch, 1},
		{"KeepCommits", c.KeepCommits, 1},
		{"MaxBlockEntries", c.MaxBlockEntries, 1},
		{"MaxBlockBytes", c.MaxBlockBytes, 1},
		{"MaxRoundsAhead", c.MaxRoundsAhead, 1},
	} {
		if t.v < t.min {
			bad(t.name, "%d is below the minimum %d", t.v, t.min)
		}
	}
	if c.MaxBlockEntries > maxEntries {
		bad("MaxBlockEntries", "%d is above the %d a block carries on the wire", c.MaxBlockEntries, maxEntries)
	}
	return errors.Join(errs...)
}
