package consensus

import "errors"

// Errors the core reports. Step returns them wrapped with detail; compare with
// errors.Is.
var (
	// ErrMalformed: a message or certificate is not well formed.
	ErrMalformed = errors.New("malformed message")
	// ErrBadSignature: a signature does not verify under the claimed sender's key.
	ErrBadSignature = errors.New("bad signature")
	// ErrUnknownValidator: the sender is not in the validator set of the height.
	ErrUnknownValidator = errors.New("not a validator at this height")
	// ErrStale: a message for a height or round the node has left behind. A
	// message signed for another cluster fails as ErrBadSignature instead.
	ErrStale = errors.New("message for a past height or round")
	// ErrNotProposer: a proposal from someone who is not the round's proposer.
	ErrNotProposer = errors.New("proposal from a validator that is not the proposer")
	// ErrInvalidBlock: the application rejected a proposed or committed block.
	ErrInvalidBlock = errors.New("invalid block")
	// ErrBadCertificate: a commit certificate that does not prove a decision.
	ErrBadCertificate = errors.New("commit certificate does not verify")
	// ErrDoubleSign: the guard refused to sign something that conflicts with
	// what this node already signed.
	ErrDoubleSign = errors.New("refused to sign: conflicts with an earlier signature")
	// ErrConfig: the configuration is invalid.
	ErrConfig = errors.New("invalid consensus config")
)
