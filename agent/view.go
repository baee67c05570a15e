package agent

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/membership"
	"github.com/seed44533760/pact/consensus"
)

// view is what other goroutines may know of the agreed state: published by
// the loop after every decided height through an atomic pointer, never
// modified after publication.
type view struct {
	height     uint64
	validators map[string]ed25519.PublicKey
	ejected    map[string]bool
}

func newView(s *agreed.State) *view {
	v := &view{height: s.Height, validators: map[string]ed25519.PublicKey{}, ejected: map[string]bool{}}
	for _, name := range s.ValidatorNames() {
		k, _ := s.ValidatorKey(name)
		v.validators[name] = k
	}
	for _, name := range s.EjectedNames() {
		v.ejected[name] = true
	}
	return v
}

// key is the transport's Keys function.
func (v *view) key(name string) (consensus.PublicKey, bool) {
	k, ok := v.validators[name]
	return consensus.PublicKey(k), ok
}

// allow is the membership gate: ejected nodes stay out, and so does a node
// that uses a validator's name with another key.
func (v *view) allow(name string, meta []byte) error {
	if v.ejected[name] {
		return fmt.Errorf("%w: %s was ejected", membership.ErrEjected, name)
	}
	want, ok := v.validators[name]
	if !ok {
		return nil // a candidate: visible, no vote
	}
	m, err := decodeMeta(meta)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", membership.ErrWrongKey, name, err)
	}
	if !want.Equal(m.key) {
		return fmt.Errorf("%w: %s announces a key that is not the validator's", membership.ErrWrongKey, name)
	}
	return nil
}

// nodeMeta is what a node announces in memberlist meta: its identity key,
// the digest and sequence number of its capability document, and its
// height. Far below memberlist's 512 bytes.
type nodeMeta struct {
	key    ed25519.PublicKey
	digest [32]byte
	seq    uint64
	height uint64
}

const metaVersion = 1

func (m *nodeMeta) encode() []byte {
	b := make([]byte, 0, 1+32+32+20)
	b = append(b, metaVersion)
	b = append(b, m.key...)
	b = append(b, m.digest[:]...)
	b = binary.AppendUvarint(b, m.seq)
	return binary.AppendUvarint(b, m.height)
}

var errMeta = errors.New("malformed node meta")

func decodeMeta(b []byte) (*nodeMeta, error) {
	if len(b) < 1+32+32+2 || b[0] != metaVersion {
		return nil, errMeta
	}
	m := &nodeMeta{key: ed25519.PublicKey(append([]byte(nil), b[1:33]...))}
	copy(m.digest[:], b[33:65])
	rest := b[65:]
	var n int
	if m.seq, n = binary.Uvarint(rest); n <= 0 {
		return nil, errMeta
	}
	rest = rest[n:]
	if m.height, n = binary.Uvarint(rest); n <= 0 || n != len(rest) {
		return nil, errMeta
	}
	return m, nil
}
