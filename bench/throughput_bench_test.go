package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// burstEntries is how many entries one iteration of BenchmarkThroughput
// hands over at once: about ten of pact's blocks (MaxBlockEntries 1,024),
// about 160 of raft's AppendEntries batches (MaxAppendEntries 64).
const burstEntries = 10_000

// BenchmarkThroughput hands burstEntries entries to the cluster at once
// and waits until all are decided: for pact, handed to every node (as the
// broker hands requests to every agent) and decided at node-1; for raft,
// Applied on the leader without waiting, then every future waited for.
// It reports entries/s and decisions/s: pact's decided heights (blocks),
// raft's batches written by the leader (StoreLogs calls).
func BenchmarkThroughput(b *testing.B) {
	for _, n := range clusterSizes {
		for _, d := range durabilities {
			prefix := fmt.Sprintf("n=%d/%s/", n, d)
			b.Run(prefix+"pact", func(b *testing.B) {
				c := newPactCluster(b, n, d)
				var seq uint64
				burst := func() (time.Duration, int) {
					es := make([]consensus.Entry, burstEntries)
					for i := range es {
						seq++
						es[i] = entry(seq)
					}
					return c.decideBurst(b, es)
				}
				burst() // warm-up
				reportThroughput(b, burst)
				b.ReportMetric(float64(c.stopAndCountRoundChanges()), "round-changes")
			})
			b.Run(prefix+"raft", func(b *testing.B) {
				c := newRaftCluster(b, n, d)
				var seq uint64
				burst := func() (time.Duration, int) {
					es := make([][]byte, burstEntries)
					for i := range es {
						seq++
						es[i] = entry(seq)
					}
					return c.decideBurst(b, es)
				}
				burst()
				reportThroughput(b, burst)
				b.ReportMetric(float64(c.leaderChanges), "leader-changes")
			})
		}
	}
}

func reportThroughput(b *testing.B, burst func() (time.Duration, int)) {
	var took time.Duration
	decisions, bursts := 0, 0
	for b.Loop() {
		t, k := burst()
		took += t
		decisions += k
		bursts++
	}
	s := took.Seconds()
	b.ReportMetric(float64(bursts*burstEntries)/s, "entries/s")
	b.ReportMetric(float64(decisions)/s, "decisions/s")
	b.ReportMetric(float64(decisions)/float64(bursts), "decisions/burst")
	b.ReportMetric(1e3*s/float64(bursts), "ms/burst")
}
