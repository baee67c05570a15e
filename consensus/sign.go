package consensus

import (
	"crypto/ed25519"
	"encoding/binary"
)

// PublicKey is a validator's public key as bytes. For Ed25519 it is the
// 32-byte key; fake signers use the node name.
type PublicKey []byte

// Signer signs sign bytes with the node's private key. Implementations must be
// deterministic for a given key and message, and must not block.
type Signer interface {
	Sign(msg []byte) []byte
	PublicKey() PublicKey
}

// Verifier checks a signature by a public key. It must be safe for concurrent
// use, must not block, and must not keep msg or sig.
type Verifier interface {
	Verify(pub PublicKey, msg, sig []byte) bool
}

// Ed25519Signer signs with an Ed25519 private key (crypto/ed25519).
type Ed25519Signer struct{ Key ed25519.PrivateKey }

var _ Signer = Ed25519Signer{}

// Sign implements Signer.
func (s Ed25519Signer) Sign(msg []byte) []byte { return ed25519.Sign(s.Key, msg) }

// PublicKey implements Signer.
func (s Ed25519Signer) PublicKey() PublicKey {
	return PublicKey(s.Key.Public().(ed25519.PublicKey))
}

// Ed25519Verifier verifies Ed25519 signatures.
type Ed25519Verifier struct{}

var _ Verifier = Ed25519Verifier{}

// Verify implements Verifier.
func (Ed25519Verifier) Verify(pub PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(pub), msg, sig)
}

// FakeSigner produces cheap, insecure signatures: a 16-byte tag derived from
// the key and the message. It exists so the simulator and benchmarks can
// measure the protocol without the cost of cryptography. A tag still binds the
// message and the key, so forged or altered messages are rejected exactly as
// with Ed25519 — but anyone can compute one, so never use it outside tests.
type FakeSigner struct{ Key PublicKey }

var _ Signer = FakeSigner{}

// Sign implements Signer.
func (s FakeSigner) Sign(msg []byte) []byte { return fakeTag(s.Key, msg) }

// PublicKey implements Signer.
func (s FakeSigner) PublicKey() PublicKey { return s.Key }

// FakeVerifier checks FakeSigner tags.
type FakeVerifier struct{}

var _ Verifier = FakeVerifier{}

// Verify implements Verifier.
func (FakeVerifier) Verify(pub PublicKey, msg, sig []byte) bool {
	if len(sig) != 16 {
		return false
	}
	want := fakeTag(pub, msg)
	return string(want) == string(sig)
}

// fakeTag mixes key and message with FNV-1a over two lanes: cheap, and good
// enough that random or altered messages do not collide in tests.
func fakeTag(key, msg []byte) []byte {
	const prime = 1099511628211
	a, b := uint64(14695981039346656037), uint64(0x9e3779b97f4a7c15)
	for _, c := range key {
		a = (a ^ uint64(c)) * prime
		b = (b ^ uint64(c)) * prime
	}
	a = (a ^ 0xff) * prime
	for i, c := range msg {
		a = (a ^ uint64(c)) * prime
		b = (b ^ uint64(c) ^ uint64(i)<<8) * prime
	}
	out := make([]byte, 16)
	binary.BigEndian.PutUint64(out, a)
	binary.BigEndian.PutUint64(out[8:], b)
	return out
}
