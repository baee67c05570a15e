package membership

import "errors"

// Errors reported by the package; compare with errors.Is. A Gate may wrap
// ErrEjected or ErrWrongKey so that refusals are counted by reason.
var (
	// ErrConfig: the configuration is invalid. Validate joins one error per
	// problem, each wrapping ErrConfig and naming its field.
	ErrConfig = errors.New("invalid membership config")
	// ErrMetaTooLarge: Config.Meta returned more than MaxMetaSize bytes.
	ErrMetaTooLarge = errors.New("node meta too large")
	// ErrUnknownMember: no alive or suspect member has that name.
	ErrUnknownMember = errors.New("no such member")
	// ErrTooLarge: a best-effort payload does not fit one UDP packet.
	ErrTooLarge = errors.New("payload too large for a best-effort packet")
	// ErrNotStarted: Start has not been called.
	ErrNotStarted = errors.New("membership not started")
	// ErrAlreadyStarted: Start was called twice.
	ErrAlreadyStarted = errors.New("membership already started")
	// ErrShutdown: the membership has been shut down.
	ErrShutdown = errors.New("membership shut down")

	// ErrEjected: the gate refuses a node because the cluster ejected it.
	ErrEjected = errors.New("node is ejected")
	// ErrWrongKey: the gate refuses a node whose meta names a public key
	// other than the one bound to its name (someone claiming a validator's
	// name).
	ErrWrongKey = errors.New("node name is bound to a different public key")
	// ErrBadMeta: a peer's meta does not carry pact's meta header.
	ErrBadMeta = errors.New("malformed node meta")
)
