package consensus

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// VerifyCache is a Verifier that remembers the signatures it found valid, so
// that one message checked twice — by the transport's workers when it
// arrives, and by the core before it counts it — costs one Ed25519
// verification and one SHA-256. Only successes are kept, keyed by a digest
// of the key, the message and the signature together, so a hit is exactly
// a verification that already succeeded: the cache never changes a result.
// It is bounded (oldest out first) and safe for concurrent use.
type VerifyCache struct {
	inner Verifier

	mu    sync.Mutex
	seen  map[[32]byte]struct{}
	order [][32]byte
	next  int
	size  int

	hits, misses uint64
}

var _ Verifier = (*VerifyCache)(nil)

// NewVerifyCache wraps inner with a cache of size verified signatures.
func NewVerifyCache(inner Verifier, size int) *VerifyCache {
	return &VerifyCache{inner: inner, size: max(size, 1), seen: map[[32]byte]struct{}{}}
}

// Verify implements Verifier.
func (c *VerifyCache) Verify(pub PublicKey, msg, sig []byte) bool {
	k := verifyKey(pub, msg, sig)
	c.mu.Lock()
	_, ok := c.seen[k]
	if ok {
		c.hits++
	}
	c.mu.Unlock()
	if ok {
		return true
	}
	if !c.inner.Verify(pub, msg, sig) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.misses++
	if _, ok := c.seen[k]; ok {
		return true
	}
	if len(c.order) < c.size {
		c.order = append(c.order, k)
	} else {
		delete(c.seen, c.order[c.next])
		c.order[c.next] = k
		c.next = (c.next + 1) % c.size
	}
	c.seen[k] = struct{}{}
	return true
}

// Stats reports the verifications answered from the cache and those that
// needed the inner verifier and succeeded.
func (c *VerifyCache) Stats() (hits, verified uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

func verifyKey(pub PublicKey, msg, sig []byte) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, b := range [][]byte{pub, msg, sig} {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}
