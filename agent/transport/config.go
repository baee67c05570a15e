package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// Config configures a Transport. Start from DefaultConfig; Self, Cluster,
// Verifier and Keys are required.
type Config struct {
	// Self is this node's name. Broadcasts skip it.
	Self string

	// Cluster is the cluster name, part of every signature's sign bytes.
	Cluster string

	// Verifier checks signatures. It is called from the verification
	// workers concurrently (consensus.Verifier must be safe for that).
	Verifier consensus.Verifier

	// Keys returns the current public key of a validator, or false for a
	// name that is not a validator now (a candidate, an ejected node, a
	// stranger). It is called once per received message from memberlist's
	// goroutines, concurrently: it must be safe for concurrent use and fast
	// (an atomic snapshot of the validator set, not a call into the agent's
	// loop).
	Keys func(name string) (consensus.PublicKey, bool)

	// Peers, when set, names the nodes a broadcast (To == "") goes to;
	// nil asks the link (every reachable member).
	Peers func() []string

	// RatePerSecond and Burst are each validator's token bucket, keyed by
	// the sender named in the message: sustained messages per second and the
	// most it may send at once. A validator sends a few messages per round
	// and re-sends them every second or so; catch-up replies come in
	// batches, which Burst must cover.
	RatePerSecond float64
	Burst         int

	// UnknownRatePerSecond and UnknownBurst are the one bucket that every
	// sender without a key shares (candidates following the chain, ejected
	// nodes, forgers inventing names), so inventing names buys nothing.
	UnknownRatePerSecond float64
	UnknownBurst         int

	// MaxQueue is the capacity of the Inbound channel. When the agent's
	// loop falls that far behind, new messages are dropped and counted
	// rather than blocking memberlist.
	MaxQueue int

	// Workers is the number of goroutines that verify signatures, between
	// the receive goroutines and the Inbound channel. 0 means one per CPU,
	// at most 4.
	Workers int

	// SendQueue bounds the frames waiting for each peer's reliable sender.
	SendQueue int

	// SendTimeout is how long a reliable frame may wait in its peer's queue;
	// older ones are dropped, since consensus re-sends what still matters.
	SendTimeout time.Duration

	// RetryAfter is how long a peer whose reliable send failed is treated
	// as unreachable: its queued frames are dropped instead of each waiting
	// for the link's own timeout.
	RetryAfter time.Duration

	// MaxBestEffort is the largest frame sent best-effort; larger votes go
	// reliably. 0 asks the link (membership knows its UDP budget), or 1200.
	MaxBestEffort int

	// Logger gets the transport's log. Nil discards it.
	Logger *slog.Logger

	// Now is the clock for rate limits and queue ages; nil is time.Now.
	Now func() time.Time
}

// DefaultConfig returns limits for a Pi validator.
func DefaultConfig() Config {
	return Config{
		RatePerSecond:        100,
		Burst:                200,
		UnknownRatePerSecond: 10,
		UnknownBurst:         20,
		MaxQueue:             1024,
		SendQueue:            256,
		SendTimeout:          5 * time.Second,
		RetryAfter:           time.Second,
	}
}

// FieldError is one problem Validate found, naming the field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return "transport: " + e.Field + ": " + e.Msg }

// Unwrap makes every FieldError match ErrConfig.
func (e *FieldError) Unwrap() error { return ErrConfig }

// Validate reports every problem at once (errors.Join of *FieldError).
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Self == "" {
		bad("Self", "must not be empty")
	}
	if c.Cluster == "" {
		bad("Cluster", "must not be empty")
	}
	if c.Verifier == nil {
		bad("Verifier", "is required")
	}
	if c.Keys == nil {
		bad("Keys", "is required")
	}
	if c.RatePerSecond <= 0 {
		bad("RatePerSecond", "must be positive")
	}
	if c.Burst < 1 {
		bad("Burst", "must be at least 1")
	}
	if c.UnknownRatePerSecond <= 0 {
		bad("UnknownRatePerSecond", "must be positive")
	}
	if c.UnknownBurst < 1 {
		bad("UnknownBurst", "must be at least 1")
	}
	if c.MaxQueue < 1 {
		bad("MaxQueue", "must be at least 1")
	}
	if c.Workers < 0 {
		bad("Workers", "must not be negative (0 means one per CPU, at most 4)")
	}
	if c.SendQueue < 1 {
		bad("SendQueue", "must be at least 1")
	}
	if c.SendTimeout <= 0 {
		bad("SendTimeout", "must be positive")
	}
	if c.RetryAfter < 0 {
		bad("RetryAfter", "must not be negative")
	}
	if c.MaxBestEffort < 0 {
		bad("MaxBestEffort", "must not be negative (0 asks the link)")
	}
	return errors.Join(errs...)
}

func (c *Config) workers() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return min(4, runtime.NumCPU())
}
