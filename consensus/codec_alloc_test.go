package consensus

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
)

// packetOfEmpties is a proposal whose block holds n empty entries, or a
// commit whose certificate holds n empty votes: the most items per byte
// the encoding allows (one byte an entry, two a vote).
func packetOfEmpties(n int, votes bool) []byte {
	b := []byte{wireVersion, byte(MsgProposal), 1, 'a', 1, 0, 0}
	if votes {
		b[1] = byte(MsgCommit)
	}
	b = append(b, make([]byte, 32)...) // block hash
	if votes {
		b = append(b, 0, 1, 1, 0, 0) // no block; commit: height 1, no entries, round 0
		b = binary.AppendUvarint(b, uint64(n))
		b = append(b, make([]byte, 2*n)...)
	} else {
		b = append(b, 1, 1) // block: height 1
		b = binary.AppendUvarint(b, uint64(n))
		b = append(b, make([]byte, n)...)
		b = append(b, 0) // no commit
	}
	return append(b, 0) // no signature
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A hostile packet cannot make Unmarshal allocate much more than its own
// size: a 1 MB packet of empty entries or votes used to cost 24 MB (a
// 4 MB one 100 MB), on a memberlist goroutine, before any signature check.
func TestUnmarshal_BoundedAllocation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		votes bool
		ok    bool
	}{
		{"a million empty entries", 1 << 20, false, false},
		{"half a million empty votes", 1 << 19, true, false},
		{"the most entries a block carries", maxEntries, false, true},
		{"the most votes a certificate carries", maxVotes, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := packetOfEmpties(tc.n, tc.votes)
			var err error
			got := allocated(func() { _, err = Unmarshal(p) })
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrMalformed)) {
				t.Fatalf("Unmarshal: %v, want ok=%v", err, tc.ok)
			}
			// The bound: the items' headers at their caps, plus slack.
			limit := uint64(len(p)) + 24*maxEntries + 40*maxVotes + 64<<10
			if got > limit {
				t.Fatalf("a %d-byte packet allocated %d bytes, more than %d", len(p), got, limit)
			}
			t.Logf("%d-byte packet: %v, %d bytes allocated", len(p), err, got)
		})
	}
}

func TestConfig_MaxBlockEntriesFitsTheWire(t *testing.T) {
	c := DefaultConfig()
	c.Cluster, c.ID = "c", "n1"
	c.MaxBlockEntries = maxEntries + 1
	if err := c.Validate(); err == nil {
		t.Fatal("Validate accepted more block entries than the codec decodes")
	}
}
