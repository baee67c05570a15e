package bench

import (
	"fmt"
	"testing"
	"time"
)

// decisionsPerOp is how many decisions one iteration of
// BenchmarkDecisionLatency takes, one after the other. The percentiles are
// over every decision of the run: at least this many, more when the
// default -benchtime of one second leaves room for further iterations.
const decisionsPerOp = 200

// warmUp decisions run before the clock: the first heights grow maps, the
// bbolt file and the transports' queues.
const warmUp = 20

var (
	clusterSizes = []int{4, 7}
	durabilities = []durability{inMemory, onDisk}
)

// BenchmarkDecisionLatency measures one decision at a time for pact, for
// raft, and the floor, per cluster size and durability. Each sub-benchmark
// reports ms-p50 and ms-p99 (over all decisions) and ms-mean; ns/op is the
// time of decisionsPerOp decisions and says nothing on its own.
// bench/cmd/benchtable turns them into the table of ratios.
func BenchmarkDecisionLatency(b *testing.B) {
	for _, n := range clusterSizes {
		for _, d := range durabilities {
			prefix := fmt.Sprintf("n=%d/%s/", n, d)
			b.Run(prefix+"pact", func(b *testing.B) {
				c := newPactCluster(b, n, d)
				var seq uint64
				decide := func() time.Duration { seq++; return c.decideOne(b, entry(seq)) }
				var signs, verifies, writes uint64
				lat, cpu := sampleLatencies(b, decide, func() {
					signs, verifies, writes = c.crypto.signs.Load(), c.crypto.verifies.Load(), c.writes.Load()
				})
				k := float64(len(lat))
				reportLatencies(b, lat, cpu)
				b.ReportMetric(float64(c.crypto.signs.Load()-signs)/k, "signs/decision")
				b.ReportMetric(float64(c.crypto.verifies.Load()-verifies)/k, "verifies/decision")
				b.ReportMetric(float64(c.writes.Load()-writes)/k, "writes/decision")
				b.ReportMetric(float64(c.stopAndCountRoundChanges()), "round-changes")
			})
			b.Run(prefix+"raft", func(b *testing.B) {
				c := newRaftCluster(b, n, d)
				var seq uint64
				decide := func() time.Duration { seq++; return c.decideOne(b, entry(seq)) }
				var writes uint64
				lat, cpu := sampleLatencies(b, decide, func() { writes = c.writes() })
				reportLatencies(b, lat, cpu)
				b.ReportMetric(float64(c.writes()-writes)/float64(len(lat)), "writes/decision")
				b.ReportMetric(float64(c.leaderChanges), "leader-changes")
			})
			b.Run(prefix+"floor", func(b *testing.B) {
				var parts floorParts
				for b.Loop() {
					parts = measureFloor(b, d, decisionsPerOp)
				}
				ms := func(t time.Duration) float64 { return float64(t) / float64(time.Millisecond) }
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(ms(parts.floor(n, d, 0)), "ms-p50")
				b.ReportMetric(ms(parts.floor(n, d, 1)), "ms-p99")
				b.ReportMetric(float64(parts.delay[0])/1e3, "us-delay-p50")
				b.ReportMetric(float64(parts.verify[0])/1e3, "us-verify-p50")
				b.ReportMetric(float64(verifications(n)), "verifies")
				if d == onDisk {
					b.ReportMetric(float64(parts.fsync[0])/1e3, "us-fsync-p50")
					b.ReportMetric(float64(parts.fsync[1])/1e3, "us-fsync-p99")
				}
			})
		}
	}
}

// sampleLatencies warms up, calls mark, then takes decisionsPerOp
// decisions per iteration. It returns the latencies and the CPU time the
// process kept busy meanwhile (seconds).
func sampleLatencies(b *testing.B, decide func() time.Duration, mark func()) ([]time.Duration, float64) {
	for range warmUp {
		decide()
	}
	if mark != nil {
		mark()
	}
	cpu := cpuBusy()
	var lat []time.Duration
	for b.Loop() {
		for range decisionsPerOp {
			lat = append(lat, decide())
		}
	}
	return lat, cpuBusy() - cpu
}

// reportLatencies reports the percentiles, and the CPU per decision when
// cpu (seconds, over all of lat) is positive.
func reportLatencies(b *testing.B, lat []time.Duration, cpu float64) {
	q := quantiles(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	ms := func(t time.Duration) float64 { return float64(t) / float64(time.Millisecond) }
	b.ReportMetric(ms(q[0]), "ms-p50")
	b.ReportMetric(ms(q[1]), "ms-p99")
	b.ReportMetric(ms(sum/time.Duration(len(lat))), "ms-mean")
	b.ReportMetric(float64(len(lat)), "decisions")
	if cpu > 0 {
		b.ReportMetric(1e3*cpu/float64(len(lat)), "cpu-ms/decision")
	}
}
