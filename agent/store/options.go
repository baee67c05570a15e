package store

import (
	"errors"
	"fmt"
	"time"
)

// Options tune a Store. The zero value of every field means its default, so
// a nil *Options, an empty Options{} and DefaultOptions() open the same store.
type Options struct {
	// KeepHeights is how many of the most recent decided heights the store
	// keeps, with their certificates, to serve peers that are catching up
	// and operators who audit. Older commits are deleted as new ones arrive,
	// but never one at or above the height of the stored snapshot: the
	// snapshot plus the commits after it are how the agent rebuilds its
	// agreed state, so they are not the store's to drop. Default 10,000
	// (about 10 MB with 7 validators and small blocks).
	KeepHeights uint64

	// Timeout bounds the wait for the state file's lock. A second agent on
	// the same data directory must fail fast with ErrLocked rather than hang
	// or, worse, share the file. Default one second.
	Timeout time.Duration

	// OutboxLimit bounds how many unacknowledged messages the outbox holds,
	// so a broker that stays away for a week cannot fill a Pi's SD card.
	// Put returns ErrOutboxFull at the limit. Default 10,000.
	OutboxLimit int

	// MustExist makes Open fail with ErrCorrupt when the state file does not
	// exist instead of creating it. The agent sets it once it has signed
	// anything (its identity key exists): a node whose state file vanished
	// has lost its double-sign guard, and starting fresh could make it
	// equivocate.
	MustExist bool

	// SignedMarker, when set, is the path of a small file the store creates
	// (fsynced, with its directory) the first time it makes a guard
	// durable: the record, outside the state file, that this node has
	// signed. Open then treats a missing state file as MustExist does. A
	// node whose pact.db alone was deleted would otherwise start with an
	// empty guard and could sign twice at a height it signed before.
	SignedMarker string
}

// Defaults for the zero fields of Options.
const (
	DefaultKeepHeights = 10_000
	DefaultTimeout     = time.Second
	DefaultOutboxLimit = 10_000
)

// DefaultOptions returns the options a nil *Options stands for.
func DefaultOptions() Options {
	return Options{
		KeepHeights: DefaultKeepHeights,
		Timeout:     DefaultTimeout,
		OutboxLimit: DefaultOutboxLimit,
	}
}

// Validate reports every problem at once, each naming its field.
func (o *Options) Validate() error {
	var errs []error
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("store: Timeout: %s is negative", o.Timeout))
	}
	if o.OutboxLimit < 0 {
		errs = append(errs, fmt.Errorf("store: OutboxLimit: %d is negative", o.OutboxLimit))
	}
	return errors.Join(errs...)
}

// withDefaults returns a copy of o with zero fields set to their defaults.
func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	d := DefaultOptions()
	if out.KeepHeights == 0 {
		out.KeepHeights = d.KeepHeights
	}
	if out.Timeout == 0 {
		out.Timeout = d.Timeout
	}
	if out.OutboxLimit == 0 {
		out.OutboxLimit = d.OutboxLimit
	}
	return out
}
