package sim

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/seed44533760/pact/consensus"
	"github.com/seed44533760/pact/consensus/quorum"
)

// Config describes one simulated run. Every field maps to one `pact sim` flag,
// named in the field's documentation; Validate reports problems by flag name
// so the command can pass them on unchanged. All durations are virtual time:
// nothing in a run reads a clock.
type Config struct {
	// Nodes is the number of validators, n (--nodes). They are named
	// "node-1" … "node-N".
	Nodes int

	// Byzantine is how many of them are adversaries (--byzantine): the LAST
	// Byzantine nodes, as in `pact testnet`. More than ⌊(n−1)/3⌋ is allowed,
	// to show that the checker then finds what the protocol cannot prevent;
	// Result.Tolerated says where the guarantee ends.
	Byzantine int

	// Heights is how many heights every honest node must decide (--heights).
	Heights int

	// Seed drives every random choice of the run (--seed): the same Config
	// gives the same Result, bit for bit, except WallMS.
	Seed uint64

	// Strategy is what the adversaries do (--strategy); see Strategies for
	// the names. Empty means "random" when Byzantine > 0 and "none"
	// otherwise. "none" runs no adversary and needs Byzantine = 0.
	Strategy string

	// Drop is the probability that the network loses one delivery (--drop),
	// while faults are active.
	Drop float64

	// Duplicate is the probability that one delivery arrives twice, each
	// copy with its own delay (--dup), while faults are active.
	Duplicate float64

	// MinDelay and MaxDelay bound the one-way delay of a delivery, drawn
	// uniformly for every delivery (--min-delay, --max-delay). Independent
	// delays are also what reorders messages.
	MinDelay time.Duration
	MaxDelay time.Duration

	// Tick is how much virtual time one consensus Tick stands for (--tick).
	// Consensus timeouts are derived from Tick and MaxDelay (see
	// ConsensusConfig) so that no timeout is shorter than an honest
	// message's trip.
	Tick time.Duration

	// EntryEvery is how often a client submits a new entry (--entry-every).
	// Each entry reaches every node's Propose after its own network delay,
	// like a gossiped mempool, so nodes' pending lists differ a little.
	EntryEvery time.Duration

	// Partition lists network partitions (--partition), see ParsePartitions:
	// "1-3|4-7@2s-6s;1|2-7@10s-11s".
	Partition string

	// Crash lists crashes and restarts (--crash), see ParseCrashes:
	// "node-2@3s-5s;4@8s".
	Crash string

	// FaultsUntil ends the fault phase at this virtual time (--faults-until):
	// no loss, duplication or partitions afterwards, and every crashed node
	// restarts. Zero means: when every running honest node has decided
	// Heights, or at half of MaxVirtualTime, whichever comes first.
	FaultsUntil time.Duration

	// MaxVirtualTime bounds the run (--max-time). A run that reaches it
	// before every honest node has caught up after the faults fails its
	// liveness check, and one that reaches it before the adversaries that
	// must be ejected are fails its detection check. Zero means 60s plus
	// 500ms per height, and a minute more for lie-sensor: the audit of
	// readings judges a node over a minute of samples, and a liar whose
	// random values happen to fall near the truth may need all of it.
	MaxVirtualTime time.Duration

	// FakeSignatures replaces Ed25519 with consensus.FakeSigner
	// (--fake-sigs): same protocol, same refusals of forged and altered
	// messages, without the cost of cryptography.
	FakeSignatures bool

	// Cluster is the cluster name in every signature. Empty means "sim".
	Cluster string

	// Events, when not nil, is called synchronously with every notable event
	// (evidence, ejections, partitions, crashes, progress) as it happens. It
	// must not call back into the simulation.
	Events func(Event) `json:"-"`

	// amnesia restarts crashed nodes without their persisted SignState. It
	// exists for the tests that show the checker catches a node that forgot
	// what it signed.
	amnesia bool
}

// DefaultConfig is a small honest run: 4 nodes, 100 heights, 1–20 ms of
// network delay and a 10 ms tick.
func DefaultConfig() Config {
	return Config{
		Nodes:      4,
		Heights:    100,
		Seed:       1,
		MinDelay:   1 * time.Millisecond,
		MaxDelay:   20 * time.Millisecond,
		Tick:       10 * time.Millisecond,
		EntryEvery: 10 * time.Millisecond,
		Cluster:    "sim",
	}
}

// FieldError is one problem with a Config, named by its `pact sim` flag.
type FieldError struct {
	Flag    string // e.g. "--drop"
	Problem string
}

func (e *FieldError) Error() string { return e.Flag + ": " + e.Problem }

// ErrConfig marks every configuration problem.
var ErrConfig = errors.New("invalid simulation config")

func (e *FieldError) Unwrap() error { return ErrConfig }

// Validate reports every problem at once (errors.Join of *FieldError).
func (c *Config) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, &FieldError{Flag: flag, Problem: fmt.Sprintf(format, args...)})
	}
	if c.Nodes < 1 || c.Nodes > 1000 {
		bad("--nodes", "must be between 1 and 1000, got %d", c.Nodes)
	}
	if c.Byzantine < 0 {
		bad("--byzantine", "must not be negative, got %d", c.Byzantine)
	} else if c.Nodes >= 1 && c.Byzantine >= c.Nodes {
		bad("--byzantine", "%d leaves no honest node among %d", c.Byzantine, c.Nodes)
	}
	if c.Heights < 1 {
		bad("--heights", "must be at least 1, got %d", c.Heights)
	}
	if name := c.strategyName(); name == "none" && c.Byzantine > 0 {
		bad("--strategy", "none runs no adversary: set --byzantine 0 or pick one of %s", strings.Join(Strategies(), ", "))
	} else if _, ok := lookupStrategy(name); !ok {
		bad("--strategy", "unknown strategy %q; valid: %s", c.Strategy, strings.Join(Strategies(), ", "))
	}
	prob := func(flag string, p float64, max float64) {
		if math.IsNaN(p) || p < 0 || p > max {
			bad(flag, "must be a probability in [0, %g], got %g", max, p)
		}
	}
	prob("--drop", c.Drop, 1)
	prob("--dup", c.Duplicate, 1)
	if c.MinDelay < 0 {
		bad("--min-delay", "must not be negative, got %s", c.MinDelay)
	}
	if c.MaxDelay < c.MinDelay {
		bad("--max-delay", "%s is below --min-delay %s", c.MaxDelay, c.MinDelay)
	}
	if c.Tick <= 0 {
		bad("--tick", "must be positive, got %s", c.Tick)
	}
	if c.EntryEvery <= 0 {
		bad("--entry-every", "must be positive, got %s", c.EntryEvery)
	}
	if c.FaultsUntil < 0 {
		bad("--faults-until", "must not be negative, got %s", c.FaultsUntil)
	}
	if c.MaxVirtualTime < 0 {
		bad("--max-time", "must not be negative, got %s", c.MaxVirtualTime)
	} else if c.FaultsUntil >= c.maxVirtualTime() {
		bad("--faults-until", "%s is not before the end of the run (--max-time %s): the faults would never end", c.FaultsUntil, c.maxVirtualTime())
	}
	if c.Nodes >= 1 && c.Nodes <= 1000 {
		if _, err := ParsePartitions(c.Partition, c.Nodes); err != nil {
			bad("--partition", "%v", err)
		}
		if _, err := ParseCrashes(c.Crash, c.Nodes); err != nil {
			bad("--crash", "%v", err)
		}
	}
	return errors.Join(errs...)
}

// strategyName resolves the default strategy.
func (c *Config) strategyName() string {
	switch {
	case c.Strategy != "":
		return c.Strategy
	case c.Byzantine > 0:
		return "random"
	}
	return "none"
}

func (c *Config) cluster() string {
	if c.Cluster == "" {
		return "sim"
	}
	return c.Cluster
}

func (c *Config) maxVirtualTime() time.Duration {
	if c.MaxVirtualTime > 0 {
		return c.MaxVirtualTime
	}
	d := 60*time.Second + time.Duration(c.Heights)*500*time.Millisecond
	if c.strategyName() == "lie-sensor" {
		d += time.Minute
	}
	return d
}

// Tolerated is f, how many Byzantine nodes n validators tolerate.
func (c *Config) Tolerated() int { return quorum.Faulty(c.Nodes) }

// ConsensusConfig is the consensus configuration every simulated node uses:
// consensus.DefaultConfig with timeouts derived from the network's delays,
// so that heights decide in a few message delays of virtual time while no
// timeout is shorter than an honest step (go-ibft#92). With the defaults
// (10 ms tick, 20 ms worst delay): 60 ms for a proposal, 30 ms per vote step,
// 20 ms more per round, re-sends every 40 ms.
func (c *Config) ConsensusConfig() consensus.Config {
	ticks := func(d time.Duration) int { return max(1, int((d+c.Tick-1)/c.Tick)) }
	cc := consensus.DefaultConfig()
	// Nodes enter a height up to one delay apart and the proposal takes up
	// to one more; a tick of slack for the timer's granularity.
	cc.TimeoutPropose = ticks(2*c.MaxDelay + 2*c.Tick)
	cc.TimeoutPrevote = ticks(c.MaxDelay + c.Tick)
	cc.TimeoutPrecommit = ticks(c.MaxDelay + c.Tick)
	cc.TimeoutDelta = ticks(c.MaxDelay)
	cc.RebroadcastTicks = max(2, ticks(2*c.MaxDelay))
	cc.StatusTicks = 20
	return cc
}
