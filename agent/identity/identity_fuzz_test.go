package identity

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
)

// The identity key file is read at every start. Whatever it holds, Parse
// returns a key or ErrMalformed; a key it returns encodes to a file that
// parses to the same key. Its seed corpus is committed under
// testdata/fuzz/FuzzParse, so plain `go test` replays it.
func FuzzParse(f *testing.F) {
	for _, seed := range []byte{1, 2} {
		b, err := Encode(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse: %v, want ErrMalformed", err)
			}
			return
		}
		if len(key) != ed25519.PrivateKeySize {
			t.Fatalf("Parse returned a %d-byte key", len(key))
		}
		enc, err := Encode(key)
		if err != nil {
			t.Fatalf("Encode of a parsed key: %v", err)
		}
		again, err := Parse(enc)
		if err != nil || !again.Equal(key) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
