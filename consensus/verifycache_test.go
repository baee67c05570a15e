package consensus

import (
	"crypto/ed25519"
	"sync/atomic"
	"testing"
)

type countingVerifier struct {
	inner Verifier
	calls atomic.Int64
}

func (v *countingVerifier) Verify(pub PublicKey, msg, sig []byte) bool {
	v.calls.Add(1)
	return v.inner.Verify(pub, msg, sig)
}

// A signature verified once is not verified again; a changed message, key
// or signature is, and fails; failures are never remembered; the bound
// holds.
func TestVerifyCache(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	pub2, _, _ := ed25519.GenerateKey(nil)
	inner := &countingVerifier{inner: Ed25519Verifier{}}
	c := NewVerifyCache(inner, 2)
	msg := []byte("prevote h=1")
	sig := ed25519.Sign(priv, msg)

	for range 2 {
		if !c.Verify(PublicKey(pub), msg, sig) {
			t.Fatal("a valid signature was refused")
		}
	}
	if n := inner.calls.Load(); n != 1 {
		t.Errorf("inner verifications = %d after the same signature twice, want 1", n)
	}
	bad := append([]byte(nil), sig...)
	bad[0] ^= 1
	for name, ok := range map[string]bool{
		"other message":   c.Verify(PublicKey(pub), []byte("prevote h=2"), sig),
		"other key":       c.Verify(PublicKey(pub2), msg, sig),
		"other signature": c.Verify(PublicKey(pub), msg, bad),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
	before := inner.calls.Load()
	if c.Verify(PublicKey(pub), msg, bad) {
		t.Error("a forged signature was accepted the second time")
	}
	if inner.calls.Load() != before+1 {
		t.Error("a failure was answered from the cache")
	}
	// Two more valid signatures push the first out of a cache of two.
	for _, m := range []string{"a", "b"} {
		if !c.Verify(PublicKey(pub), []byte(m), ed25519.Sign(priv, []byte(m))) {
			t.Fatal("valid signature refused")
		}
	}
	before = inner.calls.Load()
	c.Verify(PublicKey(pub), msg, sig)
	if inner.calls.Load() != before+1 {
		t.Error("the oldest entry outlived the bound")
	}
	if hits, verified := c.Stats(); hits != 1 || verified != 4 {
		t.Errorf("Stats = %d hits, %d verified; want 1, 4", hits, verified)
	}
}
