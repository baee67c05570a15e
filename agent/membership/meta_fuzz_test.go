package membership

import (
	"bytes"
	"errors"
	"testing"
)

// metaSeeds are node metas as encodeMeta writes them.
func metaSeeds() [][]byte {
	app := append([]byte{1}, bytes.Repeat([]byte{0xab}, 64)...)
	return [][]byte{encodeMeta(app, false), encodeMeta(app, true), encodeMeta(nil, false)}
}

// Every peer's meta goes through decodeMeta (the gate, join and update
// delegates). What decodes re-encodes to the same bytes.
func FuzzDecodeMeta(f *testing.F) {
	for _, s := range metaSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		meta, leaving, err := decodeMeta(raw)
		if err != nil {
			if !errors.Is(err, ErrBadMeta) {
				t.Fatalf("decodeMeta: %v, want ErrBadMeta", err)
			}
			return
		}
		if again := encodeMeta(meta, leaving); !bytes.Equal(again, raw) {
			t.Fatalf("meta %x re-encodes as %x", raw, again)
		}
		if len(raw) > 0 && len(meta) > 0 && &meta[0] == &raw[1] {
			t.Fatal("decodeMeta returned an alias of the peer's bytes")
		}
	})
}
