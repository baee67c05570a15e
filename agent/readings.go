package agent

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/agent/wire"
)

// Readings and triggers
//
// Every node samples its sensors every readingsInterval, signs the readings,
// publishes them on nodes/<node>/readings and sends them to its peers as a
// kindReadings frame. Each node keeps the newest signed readings of every
// validator; an action's trigger is judged on them (agreed.TriggerCheck:
// the median of at least 2f+1 validators), and the entry that fires it
// carries the signed readings it rests on, so every validator checks the
// same numbers: one lying sensor can neither fire nor suppress an action.

// kindReadings frames carry a node's signed readings (JSON).
const kindReadings transport.Kind = 8

// readingsInterval is how often a node samples its sensors.
const readingsInterval = 2 * time.Second

// sample reads every sensor once, signs the readings and hands them to the
// loop; it runs on its own goroutine, since a sensor may take its
// conversion time to answer.
func (a *Agent) sample(ctx context.Context) {
	defer a.workerWG.Done()
	t := time.NewTicker(readingsInterval)
	defer t.Stop()
	for {
		r := a.readSensors(ctx)
		if r != nil {
			select {
			case a.sampled <- r:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) readSensors(ctx context.Context) *wire.Readings {
	if a.silenced() { // adversary.go: a silent node reads nothing out
		return nil
	}
	sensors := a.board.Sensors()
	if len(sensors) == 0 {
		return nil
	}
	r := &wire.Readings{Node: a.name}
	for _, s := range sensors {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		x, err := s.Sense(sctx)
		cancel()
		if ctx.Err() != nil {
			return nil // stopping: not the sensor's fault
		}
		ok := err == nil && !math.IsNaN(x.Value) && !math.IsInf(x.Value, 0)
		a.metrics.sensed(s.Name(), ok)
		if !ok {
			continue
		}
		r.Readings = append(r.Readings, wire.Reading{Sensor: x.Sensor, Kind: string(x.Kind), Value: x.Value, Unit: x.Unit})
	}
	if len(r.Readings) == 0 {
		return nil
	}
	r.TS = wire.Timestamp(time.Now())
	a.adversary.lie(r.Readings) // adversary.go: lie-sensor signs false values; no-op otherwise
	if err := wire.SignReadings(a.cluster.Name, r, a.key); err != nil {
		return nil
	}
	return r
}

// ownReadings publishes and shares this node's new readings; loop goroutine.
func (a *Agent) ownReadings(r *wire.Readings) {
	if err := a.reports.PublishReadings(r); err != nil {
		a.counters.reportErrors++
	}
	if b, err := json.Marshal(r); err == nil {
		a.net.SendFrame("", kindReadings, b, false)
	}
	a.keepReadings(r)
}

// takeReadings handles a peer's readings (verified by the transport).
func (a *Agent) takeReadings(from string, payload []byte) {
	var r wire.Readings
	if err := wire.Unmarshal(payload, &r); err != nil || r.Node != from {
		a.counters.refusedReadings++
		return
	}
	a.keepReadings(&r)
}

func (a *Agent) keepReadings(r *wire.Readings) {
	if old := a.latest[r.Node]; old != nil {
		ot, err1 := wire.ParseTime(old.TS)
		nt, err2 := wire.ParseTime(r.TS)
		if err1 == nil && (err2 != nil || !nt.After(ot)) {
			return
		}
	}
	a.latest[r.Node] = r
	a.counters.readings++
	a.triggersDue = true
	if doc := a.state.Capabilities[r.Node]; doc != nil && a.auditor != nil {
		if err := a.auditor.Add(time.Now(), doc.Zone, r); err != nil {
			a.counters.auditRefused++
		}
	}
}

// checkTriggers asks the agreed state what each trigger calls for and
// proposes it; loop goroutine.
func (a *Agent) checkTriggers() {
	a.triggersDue = false
	var names []string
	for name, act := range a.cluster.Actions {
		if act.Trigger != nil {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	latest := make([]*wire.Readings, 0, len(a.latest))
	for _, node := range sortedNames(a.latest) {
		latest = append(latest, a.latest[node])
	}
	for _, name := range names {
		if raw, ok := a.triggerEntry[name]; ok {
			if _, err := a.state.CheckEntry(raw); err == nil {
				continue // ours is still on its way
			}
			delete(a.triggerEntry, name)
		}
		d := a.state.TriggerCheck(name, latest)
		var e *agreed.Entry
		var err error
		switch {
		case d.Fire:
			e, err = a.state.AssignTrigger(name, d.Used)
		case d.Rearm:
			e, err = a.state.RearmTrigger(name, d.Used)
		default:
			continue
		}
		if err != nil {
			a.log.Debug("trigger entry", "action", name, "err", err)
			continue
		}
		a.log.Info("trigger", "action", name, "fire", d.Fire, "rearm", d.Rearm, "median", d.Median, "nodes", d.Nodes)
		a.triggerEntry[name] = e.Encode()
		a.submit(e)
	}
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
