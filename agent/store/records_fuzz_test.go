package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

// Fuzz targets for what the store reads back from the disk, beside
// FuzzDecodeGuard (guard_test.go): the payloads of the other records, and
// whole state files. Their seed corpora are committed under
// testdata/fuzz/<target>, so plain `go test` replays them.

// recordDecoders decode one record payload (its checksum already checked)
// and re-encode what they decoded. The fuzz input's first byte picks one;
// the order is part of the committed corpus, so add new ones at the end.
var recordDecoders = []struct {
	name   string
	decode func(p []byte) (reencoded []byte, err error)
}{
	{"commit", func(p []byte) ([]byte, error) {
		c, err := decodeCommit(9, p)
		if err != nil {
			return nil, err
		}
		// The message around the commit may carry fields encodeCommit
		// leaves empty (a sender, a signature), which decodeCommit
		// ignores: the commit is what must come back.
		enc := encodeCommit(c)
		again, err := decodeCommit(9, enc)
		if err != nil || !bytes.Equal(encodeCommit(again), enc) {
			return nil, fmt.Errorf("commit round trip: %v", err)
		}
		return nil, nil
	}},
	{"snapshot", func(p []byte) ([]byte, error) {
		s, err := decodeSnapshot(p)
		if err != nil {
			return nil, err
		}
		return encodeSnapshot(s), nil
	}},
	{"outbox message", func(p []byte) ([]byte, error) {
		m, err := decodeOutbound(3, p)
		if err != nil {
			return nil, err
		}
		again, err := decodeOutbound(3, encodeOutbound(m.Topic, m.Payload))
		if err != nil || again.Topic != m.Topic || !bytes.Equal(again.Payload, m.Payload) {
			return nil, errors.New("outbox message round trip failed")
		}
		return nil, nil // the topic length may be a longer varint than needed
	}},
	{"execution", func(p []byte) ([]byte, error) {
		k := []byte("i-7")
		e, err := decodeExecution(k, seal(bucketExec, k, bytes.Clone(p)))
		if err != nil {
			return nil, err
		}
		if e.Instance != "i-7" || len(e.Output)+len(e.Outcome) > len(p) {
			return nil, errors.New("execution decodes to more than it holds")
		}
		return nil, nil
	}},
}

func recordSeeds() [][]byte {
	c := testCommit(9, 4, 1)
	return [][]byte{
		append([]byte{0}, encodeCommit(&c)...),
		append([]byte{1}, encodeSnapshot(&Snapshot{Height: 9, Data: []byte(`{"height":9}`)})...),
		append([]byte{2}, encodeOutbound("pact/greenhouse/outcomes/blink/i-1", []byte(`{"ok":true}`))...),
		append([]byte{3}, 0, 0, 0, 0, 0, 0, 0, 5, 1, 3, 'f', 'a', 'n', '{', '}'),
	}
}

// A record payload decodes or is refused as ErrCorrupt; what decodes
// re-encodes to the same bytes (the snapshot), or to a payload that
// decodes to the same value (the commit, the outbox message).
func FuzzDecodeRecords(f *testing.F) {
	for _, s := range recordSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		d := recordDecoders[int(in[0])%len(recordDecoders)]
		p := in[1:]
		again, err := d.decode(p)
		switch {
		case err != nil && !errors.Is(err, ErrCorrupt):
			t.Fatalf("%s: %v, want ErrCorrupt", d.name, err)
		case err == nil && again != nil && !bytes.Equal(again, p):
			t.Fatalf("%s: %x re-encodes as %x", d.name, p, again)
		}
	})
}

// FuzzOpen damages a state file and opens it: the input overwrites bytes at
// an offset (or, with the offset's top bit set, truncates the file there).
// Open reports ErrCorrupt naming the file, or opens a store that reads back
// the last or the one before last guard and keeps working: it never
// panics, hangs or reports a guard the node never saved.
func FuzzOpen(f *testing.F) {
	history := writeHistory(f, tempStatePath(f), 4)
	base := history[len(history)-1]
	want := []durable{history[len(history)-2], base}
	ps := imagePageSize(f, base.image)
	f.Add(uint32(0), []byte{})
	f.Add(uint32(2*ps+20), []byte{0xff, 0xff})           // a page header
	f.Add(uint32(3*ps+100), bytes.Repeat([]byte{0}, 64)) // inside a page
	f.Add(uint32(1<<31|4*ps), []byte{})                  // truncated
	f.Add(uint32(16+20), []byte{0x7f})                   // a meta page's root
	path := tempStatePath(f)
	f.Fuzz(func(t *testing.T, at uint32, patch []byte) {
		img := bytes.Clone(base.image)
		if at&(1<<31) != 0 {
			img = img[:int(at&^(1<<31))%len(img)]
		} else {
			off := int(at) % len(img)
			copy(img[off:], patch)
		}
		if err := os.WriteFile(path, img, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := checkDurable(path, want...)
		switch {
		case err == nil:
		case errors.Is(err, errNotDurable):
			// bbolt checksums only its meta pages: damage that drops
			// elements from a leaf can shorten the decided log unseen
			// (the node catches up from its peers). The guard is what
			// must never go back.
			if got.guard != want[0].guard && got.guard != want[1].guard {
				t.Fatalf("a damaged file reads back a guard the node never saved last: %v", err)
			}
		case errors.Is(err, ErrCorrupt):
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("the error does not name the file: %v", err)
			}
		default:
			t.Fatalf("a damaged file: %v, want ErrCorrupt or the last durable state", err)
		}
		s, err := Open(path, testCluster, testNode, &Options{MustExist: true})
		if err != nil {
			return
		}
		defer s.Close()
		if err := s.SaveGuard(testGuard(50, 0, consensus.StepPrevote)); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("SaveGuard on a file that opened: %v", err)
		}
	})
}

// imagePageSize is the page size of the bbolt file whose bytes are b.
func imagePageSize(t testing.TB, b []byte) int {
	t.Helper()
	m, err := readMeta(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return m.pageSize
}
