package audit

import (
	"math"
	"slices"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

// The statistics
//
// The Auditor and Check judge a bucket with the same code, from the same
// payloads, in the same order, so the accuser and every validator that
// re-checks its accusation compute the same floating-point numbers.
//
// A node's value in a bucket is the median of all its readings of the kind
// in that bucket: several sensors of a kind, or two payloads in one bucket,
// make one value. A node is judged against the OTHER nodes of its zone
// (leave one out), so a liar never pulls the reference it is judged by:
//
//	median = median of the others' values
//	spread = max(1.4826 × median |other − median|, Floor)
//	limit  = max(K × spread, Tolerance)
//	outlier: |value − median| > limit
//
// 1.4826 makes the MAD estimate a normal distribution's σ. The Floor keeps
// peers that happen to agree to a hundredth from making honest noise an
// outlier; the Tolerance is what a zone's honest sensors may disagree by.

// madScale makes the median absolute deviation estimate σ for normal noise.
const madScale = 1.4826

// nodeValue is one node's value in one bucket.
type nodeValue struct {
	node  string
	value float64
}

// verdict is the judgement of one node's value in one bucket.
type verdict struct {
	node      string
	value     float64 // the node's value
	median    float64 // the peers' median
	limit     float64 // how far from it a value may lie
	peers     int     // how many other nodes had a value
	deviation float64 // value − median
	outlier   bool
}

// judge returns the verdicts of a bucket's values (sorted by node) for
// every node with at least cfg.MinPeers others, in the order of values.
func judge(values []nodeValue, rule Rule, cfg *Config) []verdict {
	n := len(values)
	if n-1 < cfg.MinPeers {
		return nil
	}
	sorted := make([]float64, n)
	for i, v := range values {
		sorted[i] = v.value
	}
	slices.Sort(sorted)
	dev := make([]float64, n-1)
	out := make([]verdict, 0, n)
	for _, v := range values {
		skip, _ := slices.BinarySearch(sorted, v.value)
		// others(j) is the j-th smallest value of the other nodes: equal
		// values are interchangeable, so dropping the first index holding
		// this node's value drops this node.
		others := func(j int) float64 {
			if j >= skip {
				j++
			}
			return sorted[j]
		}
		med := medianOf(n-1, others)
		for j := range n - 1 {
			dev[j] = math.Abs(others(j) - med)
		}
		slices.Sort(dev)
		mad := medianOf(n-1, func(j int) float64 { return dev[j] })
		spread := max(madScale*mad, rule.Floor)
		limit := max(cfg.K*spread, rule.Tolerance)
		d := v.value - med
		out = append(out, verdict{
			node: v.node, value: v.value, median: med, limit: limit,
			peers: n - 1, deviation: d, outlier: math.Abs(d) > limit,
		})
	}
	return out
}

// medianOf is the median of n sorted values given by at: the middle one,
// or the mean of the middle two.
func medianOf(n int, at func(int) float64) float64 {
	if n%2 == 1 {
		return at(n / 2)
	}
	return (at(n/2-1) + at(n/2)) / 2
}

// median of values; it sorts them.
func median(values []float64) float64 {
	slices.Sort(values)
	return medianOf(len(values), func(i int) float64 { return values[i] })
}

// appendValues appends r's finite readings of kind to dst.
func appendValues(dst []float64, r *wire.Readings, kind string) []float64 {
	for _, x := range r.Readings {
		if x.Kind == kind && !math.IsNaN(x.Value) && !math.IsInf(x.Value, 0) {
			dst = append(dst, x.Value)
		}
	}
	return dst
}

// hasKind reports whether r holds a finite reading of kind.
func hasKind(r *wire.Readings, kind string) bool {
	for _, x := range r.Readings {
		if x.Kind == kind && !math.IsNaN(x.Value) && !math.IsInf(x.Value, 0) {
			return true
		}
	}
	return false
}

// Plausible payload times: Check has no clock, and a ts far outside these
// would overflow the bucket arithmetic.
var (
	earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	latest   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// payloadTime reads a payload's ts and says whether it is plausible.
func payloadTime(r *wire.Readings) (time.Time, bool) {
	t, err := wire.ParseTime(r.TS)
	if err != nil || t.Before(earliest) || !t.Before(latest) {
		return time.Time{}, false
	}
	return t, true
}

// bucketOf is the index of the bucket holding t (floor division since the
// epoch). t must lie in [earliest, latest).
func bucketOf(t time.Time, bucket time.Duration) int64 {
	n, d := t.UnixNano(), int64(bucket)
	q := n / d
	if n%d < 0 {
		q--
	}
	return q
}
