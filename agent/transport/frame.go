package transport

import (
	"fmt"
)

// FrameVersion is the first byte of every frame. A receiver drops frames of
// any other version, so the layout can change with a new version.
const FrameVersion = 1

// Kind says what a frame carries. The transport verifies consensus messages
// itself; the agent registers a Vetter for each other kind it uses.
type Kind uint8

// Frame kinds. Values are part of the wire format: never renumber them.
const (
	// KindConsensus carries a consensus.Message (its Marshal encoding).
	KindConsensus Kind = 1
	// KindCapabilityRequest asks a peer for its signed capability document.
	KindCapabilityRequest Kind = 2
	// KindCapabilityResponse carries a signed capability document.
	KindCapabilityResponse Kind = 3
	// KindEvidence carries self-proving evidence of misbehaviour.
	KindEvidence Kind = 4
	// KindAccusation carries a signed accusation against a peer.
	KindAccusation Kind = 5
)

var kindNames = map[Kind]string{
	KindConsensus:          "consensus",
	KindCapabilityRequest:  "capability-request",
	KindCapabilityResponse: "capability-response",
	KindEvidence:           "evidence",
	KindAccusation:         "accusation",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// frameHeader is the size of [version][kind].
const frameHeader = 2

// EncodeFrame builds [FrameVersion][kind][payload]. The frame names no
// sender: who wrote a message is inside the payload, under its signature.
func EncodeFrame(kind Kind, payload []byte) []byte {
	f := make([]byte, frameHeader, frameHeader+len(payload))
	f[0], f[1] = FrameVersion, byte(kind)
	return append(f, payload...)
}

// DecodeFrame splits a frame. The payload aliases frame.
func DecodeFrame(frame []byte) (Kind, []byte, error) {
	if len(frame) < frameHeader {
		return 0, nil, fmt.Errorf("%w: %d bytes, shorter than the header", ErrMalformed, len(frame))
	}
	if frame[0] != FrameVersion {
		return 0, nil, fmt.Errorf("%w: frame version %d, want %d", ErrMalformed, frame[0], FrameVersion)
	}
	if frame[1] == 0 {
		return 0, nil, fmt.Errorf("%w: kind 0", ErrMalformed)
	}
	return Kind(frame[1]), frame[frameHeader:], nil
}
