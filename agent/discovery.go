package agent

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/consensus"
)

// Peers announce the digest of their capability document in memberlist
// meta. When a digest is one this node has not seen — a candidate that is
// not a validator yet, or a validator whose new document is not decided yet
// — the node asks the peer for the document and keeps it as announced:
// visible in `pact status`, never used for decisions, which go by committed
// documents only.

const (
	// pollTicks is how often the loop looks for unknown digests in meta.
	pollTicks = 10
	// askAgainTicks is how long the node waits before asking the same peer
	// again.
	askAgainTicks = 50
)

// pollMembers asks peers with unknown document digests for their documents.
func (a *Agent) pollMembers() {
	if a.members == nil {
		return
	}
	for _, m := range a.members.Members() {
		if m.Name == a.name || !m.State.Reachable() {
			continue
		}
		meta, err := decodeMeta(m.Meta)
		if err != nil || meta.digest == ([32]byte{}) || a.knowsDigest(m.Name, meta.digest) {
			continue
		}
		if last, ok := a.asked[m.Name]; ok && a.ticks-last < askAgainTicks {
			continue
		}
		a.asked[m.Name] = a.ticks
		a.net.SendFrame(m.Name, transport.KindCapabilityRequest, []byte(a.name), true)
	}
}

func (a *Agent) knowsDigest(name string, digest [32]byte) bool {
	if d := a.state.Capabilities[name]; d != nil && d.Digest() == digest {
		return true
	}
	if d := a.announced[name]; d != nil && d.Digest() == digest {
		return true
	}
	return false
}

// answerCapabilityRequest sends this node's signed document to whoever asks:
// it is public, and the reply goes to the member name, not to an address the
// request names.
func (a *Agent) answerCapabilityRequest(from string) {
	a.net.SendFrame(from, transport.KindCapabilityResponse, a.doc.Marshal(), true)
}

// takeAnnounced keeps a peer's document once its signature verified (the
// transport's vetter) and its key is the one the peer announces in meta.
func (a *Agent) takeAnnounced(payload []byte) {
	d, err := capability.Unmarshal(payload)
	if err != nil || d.Node == a.name {
		a.counters.refusedEntries++
		return
	}
	pub, err := d.PublicKey()
	if err != nil {
		return
	}
	if a.members != nil {
		m, ok := a.members.Member(d.Node)
		meta, merr := decodeMeta(m.Meta)
		if !ok || merr != nil || !bytes.Equal(meta.key, pub) {
			a.counters.refusedEntries++
			return
		}
	}
	if c := a.state.Capabilities[d.Node]; c != nil && c.Digest() == d.Digest() {
		delete(a.announced, d.Node)
		return
	}
	a.announced[d.Node] = d
}

// capabilityRequestVetter lets requests through: they ask for public data
// and name the member the answer goes to.
type capabilityRequestVetter struct{}

func (capabilityRequestVetter) Sender(p []byte) (string, error) {
	if len(p) == 0 || len(p) > 63 {
		return "", fmt.Errorf("%w: capability request names no node", transport.ErrMalformed)
	}
	return string(p), nil
}

func (capabilityRequestVetter) Verify(string, consensus.PublicKey, bool, []byte) error { return nil }

// capabilityResponseVetter checks the document's signature, and for a
// validator that the key is the validator's.
type capabilityResponseVetter struct{ cluster string }

func (capabilityResponseVetter) Sender(p []byte) (string, error) {
	d, err := capability.Unmarshal(p)
	if err != nil {
		return "", fmt.Errorf("%w: %v", transport.ErrMalformed, err)
	}
	return d.Node, nil
}

func (v capabilityResponseVetter) Verify(from string, key consensus.PublicKey, known bool, p []byte) error {
	d, err := capability.Unmarshal(p)
	if err != nil {
		return fmt.Errorf("%w: %v", transport.ErrMalformed, err)
	}
	if err := d.Verify(v.cluster); err != nil {
		return fmt.Errorf("%w: %v", transport.ErrBadSignature, err)
	}
	if known {
		pub, _ := d.PublicKey()
		if !ed25519.PublicKey(key).Equal(pub) {
			return fmt.Errorf("%w: document of %s signed with a key that is not the validator's", transport.ErrBadSignature, from)
		}
	}
	return nil
}
