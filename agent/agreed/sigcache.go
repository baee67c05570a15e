package agreed

import (
	"crypto/sha256"
	"encoding/json"

	"github.com/seed44533760/pact/agent/wire"
)

// verifiedCache remembers the requests and readings whose signatures this
// state has verified, so that an entry judged again — when it is built,
// gossiped, proposed and validated, and rebuilt after every height while
// its request waits — costs one hash instead of one Ed25519 verification
// each time. Only successes are kept, keyed by a digest of the whole signed
// payload (signature and key included); the verdict depends on nothing else
// that can change (the cluster and its operators are fixed for the State),
// so the cache never changes a result. It is bounded, oldest out first.
type verifiedCache struct {
	seen  map[[32]byte]struct{}
	order [][32]byte
	next  int
}

const verifiedCacheSize = 8192

func (c *verifiedCache) has(k [32]byte) bool {
	_, ok := c.seen[k]
	return ok
}

func (c *verifiedCache) add(k [32]byte) {
	if c.seen == nil {
		c.seen = make(map[[32]byte]struct{}, verifiedCacheSize)
		c.order = make([][32]byte, 0, verifiedCacheSize)
	}
	if _, ok := c.seen[k]; ok {
		return
	}
	if len(c.order) < verifiedCacheSize {
		c.order = append(c.order, k)
	} else {
		delete(c.seen, c.order[c.next])
		c.order[c.next] = k
		c.next = (c.next + 1) % verifiedCacheSize
	}
	c.seen[k] = struct{}{}
}

func payloadDigest(domain string, v any) ([32]byte, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return [32]byte{}, false
	}
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write([]byte{0})
	h.Write(b)
	var k [32]byte
	h.Sum(k[:0])
	return k, true
}

// verifyRequest is wire.VerifyRequestBy with the cache.
func (s *State) verifyRequest(req *wire.Request) error {
	k, ok := payloadDigest(wire.DomainRequest, req)
	if ok && s.verified.has(k) {
		return nil
	}
	if _, err := wire.VerifyRequestBy(s.cluster, req, s.operators, s.rules.AllowUnsigned); err != nil {
		return err
	}
	if ok {
		s.verified.add(k)
	}
	return nil
}
