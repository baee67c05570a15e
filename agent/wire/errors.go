package wire

import "errors"

// Errors reported by the package; compare with errors.Is.
var (
	// ErrMalformed: a payload or topic does not decode, is too large, lacks
	// a required field or has one of the wrong form.
	ErrMalformed = errors.New("malformed payload")
	// ErrBadSignature: a signature does not verify, or the payload was signed
	// for another cluster.
	ErrBadSignature = errors.New("bad signature")
	// ErrWrongCluster: a payload names another cluster than the one it was
	// checked for. It is matched by ErrBadSignature too, since a signature
	// binds the cluster.
	ErrWrongCluster = wrongCluster{}
	// ErrUnknownOperator: a request is signed by a key that is not one of the
	// cluster file's operators.
	ErrUnknownOperator = errors.New("request signed by an unknown operator key")
	// ErrUnsigned: a request carries no signature and the cluster does not
	// allow unsigned requests.
	ErrUnsigned = errors.New("unsigned request refused (the cluster file does not set allow_unsigned_requests)")
)

// wrongCluster is ErrWrongCluster: its own type so that it also matches
// ErrBadSignature with errors.Is.
type wrongCluster struct{}

func (wrongCluster) Error() string        { return "payload is for another cluster" }
func (wrongCluster) Is(target error) bool { return target == ErrBadSignature }
