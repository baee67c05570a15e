package store

import (
	"bytes"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// A power cut is not a SIGKILL (crash_test.go): the process dies with the
// kernel, and with it every write that was not yet fsync'd, in part or
// whole, in any order. What survives of a commit that was cut short is
// some subset of the pages it wrote (each possibly torn at any byte), and
// its meta page only if every page before it reached the disk, since bbolt
// fsyncs between the two.
//
// The test replays that on the bytes: for each write of a recorded history
// it builds files from the state before the write plus a random part of
// what the write changed, and opens them. Each must open cleanly (a power
// cut is not corruption, and a node that cannot start after one is as lost
// as one that forgets) and hold the state before the write or after it —
// never an older one, and never a mix of two writes.
func TestPowerCut_UnsyncedWritesLost(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PACT_STORE_POWERCUT_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (PACT_STORE_POWERCUT_SEED=%d reruns it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	heights, cuts := uint64(12), 12
	if testing.Short() {
		heights, cuts = 6, 4
	}
	history := writeHistory(t, tempStatePath(t), heights)
	ps := imagePageSize(t, history[0].image)
	path := tempStatePath(t)

	kinds := map[string]int{}
	for i := 1; i < len(history); i++ {
		before, after := history[i-1], history[i]
		for range cuts {
			img, kind := cutShort(rng, before.image, after.image, ps)
			kinds[kind]++
			if err := os.WriteFile(path, img, 0o600); err != nil {
				t.Fatal(err)
			}
			want := []durable{before, after}
			switch kind {
			case "none written", "data pages only":
				want = want[:1]
			case "meta written":
				want = want[1:]
			}
			if got, err := checkDurable(path, want...); err != nil {
				t.Fatalf("power cut during %q (%s): %v\nwant guard h=%d %s, height %d, snapshot %d (got %+v)",
					after.op, kind, err, want[len(want)-1].guard.Height, want[len(want)-1].guard.Step,
					want[len(want)-1].height, want[len(want)-1].snapshot, got.guard)
			}
		}
	}
	t.Logf("%d writes, %d cuts each: %v", len(history)-1, cuts, kinds)
}

// cutShort returns the file as a power cut during the write that turned
// before into after may leave it, and which kind of cut it was.
func cutShort(rng *rand.Rand, before, after []byte, ps int) ([]byte, string) {
	if rng.IntN(8) == 0 {
		return bytes.Clone(before), "none written"
	}
	// bbolt grows the file and fsyncs before it writes pages, so the new
	// length is durable by the time any page is: the grown part reads as
	// zeros unless its page got written.
	img := make([]byte, max(len(before), len(after)))
	copy(img, before)
	page := func(b []byte, id int) []byte {
		lo, hi := id*ps, (id+1)*ps
		if lo >= len(b) {
			return make([]byte, ps)
		}
		return b[lo:min(hi, len(b))]
	}
	meta := -1
	var data []int
	for id := 0; id*ps < len(img); id++ {
		if bytes.Equal(page(before, id), page(after, id)) {
			continue
		}
		if id < 2 {
			meta = id
		} else {
			data = append(data, id)
		}
	}
	// Each data page reached the disk whole, torn (a prefix of it, cut at a
	// sector boundary or anywhere), or not at all.
	whole := 0
	for _, id := range data {
		dst := img[id*ps : (id+1)*ps]
		switch rng.IntN(4) {
		case 0, 1:
			copy(dst, page(after, id))
			whole++
		case 2:
			n := rng.IntN(ps)
			if rng.IntN(2) == 0 {
				n &^= 511
			}
			copy(dst[:n], page(after, id))
		}
	}
	if meta < 0 || whole < len(data) {
		return img, "data pages only"
	}
	// Every data page is on disk; the meta page after them may be too.
	dst := img[meta*ps : (meta+1)*ps]
	switch rng.IntN(3) {
	case 0:
		return img, "data pages only"
	case 1:
		copy(dst[:1+rng.IntN(pageHeaderSize+metaSize-1)], page(after, meta))
		return img, "meta page torn"
	}
	copy(dst, page(after, meta))
	return img, "meta written"
}
