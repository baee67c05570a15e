package bench

import (
	"testing"

	"github.com/seed44533760/pact/consensus"
)

// These tests check that the benchmarks' clusters decide at all, with a
// handful of entries each, so a broken harness shows up in `go test ./...`
// rather than in a benchmark run. They assert nothing about speed.

func TestPactCluster_DecidesOneAtATimeAndInBursts(t *testing.T) {
	for _, d := range durabilities {
		t.Run(string(d), func(t *testing.T) {
			c := newPactCluster(t, 4, d)
			for i := range uint64(5) {
				if lat := c.decideOne(t, entry(i+1)); lat <= 0 {
					t.Fatalf("decision %d took %s", i, lat)
				}
			}
			es := make([]consensus.Entry, 50)
			for i := range es {
				es[i] = entry(uint64(100 + i))
			}
			if _, heights := c.decideBurst(t, es); heights < 1 {
				t.Fatalf("50 entries decided in %d heights", heights)
			}
			if c.height < 7 {
				t.Fatalf("cluster at height %d after 6 decisions or more", c.height)
			}
		})
	}
}

func TestRaftCluster_DecidesOneAtATimeAndInBursts(t *testing.T) {
	if testing.Short() {
		t.Skip("an election takes a second or more under emulation")
	}
	c := newRaftCluster(t, 3, inMemory)
	for i := range uint64(5) {
		c.decideOne(t, entry(i+1))
	}
	es := make([][]byte, 50)
	for i := range es {
		es[i] = entry(uint64(100 + i))
	}
	if _, batches := c.decideBurst(t, es); batches < 1 {
		t.Fatalf("50 entries written in %d batches", batches)
	}
}

func TestFloor_Parts(t *testing.T) {
	p := measureFloor(t, onDisk, 10)
	if p.delay[0] <= 0 || p.verify[0] <= 0 || p.fsync[0] <= 0 {
		t.Fatalf("parts not measured: %+v", p)
	}
	if got := verifications(4); got != 7 {
		t.Errorf("verifications(4) = %d, want 1 + 2·3", got)
	}
	if got := verifications(7); got != 11 {
		t.Errorf("verifications(7) = %d, want 1 + 2·5", got)
	}
	if p.floor(4, onDisk, 0) <= p.floor(4, inMemory, 0) {
		t.Error("the fsync floor is not above the in-memory one")
	}
}
