package audit

import (
	"fmt"
	"maps"
	"slices"

	"github.com/seed44533760/pact/agent/wire"
)

// Check re-checks an accusation from its evidence alone, as every
// validator does before it counts the accusation towards an eject entry.
// zoneOf gives a node's zone from the committed capability documents ("" for
// none); verify checks one payload's signature (wire.VerifyReadings with the
// node's key from the validator set). cfg must be the accuser's.
//
// The accusation holds when every payload verifies, belongs to a node of
// the accused's zone and holds a reading of the kind, no payload comes
// twice, the evidence's buckets lie within one Window, and in each of them
// the accused has a value that is an outlier against at least MinPeers
// other nodes, recomputed as the auditor does; when they show at least
// min(Outliers, MaxEvidence) outliers; and when the claimed counts would
// make a suspect. Every failure matches ErrUnsupported (and the verify
// callback's error, when that is what failed).
//
// What Check cannot prove is that the accuser showed every peer it had, or
// that the peers it showed are honest: two colluding peers and a third can
// outvote an honest node in a bucket. That is why an eject entry needs the
// accusations of f+1 distinct validators, at least one of them honest and
// judging from all the readings it received.
func Check(acc *Accusation, zoneOf func(node string) string, verify func(*wire.Readings) error, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if acc == nil || zoneOf == nil || verify == nil {
		return fmt.Errorf("%w: Check needs an accusation, zoneOf and verify", ErrUnsupported)
	}
	if err := checkClaims(acc, zoneOf, &cfg); err != nil {
		return err
	}
	rule := cfg.Kinds[acc.Kind]

	// Screen every payload and sort them into buckets.
	type nodeTS struct {
		node string
		ns   int64
	}
	seen := map[nodeTS]bool{}
	type nodeBucket struct {
		node   string
		bucket int64
	}
	perBucket := map[nodeBucket]int{}
	buckets := map[int64]map[string][]float64{} // bucket → node → values
	for i, r := range acc.Evidence {
		if r == nil {
			return fmt.Errorf("%w: evidence[%d] is null", ErrUnsupported, i)
		}
		ts, ok := payloadTime(r)
		if !ok || r.Node == "" || len(r.Readings) > cfg.MaxReadings {
			return fmt.Errorf("%w: evidence[%d] (%s at %q) is malformed", ErrUnsupported, i, r.Node, r.TS)
		}
		if z := zoneOf(r.Node); z != acc.Zone {
			return fmt.Errorf("%w: evidence[%d] is from %s, in zone %q, not %q", ErrUnsupported, i, r.Node, z, acc.Zone)
		}
		if !hasKind(r, acc.Kind) {
			return fmt.Errorf("%w: evidence[%d] (%s at %s) holds no %s reading", ErrUnsupported, i, r.Node, r.TS, acc.Kind)
		}
		key := nodeTS{r.Node, ts.UnixNano()}
		if seen[key] {
			return fmt.Errorf("%w: evidence[%d] (%s at %s) is there twice", ErrUnsupported, i, r.Node, r.TS)
		}
		seen[key] = true
		b := bucketOf(ts, cfg.Bucket)
		if perBucket[nodeBucket{r.Node, b}]++; perBucket[nodeBucket{r.Node, b}] > cfg.MaxPerBucket {
			return fmt.Errorf("%w: evidence holds more than %d payloads of %s in one bucket", ErrUnsupported, cfg.MaxPerBucket, r.Node)
		}
		if buckets[b] == nil {
			if len(buckets) == cfg.MaxEvidence {
				return fmt.Errorf("%w: the evidence spans more than MaxEvidence (%d) buckets", ErrUnsupported, cfg.MaxEvidence)
			}
			buckets[b] = map[string][]float64{}
		}
		buckets[b][r.Node] = appendValues(buckets[b][r.Node], r, acc.Kind)
	}

	// Judge every bucket again.
	order := slices.Sorted(maps.Keys(buckets))
	if len(order) == 0 {
		return fmt.Errorf("%w: no evidence", ErrUnsupported)
	}
	if span := order[len(order)-1] - order[0] + 1; span > cfg.windowBuckets() {
		return fmt.Errorf("%w: the evidence spans %d buckets, more than the window's %d", ErrUnsupported, span, cfg.windowBuckets())
	}
	if need := min(acc.Outliers, cfg.MaxEvidence); len(order) < need {
		return fmt.Errorf("%w: the evidence shows %d outlier buckets, the accusation claims %d", ErrUnsupported, len(order), need)
	}
	if len(order) > min(acc.Outliers, cfg.MaxEvidence) {
		return fmt.Errorf("%w: the evidence shows %d buckets, more than the %d it may (outliers claimed, at most MaxEvidence)", ErrUnsupported, len(order), min(acc.Outliers, cfg.MaxEvidence))
	}
	for _, b := range order {
		byNode := buckets[b]
		if _, ok := byNode[acc.Node]; !ok {
			return fmt.Errorf("%w: bucket %d of the evidence holds no readings of %s", ErrUnsupported, b, acc.Node)
		}
		values := make([]nodeValue, 0, len(byNode))
		for _, node := range slices.Sorted(maps.Keys(byNode)) {
			values = append(values, nodeValue{node: node, value: median(byNode[node])})
		}
		var found *verdict
		for _, v := range judge(values, rule, &cfg) {
			if v.node == acc.Node {
				found = &v
				break
			}
		}
		switch {
		case found == nil:
			return fmt.Errorf("%w: bucket %d holds %d peers of %s, fewer than %d", ErrUnsupported, b, len(values)-1, acc.Node, cfg.MinPeers)
		case !found.outlier:
			return fmt.Errorf("%w: in bucket %d, %s's %s %.3f is within %.3f of the peers' median %.3f", ErrUnsupported, b, acc.Node, acc.Kind, found.value, found.limit, found.median)
		}
	}

	// The signatures last: they cost the most.
	for i, r := range acc.Evidence {
		if err := verify(r); err != nil {
			return fmt.Errorf("%w: evidence[%d] (%s at %s): %w", ErrUnsupported, i, r.Node, r.TS, err)
		}
	}
	return nil
}

// checkClaims checks what the accusation says about itself.
func checkClaims(acc *Accusation, zoneOf func(string) string, cfg *Config) error {
	if acc.Reason != ReasonSensor {
		return fmt.Errorf("%w: reason %q is not %q", ErrUnsupported, acc.Reason, ReasonSensor)
	}
	if acc.Node == "" || acc.Zone == "" {
		return fmt.Errorf("%w: no node or zone", ErrUnsupported)
	}
	if _, ok := cfg.Kinds[acc.Kind]; !ok {
		return fmt.Errorf("%w: %q is not a kind the nodes of a zone are compared on", ErrUnsupported, acc.Kind)
	}
	if z := zoneOf(acc.Node); z != acc.Zone {
		return fmt.Errorf("%w: %s is in zone %q, not %q", ErrUnsupported, acc.Node, z, acc.Zone)
	}
	if acc.Outliers < 0 || acc.Outliers > acc.Judged || !cfg.suspicious(acc.Judged, acc.Outliers) {
		return fmt.Errorf("%w: %d outliers of %d judged samples make no suspect (at least %d samples, %.0f%% outliers)",
			ErrUnsupported, acc.Outliers, acc.Judged, cfg.MinSamples, 100*cfg.OutlierShare)
	}
	return nil
}
