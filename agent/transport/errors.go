package transport

import "errors"

// Errors reported by the package; compare with errors.Is.
var (
	// ErrConfig: the configuration is invalid. Validate joins one error per
	// problem, each naming its field.
	ErrConfig = errors.New("invalid transport config")
	// ErrMalformed: a frame or its payload cannot be decoded. A Vetter
	// returns it (wrapped) for payloads it cannot parse.
	ErrMalformed = errors.New("malformed frame")
	// ErrBadSignature: a signature does not verify. A Vetter returns it
	// (wrapped) for forged payloads, so they are counted as such.
	ErrBadSignature = errors.New("bad signature")
	// ErrClosed: the transport or link is closed.
	ErrClosed = errors.New("transport closed")
	// ErrUnreachable: the memory network does not deliver between the two
	// links (they are cut, or the receiver is gone).
	ErrUnreachable = errors.New("peer unreachable")
	// ErrTooLarge: a best-effort payload over the link's limit.
	ErrTooLarge = errors.New("payload too large for best effort")
)
