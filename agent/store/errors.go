package store

import "errors"

// Errors the store reports, wrapped with detail; compare with errors.Is.
//
// ErrCorrupt is the one the agent must act on: it means "refuse to sign and
// alert the operator", never "start fresh". A Store that has seen it once
// keeps returning it (see Store.Err): a file that lied once is not trusted
// again until an operator has looked at it.
var (
	// ErrCorrupt: the state file, or a value in it, is damaged, truncated,
	// not a pact state file at all, or missing although it must exist.
	ErrCorrupt = errors.New("state file is corrupt")
	// ErrLocked: another process holds the state file's lock.
	ErrLocked = errors.New("state file is locked: is another pact agent running?")
	// ErrForeign: the state file belongs to another cluster or node.
	ErrForeign = errors.New("state file belongs to another cluster or node")
	// ErrSchema: the state file was written by an incompatible pact version.
	ErrSchema = errors.New("state file has an unsupported schema version")
	// ErrRefused: a write would make the durable state inconsistent (a guard
	// that goes back, a gap or a fork in the decided log, a snapshot of a
	// height not decided). Nothing was written; it points at a bug in the
	// caller.
	ErrRefused = errors.New("refused to store")
	// ErrOutboxFull: the outbox holds Options.OutboxLimit messages.
	ErrOutboxFull = errors.New("outbox is full")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store is closed")
)

// errBusy: the lock is held; Open reports it as ErrLocked.
var errBusy = errors.New("lock held")
