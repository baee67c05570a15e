package audit

import "errors"

// Errors reported by the package; compare with errors.Is.
var (
	// ErrConfig: the configuration is invalid (every *FieldError matches it).
	ErrConfig = errors.New("invalid audit config")
	// ErrMalformed: a readings payload without a node, with an unreadable or
	// implausible ts, or with more readings than MaxReadings.
	ErrMalformed = errors.New("malformed readings")
	// ErrStale: a payload older than the window; it could never be judged.
	ErrStale = errors.New("readings older than the audit window")
	// ErrFuture: a payload whose ts lies more than MaxSkew past the caller's
	// clock.
	ErrFuture = errors.New("readings from the future")
	// ErrDuplicate: the auditor already holds a payload of that node with
	// that ts. When the two differ, the one with the smaller signature is
	// kept, whatever the order they came in, so that every node holding
	// both keeps the same one.
	ErrDuplicate = errors.New("readings already held")
	// ErrFlood: the node already has MaxPerBucket payloads in that bucket.
	ErrFlood = errors.New("too many readings in one bucket")
	// ErrUnsupported: an accusation whose evidence does not prove what it
	// claims (Check).
	ErrUnsupported = errors.New("accusation not supported by its evidence")
)
