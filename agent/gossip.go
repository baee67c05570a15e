package agent

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/consensus"
)

// kindEntry frames carry an entry a validator wants decided (its capability
// advert, an ejection it has evidence for, an admission an operator signed)
// to every peer, so that whoever proposes next can include it: the
// cluster's mempool. The frame is signed by the validator that forwards it,
// so the transport can rate-limit and authenticate it like a vote; the entry
// itself is judged by the agreed state before anyone proposes it.
const kindEntry transport.Kind = 6

func entrySignBytes(cluster string, entry consensus.Entry) []byte {
	return agreed.EntryFrameSignBytes(cluster, entry)
}

// encodeEntryFrame builds [from][signature][entry], lengths as uvarints.
func encodeEntryFrame(cluster, from string, key ed25519.PrivateKey, entry consensus.Entry) []byte {
	sig := ed25519.Sign(key, entrySignBytes(cluster, entry))
	b := binary.AppendUvarint(nil, uint64(len(from)))
	b = append(b, from...)
	b = binary.AppendUvarint(b, uint64(len(sig)))
	b = append(b, sig...)
	return append(b, entry...)
}

func decodeEntryFrame(p []byte) (from string, sig []byte, entry consensus.Entry, err error) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n == 0 || n > 255 || uint64(len(p)-k) < n {
		return "", nil, nil, fmt.Errorf("%w: entry frame sender", transport.ErrMalformed)
	}
	from, p = string(p[k:k+int(n)]), p[k+int(n):]
	n, k = binary.Uvarint(p)
	if k <= 0 || n != ed25519.SignatureSize || uint64(len(p)-k) < n {
		return "", nil, nil, fmt.Errorf("%w: entry frame signature", transport.ErrMalformed)
	}
	sig, entry = p[k:k+int(n)], consensus.Entry(p[k+int(n):])
	if len(entry) == 0 {
		return "", nil, nil, fmt.Errorf("%w: empty entry", transport.ErrMalformed)
	}
	return from, sig, entry, nil
}

// entryVetter authenticates entry frames for the transport.
type entryVetter struct{ cluster string }

func (entryVetter) Sender(p []byte) (string, error) {
	from, _, _, err := decodeEntryFrame(p)
	return from, err
}

func (v entryVetter) Verify(from string, key consensus.PublicKey, known bool, p []byte) error {
	if !known {
		return fmt.Errorf("%w: entry from %s, who is not a validator", transport.ErrBadSignature, from)
	}
	_, sig, entry, err := decodeEntryFrame(p)
	if err != nil {
		return err
	}
	if !ed25519.Verify(ed25519.PublicKey(key), entrySignBytes(v.cluster, entry), sig) {
		return fmt.Errorf("%w: entry from %s", transport.ErrBadSignature, from)
	}
	return nil
}
