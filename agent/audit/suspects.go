package audit

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

// ReasonSensor is the Reason of an accusation of inconsistent readings.
const ReasonSensor = "inconsistent-readings"

// Accusation says that a node's readings of one kind disagreed with its
// zone's peers in most of the recent buckets, and carries the signed
// readings that show it. The agent signs and gossips it; Check re-checks
// it from its evidence alone.
type Accusation struct {
	// Node is the accused.
	Node string `json:"node"`
	// Reason is ReasonSensor.
	Reason string `json:"reason"`
	// Zone is the accused's zone: the evidence's peers are all in it.
	Zone string `json:"zone"`
	// Kind is the sensor kind the accused lied about.
	Kind string `json:"kind"`
	// Summary is one line for the operator, such as "node-5's temperature
	// in greenhouse was 9.8 °C above the median of 4 peers in 27 of 30
	// samples over 60s".
	Summary string `json:"summary"`
	// Outliers of Judged buckets in the accuser's window were outliers. The
	// evidence proves the most recent min(Outliers, MaxEvidence) of them;
	// the rest, and Judged, are the accuser's word.
	Outliers int `json:"outliers"`
	Judged   int `json:"judged"`
	// Evidence is, for every outlier bucket shown, the accused's payloads
	// in it and those of the peers it was judged against, in bucket order
	// (then node, then time).
	Evidence []*wire.Readings `json:"evidence"`
}

// outlier is one bucket in which a node's value was an outlier.
type outlier struct {
	bucket int64
	v      verdict
}

// tally counts one node's judgements of one kind in the window.
type tally struct {
	zone     string
	judged   int
	outliers []outlier // oldest first
}

// Suspects judges every bucket of the window ending at now and returns an
// accusation for each node and kind whose judged buckets reach MinSamples
// and whose outliers reach OutlierShare of them, ordered by node, then
// kind. Readings older than the window are dropped; buckets after now's
// are not judged yet. The same payloads and now give the same accusations,
// whatever order the payloads came in.
func (a *Auditor) Suspects(now time.Time) []Accusation {
	first := a.firstBucket(now)
	last := first + a.window - 1
	a.prune(first)
	type suspect struct {
		node, kind string
		t          tally
	}
	var found []suspect
	for _, zone := range slices.Sorted(maps.Keys(a.zones)) {
		z := a.zones[zone]
		tallies := make([]tally, len(z.members)*len(a.kinds))
		for b := first; b <= last; b++ {
			for k, verdicts := range a.judgedBucket(z, b) {
				// Verdicts come in the order of the zone's sorted nodes,
				// of which they are a subset: walk both together.
				i := 0
				for _, v := range verdicts {
					for z.members[i] != v.node {
						i++
					}
					t := &tallies[i*len(a.kinds)+k]
					t.judged++
					if v.outlier {
						t.outliers = append(t.outliers, outlier{bucket: b, v: v})
					}
				}
			}
		}
		for i, t := range tallies {
			if a.cfg.suspicious(t.judged, len(t.outliers)) {
				t.zone = zone
				found = append(found, suspect{node: z.members[i/len(a.kinds)], kind: a.kinds[i%len(a.kinds)], t: t})
			}
		}
	}
	slices.SortFunc(found, func(x, y suspect) int {
		return cmp.Or(cmp.Compare(x.node, y.node), cmp.Compare(x.kind, y.kind))
	})
	out := make([]Accusation, 0, len(found))
	for _, f := range found {
		t := f.t
		shown := t.outliers[max(0, len(t.outliers)-a.cfg.MaxEvidence):]
		acc := Accusation{
			Node:     f.node,
			Reason:   ReasonSensor,
			Zone:     t.zone,
			Kind:     f.kind,
			Outliers: len(t.outliers),
			Judged:   t.judged,
			Summary:  summary(f.node, t.zone, f.kind, a.cfg.Kinds[f.kind].Unit, t.outliers, t.judged, a.cfg.Window),
		}
		members := a.zones[t.zone].members
		acc.Evidence = make([]*wire.Readings, 0, len(shown)*len(members))
		for _, o := range shown {
			acc.Evidence = a.appendEvidence(acc.Evidence, f.kind, o.bucket, members)
		}
		out = append(out, acc)
	}
	return out
}

// summary writes an accusation's line: the typical distance (the median of
// the outliers' distances), its direction when they all agree, the typical
// number of peers.
func summary(node, zone, kind, unit string, outliers []outlier, judged int, window time.Duration) string {
	dist := make([]float64, len(outliers))
	peers := make([]float64, len(outliers))
	above, below := 0, 0
	for i, o := range outliers {
		dist[i] = math.Abs(o.v.deviation)
		peers[i] = float64(o.v.peers)
		if o.v.deviation > 0 {
			above++
		} else {
			below++
		}
	}
	direction := "away from"
	switch len(outliers) {
	case above:
		direction = "above"
	case below:
		direction = "below"
	}
	if unit != "" {
		unit = " " + unit
	}
	return fmt.Sprintf("%s's %s in %s was %.1f%s %s the median of %d peers in %d of %d samples over %ss",
		node, kind, zone, median(dist), unit, direction, int(median(peers)), len(outliers), judged,
		strconv.FormatFloat(window.Seconds(), 'f', -1, 64))
}
