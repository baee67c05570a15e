package membership

import (
	"fmt"

	"github.com/hashicorp/memberlist"
)

// MaxMetaSize is the most meta Config.Meta may return: memberlist's 512
// bytes (memberlist.MetaMaxSize) less the one-byte header this package puts
// in front.
const MaxMetaSize = memberlist.MetaMaxSize - 1

// The meta header: the high nibble is the header version, the low nibble
// carries flags. It lets a node announce that it is leaving, which memberlist
// cannot tell its delegates (NotifyLeave does not say whether a node left or
// failed), and leaves room to change the layout later.
const (
	metaVersion  = 1
	flagLeaving  = 1 << 0
	knownFlags   = flagLeaving
	metaVerShift = 4
)

// encodeMeta prepends the header to the application's meta.
func encodeMeta(meta []byte, leaving bool) []byte {
	h := byte(metaVersion << metaVerShift)
	if leaving {
		h |= flagLeaving
	}
	out := make([]byte, 0, 1+len(meta))
	out = append(out, h)
	return append(out, meta...)
}

// decodeMeta splits a peer's meta into the application's part and the
// leaving flag. The application part is a copy.
func decodeMeta(raw []byte) (meta []byte, leaving bool, err error) {
	if len(raw) == 0 {
		return nil, false, fmt.Errorf("%w: no header", ErrBadMeta)
	}
	h := raw[0]
	if h>>metaVerShift != metaVersion {
		return nil, false, fmt.Errorf("%w: header version %d, want %d", ErrBadMeta, h>>metaVerShift, metaVersion)
	}
	if h&0x0f&^knownFlags != 0 {
		return nil, false, fmt.Errorf("%w: unknown flags %#x", ErrBadMeta, h&0x0f)
	}
	return append([]byte(nil), raw[1:]...), h&flagLeaving != 0, nil
}

// checkMeta enforces MaxMetaSize with an error that says what to do.
func checkMeta(meta []byte) error {
	if len(meta) > MaxMetaSize {
		return fmt.Errorf("%w: %d bytes, at most %d fit in memberlist's node meta (memberlist#191); put a digest and a version there, not the document",
			ErrMetaTooLarge, len(meta), MaxMetaSize)
	}
	return nil
}
