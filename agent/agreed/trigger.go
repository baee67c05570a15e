package agreed

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// maxReadingValues bounds the values in one signed readings payload that an
// entry may carry, so that one node cannot make every trigger entry too big
// to decide.
const maxReadingValues = 32

// TriggerDecision is what an action's trigger calls for, given the latest
// readings a node holds.
type TriggerDecision struct {
	// Fire: the trigger is armed and the median is above its threshold.
	Fire bool
	// Rearm: the trigger is disarmed and the median is below its below.
	Rearm bool
	// Median is the median of the nodes' values (0 without any).
	Median float64
	// Used are the readings behind Median, one per node, in the order of
	// the node names: what AssignTrigger or RearmTrigger takes.
	Used []*wire.Readings
	// Nodes is len(Used). Below the validator set's quorum, neither Fire
	// nor Rearm is set.
	Nodes int
}

// sample is what one node's signed readings say about a trigger.
type sample struct {
	node  string
	value float64   // the median of the node's readings of the trigger's kind
	ts    time.Time // the payload's ts
}

// TriggerCheck works out what an action's trigger calls for now from the
// latest signed readings the caller holds (pass them all; at most one per
// node is used, the newest). It counts only readings that an entry could
// carry: signed by a validator that is not ejected, whose committed
// document is in the trigger's zone (when it names one), holding the
// trigger's kind of sensor, newer than the node's readings already used in
// an entry and fresh by the local clock.
func (s *State) TriggerCheck(action string, latest []*wire.Readings) TriggerDecision {
	a, err := s.action(action)
	if err != nil || !hasTrigger(&a) {
		return TriggerDecision{}
	}
	best := map[string]*wire.Readings{}
	bestAt := map[string]time.Time{}
	for _, r := range latest {
		sm, err := s.screenReadings(a.Trigger, r)
		if err != nil {
			continue
		}
		if old, ok := best[sm.node]; ok && (sm.ts.Before(bestAt[sm.node]) || sm.ts.Equal(bestAt[sm.node]) && r.Sig >= old.Sig) {
			continue
		}
		if s.verifyReadings(r) != nil {
			continue
		}
		best[sm.node], bestAt[sm.node] = r, sm.ts
	}
	var d TriggerDecision
	var values []float64
	for _, node := range sortedKeys(best) {
		r := best[node]
		v, _ := NodeValue(r, a.Trigger.SensorKind)
		d.Used = append(d.Used, r)
		values = append(values, v)
	}
	d.Nodes = len(d.Used)
	if d.Nodes == 0 {
		return d
	}
	d.Median = Median(values)
	if d.Nodes < s.vals.Quorum() {
		return d
	}
	armed := !s.Disarmed[action]
	d.Fire = armed && d.Median > *a.Trigger.Above
	d.Rearm = !armed && d.Median < below(a.Trigger)
	return d
}

// below is the trigger's re-arm threshold.
func below(t *config.Trigger) float64 {
	if t.Below != nil {
		return *t.Below
	}
	return *t.Above
}

// screenReadings checks one signed readings payload for trigger t, all but
// its signature (verifyReadings), and returns what it says.
func (s *State) screenReadings(t *config.Trigger, r *wire.Readings) (sample, error) {
	if r == nil {
		return sample{}, fmt.Errorf("%w: null readings", ErrInvalid)
	}
	if r.Cluster != s.cluster {
		return sample{}, fmt.Errorf("%w: readings of %s for cluster %q", ErrInvalid, r.Node, r.Cluster)
	}
	if _, ok := s.Validators[r.Node]; !ok || s.IsEjected(r.Node) {
		return sample{}, fmt.Errorf("%w: readings of %s, not a validator", ErrInvalid, r.Node)
	}
	if t.Zone != "" {
		if d := s.Capabilities[r.Node]; d == nil || d.Zone != t.Zone {
			return sample{}, fmt.Errorf("%w: readings of %s, not in zone %s", ErrInvalid, r.Node, t.Zone)
		}
	}
	if len(r.Readings) > maxReadingValues {
		return sample{}, fmt.Errorf("%w: readings of %s hold %d values, the limit is %d", ErrInvalid, r.Node, len(r.Readings), maxReadingValues)
	}
	v, ok := NodeValue(r, t.SensorKind)
	if !ok {
		return sample{}, fmt.Errorf("%w: readings of %s hold no %s", ErrInvalid, r.Node, t.SensorKind)
	}
	ts, err := wire.ParseTime(r.TS)
	if err != nil {
		return sample{}, fmt.Errorf("%w: readings of %s: ts %q", ErrInvalid, r.Node, r.TS)
	}
	if used, ok := s.ReadingsUsed[r.Node]; ok {
		if u, err := wire.ParseTime(used); err == nil && !ts.After(u) {
			return sample{}, fmt.Errorf("%w: readings of %s at %s are no newer than those used at %s", ErrInvalid, r.Node, r.TS, used)
		}
	}
	if now, ok := s.now(); ok && absDiff(now, ts) > s.rules.MaxReadingAge {
		return sample{}, fmt.Errorf("%w: readings of %s at %s are more than %v from the local clock", ErrInvalid, r.Node, r.TS, s.rules.MaxReadingAge)
	}
	return sample{node: r.Node, value: v, ts: ts}, nil
}

// verifyReadings checks the node's signature over r; screenReadings has
// made sure r.Node is a validator.
func (s *State) verifyReadings(r *wire.Readings) error {
	pub, ok := s.ValidatorKey(r.Node)
	if !ok {
		return fmt.Errorf("%w: readings of %s, not a validator", ErrInvalid, r.Node)
	}
	k, cacheable := payloadDigest(wire.DomainReadings+"\x00"+string(pub), r)
	if cacheable && s.verified.has(k) {
		return nil
	}
	if err := wire.VerifyReadings(s.cluster, r, pub); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if cacheable {
		s.verified.add(k)
	}
	return nil
}

// screenAll judges the readings an entry carries for trigger t, all but
// their signatures (verifyAll): at least a quorum, one per node in the
// order of the node names, each valid by screenReadings.
func (s *State) screenAll(t *config.Trigger, rs []*wire.Readings) ([]sample, error) {
	if len(rs) < s.vals.Quorum() {
		return nil, fmt.Errorf("%w: %d readings, a quorum is %d", ErrInvalid, len(rs), s.vals.Quorum())
	}
	samples := make([]sample, len(rs))
	for i, r := range rs {
		var err error
		if samples[i], err = s.screenReadings(t, r); err != nil {
			return nil, err
		}
		if i > 0 && strings.Compare(rs[i-1].Node, r.Node) >= 0 {
			return nil, fmt.Errorf("%w: readings not one per node in the order of the names (%s after %s)", ErrInvalid, r.Node, rs[i-1].Node)
		}
	}
	return samples, nil
}

// verifyAll checks the signatures of readings that passed screenAll.
func (s *State) verifyAll(rs []*wire.Readings) error {
	for _, r := range rs {
		if err := s.verifyReadings(r); err != nil {
			return err
		}
	}
	return nil
}

// summarize returns the median value and the median ts of samples.
func summarize(samples []sample) (float64, time.Time) {
	values := make([]float64, len(samples))
	times := make([]time.Time, len(samples))
	for i, sm := range samples {
		values[i], times[i] = sm.value, sm.ts
	}
	return Median(values), medianTime(times)
}

// triggerAt is the agreed time of readings an entry carries (already
// validated): their median ts, as a payload time.
func triggerAt(rs []*wire.Readings) (string, error) {
	times := make([]time.Time, len(rs))
	for i, r := range rs {
		t, err := wire.ParseTime(r.TS)
		if err != nil {
			return "", err
		}
		times[i] = t
	}
	if len(times) == 0 {
		return "", fmt.Errorf("%w: no readings", ErrInvalid)
	}
	return wire.Timestamp(medianTime(times)), nil
}

// triggerRequestID is the request id of a trigger assignment: "trigger-"
// and the first 32 hex digits of SHA-256 over the action's name and the
// readings' signatures, in order. The action is part of it so that two
// actions fired by the same readings get two instances.
func triggerRequestID(action string, readings []*wire.Readings) string {
	h := sha256.New()
	h.Write([]byte(action + "\n"))
	for _, r := range readings {
		sig := ""
		if r != nil {
			sig = r.Sig
		}
		h.Write([]byte(sig + "\n"))
	}
	return "trigger-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// NodeValue is a node's value for a kind of sensor: the median of its
// readings of that kind.
func NodeValue(r *wire.Readings, kind config.SensorKind) (float64, bool) {
	var vs []float64
	for _, x := range r.Readings {
		if x.Kind == string(kind) {
			vs = append(vs, x.Value)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	return Median(vs), true
}

// Median of a non-empty list; with an even count, the mean of the middle
// two. Either way it lies within the range of the honest values as long as
// fewer than half of them lie.
func Median(vs []float64) float64 {
	vs = slices.Clone(vs)
	slices.Sort(vs)
	m := len(vs) / 2
	if len(vs)%2 == 1 {
		return vs[m]
	}
	return vs[m-1] + (vs[m]-vs[m-1])/2
}

func medianTime(ts []time.Time) time.Time {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	m := len(ts) / 2
	if len(ts)%2 == 1 {
		return ts[m]
	}
	return ts[m-1].Add(ts[m].Sub(ts[m-1]) / 2)
}
