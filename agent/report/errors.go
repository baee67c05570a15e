package report

import (
	"errors"

	"github.com/seed44533760/pact/agent/wire"
)

// Errors reported by the package; compare with errors.Is. Payload errors
// (malformed, bad signature, wrong cluster, unknown operator, unsigned) are
// package wire's, re-exported here for callers of the reporter.
var (
	// ErrConfig: the configuration is invalid. Validate joins one error per
	// problem, each naming its field.
	ErrConfig = errors.New("invalid report config")
	// ErrClosed: the reporter is closed.
	ErrClosed = errors.New("reporter closed")
	// ErrQueueFull: a best-effort message was dropped because the queue to
	// the broker was full. It is counted in Stats.Dropped.
	ErrQueueFull = errors.New("mqtt send queue full")

	ErrMalformed       = wire.ErrMalformed
	ErrBadSignature    = wire.ErrBadSignature
	ErrWrongCluster    = wire.ErrWrongCluster
	ErrUnknownOperator = wire.ErrUnknownOperator
	ErrUnsigned        = wire.ErrUnsigned
)
