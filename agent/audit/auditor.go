package audit

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

// Auditor holds the recent signed readings of every node and judges them.
// It is not safe for concurrent use: the agent's loop goroutine owns it.
type Auditor struct {
	cfg    Config
	kinds  []string // cfg.Kinds' names, sorted
	window int64    // cfg.Window in buckets

	nodes map[string]*nodeLog
	zones map[string]*zoneState
}

// zoneState is what the auditor knows of one zone.
type zoneState struct {
	members []string // the nodes holding payloads in the zone, sorted
	// judged caches each bucket's verdicts, by kind (in the order of
	// Auditor.kinds). A bucket is judged again only when a payload of the
	// zone enters it, so a Suspects call costs about one bucket's work.
	judged map[int64][][]verdict
}

// nodeLog is what the auditor holds of one node.
type nodeLog struct {
	zone string
	held []held // sorted by ts, then signature
}

// held is one payload with its parsed time.
type held struct {
	ts     time.Time
	bucket int64
	r      *wire.Readings
}

// New returns an Auditor that holds nothing yet.
func New(cfg Config) (*Auditor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Kinds = maps.Clone(cfg.Kinds)
	return &Auditor{
		cfg:    cfg,
		kinds:  slices.Sorted(maps.Keys(cfg.Kinds)),
		window: cfg.windowBuckets(),
		nodes:  map[string]*nodeLog{},
		zones:  map[string]*zoneState{},
	}, nil
}

// Add takes a node's signed readings, already verified by the caller, with
// the zone of the node's committed capability document and the caller's
// clock. The payload is kept, not copied: the caller must not change it
// afterwards. A node whose zone changed loses what it held under the old
// one; a node without a zone ("") is not audited.
//
// Add refuses (and returns, for the caller's counters) payloads it has no
// use for: ErrMalformed, ErrStale (older than the window), ErrFuture (more
// than MaxSkew ahead of now), ErrDuplicate (that node's ts already held;
// replays and double deliveries) and ErrFlood (MaxPerBucket reached).
// Payloads may come in any order.
func (a *Auditor) Add(now time.Time, zone string, r *wire.Readings) error {
	if r == nil || r.Node == "" {
		return fmt.Errorf("%w: no node", ErrMalformed)
	}
	ts, ok := payloadTime(r)
	if !ok {
		return fmt.Errorf("%w: readings of %s: ts %q", ErrMalformed, r.Node, r.TS)
	}
	if len(r.Readings) > a.cfg.MaxReadings {
		return fmt.Errorf("%w: readings of %s hold %d values, the limit is %d", ErrMalformed, r.Node, len(r.Readings), a.cfg.MaxReadings)
	}
	first := a.firstBucket(now)
	b := bucketOf(ts, a.cfg.Bucket)
	if b < first {
		return fmt.Errorf("%w: readings of %s at %s", ErrStale, r.Node, r.TS)
	}
	if ts.After(now.Add(a.cfg.MaxSkew)) {
		return fmt.Errorf("%w: readings of %s at %s", ErrFuture, r.Node, r.TS)
	}
	log := a.nodes[r.Node]
	if log != nil && log.zone != zone {
		a.dropNode(r.Node)
		log = nil
	}
	if zone == "" {
		return nil
	}
	if !a.relevant(r) {
		return nil
	}
	if log == nil {
		log = a.addNode(r.Node, zone)
	}
	log.prune(first)
	i := sort.Search(len(log.held), func(i int) bool { return !log.held[i].ts.Before(ts) })
	if i < len(log.held) && log.held[i].ts.Equal(ts) {
		old := log.held[i].r
		if r.Sig >= old.Sig {
			return fmt.Errorf("%w: readings of %s at %s", ErrDuplicate, r.Node, r.TS)
		}
		// Two different payloads signed for one instant: keep the smaller
		// signature, as every other holder of both does.
		log.held[i].r = r
		a.touch(zone, b)
		return fmt.Errorf("%w: readings of %s at %s (a different payload with that ts was replaced)", ErrDuplicate, r.Node, r.TS)
	}
	if log.count(b) >= a.cfg.MaxPerBucket {
		return fmt.Errorf("%w: %s already has %d payloads in the bucket of %s", ErrFlood, r.Node, a.cfg.MaxPerBucket, r.TS)
	}
	log.held = slices.Insert(log.held, i, held{ts: ts, bucket: b, r: r})
	a.touch(zone, b)
	return nil
}

// Forget drops everything held of node: after its ejection, or when it
// leaves the validator set.
func (a *Auditor) Forget(node string) { a.dropNode(node) }

// Held returns how many payloads the auditor holds, for metrics and tests
// of its bounds.
func (a *Auditor) Held() int {
	n := 0
	for _, log := range a.nodes {
		n += len(log.held)
	}
	return n
}

// relevant reports whether r holds a reading of a kind the auditor judges.
func (a *Auditor) relevant(r *wire.Readings) bool {
	for _, kind := range a.kinds {
		if hasKind(r, kind) {
			return true
		}
	}
	return false
}

// firstBucket is the oldest bucket of the window ending at now.
func (a *Auditor) firstBucket(now time.Time) int64 {
	return bucketOf(now, a.cfg.Bucket) - a.window + 1
}

// addNode starts holding payloads of node in zone.
func (a *Auditor) addNode(node, zone string) *nodeLog {
	log := &nodeLog{zone: zone}
	a.nodes[node] = log
	z := a.zones[zone]
	if z == nil {
		z = &zoneState{judged: map[int64][][]verdict{}}
		a.zones[zone] = z
	}
	i, _ := slices.BinarySearch(z.members, node)
	z.members = slices.Insert(z.members, i, node)
	return log
}

// touch forgets the judgements of a zone's bucket after its payloads
// changed.
func (a *Auditor) touch(zone string, bucket int64) {
	if z := a.zones[zone]; z != nil {
		delete(z.judged, bucket)
	}
}

// dropNode forgets node and every judgement it took part in.
func (a *Auditor) dropNode(node string) {
	log := a.nodes[node]
	if log == nil {
		return
	}
	delete(a.nodes, node)
	z := a.zones[log.zone]
	for _, h := range log.held {
		delete(z.judged, h.bucket)
	}
	if i, ok := slices.BinarySearch(z.members, node); ok {
		z.members = slices.Delete(z.members, i, i+1)
	}
	if len(z.members) == 0 {
		delete(a.zones, log.zone)
	}
}

// prune drops everything older than bucket first.
func (a *Auditor) prune(first int64) {
	for node, log := range a.nodes {
		log.prune(first)
		if len(log.held) == 0 {
			a.dropNode(node)
		}
	}
	for _, z := range a.zones {
		maps.DeleteFunc(z.judged, func(b int64, _ [][]verdict) bool { return b < first })
	}
}

// prune drops the payloads older than bucket first.
func (l *nodeLog) prune(first int64) {
	i := 0
	for i < len(l.held) && l.held[i].bucket < first {
		i++
	}
	if i > 0 {
		l.held = slices.Delete(l.held, 0, i)
	}
}

// count returns how many payloads the node holds in bucket b.
func (l *nodeLog) count(b int64) int {
	lo, hi := l.span(b)
	return hi - lo
}

// span returns the indexes [lo, hi) of the node's payloads in bucket b.
func (l *nodeLog) span(b int64) (int, int) {
	lo := sort.Search(len(l.held), func(i int) bool { return l.held[i].bucket >= b })
	hi := lo
	for hi < len(l.held) && l.held[hi].bucket == b {
		hi++
	}
	return lo, hi
}

// judgedBucket returns the verdicts of zone z's bucket b, one slice per
// kind, judging the bucket if needed.
func (a *Auditor) judgedBucket(z *zoneState, b int64) [][]verdict {
	if v, ok := z.judged[b]; ok {
		return v
	}
	byKind := make([][]verdict, len(a.kinds))
	var values []nodeValue
	var buf []float64
	for k, kind := range a.kinds {
		values = values[:0]
		for _, node := range z.members {
			log := a.nodes[node]
			lo, hi := log.span(b)
			buf = buf[:0]
			for _, h := range log.held[lo:hi] {
				buf = appendValues(buf, h.r, kind)
			}
			if len(buf) > 0 {
				values = append(values, nodeValue{node: node, value: median(buf)})
			}
		}
		byKind[k] = judge(values, a.cfg.Kinds[kind], &a.cfg)
	}
	z.judged[b] = byKind
	return byKind
}

// appendEvidence appends the payloads behind the judgement of kind in
// zone's bucket b to out: every payload of the zone's nodes in b holding the
// kind, in the order of members, then time.
func (a *Auditor) appendEvidence(out []*wire.Readings, kind string, b int64, members []string) []*wire.Readings {
	for _, node := range members {
		log := a.nodes[node]
		lo, hi := log.span(b)
		for _, h := range log.held[lo:hi] {
			if hasKind(h.r, kind) {
				out = append(out, h.r)
			}
		}
	}
	return out
}
