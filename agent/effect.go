package agent

import (
	"fmt"
	"slices"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/hw"
)

// The expected sensor change (verify: sensor)
//
// An action verified by "sensor" must move the median its trigger watches,
// back towards the re-arm side: a fan run because the greenhouse passed
// 28 °C must bring its temperature down. Every node takes that median,
// over the newest readings of at least 2f+1 validators in the trigger's
// zone, when it applies the assignment, and again once the ok outcome is
// in, from readings taken in the second half of the run or later. A run
// whose median fell by effectMin or more bears its outcome out; one whose
// median did not fall at all contradicts it; anything between says nothing.
//
// One contradicted run proves nothing: the sun comes out, a door opens.
// A performer is accused (wire.AccuseEffect) only when its last effectRuns
// runs of the action all contradicted their outcome while, since the first
// of them, at least effectPeers runs of the same action by other performers
// moved the median as they should: the zone answers to the others' fans,
// not to this one's, so either its outcomes are false or its fan is dead —
// an outcome the cluster's measurements contradict either way. A simulated
// fan cools only the boards of its own process (hw.Wiring), so in a
// multi-process testnet nobody judges another process's runs.
const (
	effectMin   = 0.1 // in the sensor's unit
	effectRuns  = 3
	effectPeers = 2
	// effectWait is how long after a run's end its second median may still
	// be taken; with fewer than 2f+1 fresh readings by then, the run says
	// nothing.
	effectWait = 3 * readingsInterval
	// maxEffectHistory bounds the runs remembered per action.
	maxEffectHistory = 32
)

// effectStart is the median when a run was assigned.
type effectStart struct {
	performer string
	median    float64
	nodes     int
	outcome   *wire.Outcome // the ok outcome, once in
}

// EffectRun is one judged run: what an accusation for the expected sensor
// change carries, once per run it rests on.
type EffectRun struct {
	Outcome *wire.Outcome `json:"outcome"`
	Before  float64       `json:"before"` // the median when it was assigned
	After   float64       `json:"after"`  // the median in its second half or after
	Nodes   int           `json:"nodes"`  // validators behind the second median
	// Readings are the signed readings of the second median.
	Readings []*wire.Readings `json:"readings"`
	borne    bool
}

// sharesWorld reports whether node's outputs act on the world this node's
// sensors are in: always for real hardware; for simulated boards only
// within one process, whose World they share (hw.Wiring).
func (a *Agent) sharesWorld(node string) bool {
	if w, ok := a.board.(hw.Wiring); ok {
		return w.SharesWorld(node)
	}
	return true
}

// effectTrigger is the trigger of an action verified by sensor; nil when
// the action is not, or has no trigger to say which way is expected.
func (a *Agent) effectTrigger(action string) *config.Trigger {
	act, ok := a.cluster.Actions[action]
	if !ok || act.Trigger == nil || !slices.Contains(act.Verify, config.VerifySensor) {
		return nil
	}
	return act.Trigger
}

// effectMedian is the trigger's median over the newest readings of the
// validators in its zone taken at or after since, with the readings used;
// ok is false with fewer than 2f+1 of them.
func (a *Agent) effectMedian(t *config.Trigger, since time.Time) (median float64, used []*wire.Readings, ok bool) {
	var values []float64
	for _, node := range sortedNames(a.latest) {
		r := a.latest[node]
		if !a.state.ValidatorSet().Has(consensusID(node)) || !a.sharesWorld(node) {
			continue
		}
		if doc := a.state.Capabilities[node]; t.Zone != "" && (doc == nil || doc.Zone != t.Zone) {
			continue
		}
		ts, err := wire.ParseTime(r.TS)
		if err != nil || ts.Before(since) {
			continue
		}
		if v, has := agreed.NodeValue(r, t.SensorKind); has {
			values = append(values, v)
			used = append(used, r)
		}
	}
	if len(values) < a.state.ValidatorSet().Quorum() {
		return 0, nil, false
	}
	return agreed.Median(values), used, true
}

// effectAssigned takes the first median of a run; loop goroutine, when an
// assignment (or reassignment) is applied.
func (a *Agent) effectAssigned(as *agreed.Assigned) {
	t := a.effectTrigger(as.Action)
	if t == nil {
		return
	}
	delete(a.effectStarts, as.Instance)
	if !a.sharesWorld(as.Performer) {
		return // a simulated fan in another process cools nothing here
	}
	if m, used, ok := a.effectMedian(t, time.Now().Add(-2*readingsInterval)); ok {
		a.effectStarts[as.Instance] = &effectStart{performer: as.Performer, median: m, nodes: len(used)}
	}
}

// effectOutcome notes a run's ok outcome: its second median is taken once
// readings from its second half are in (judgeEffects).
func (a *Agent) effectOutcome(o *wire.Outcome) {
	if s := a.effectStarts[o.Instance]; s != nil && o.OK && s.performer == o.Performer && s.outcome == nil {
		s.outcome = o
	}
}

// judgeEffects takes the second median of every run whose outcome is in,
// and accuses a performer the measurements keep contradicting; loop
// goroutine, every second.
func (a *Agent) judgeEffects() {
	now := time.Now()
	for _, inst := range sortedNames(a.effectStarts) {
		s := a.effectStarts[inst]
		if s.outcome == nil {
			if len(a.effectStarts) > maxKnownOutcomes {
				delete(a.effectStarts, inst) // an outcome that never came
			}
			continue
		}
		started, err1 := wire.ParseTime(s.outcome.Started)
		finished, err2 := wire.ParseTime(s.outcome.Finished)
		t := a.effectTrigger(s.outcome.Action)
		if err1 != nil || err2 != nil || t == nil || now.After(finished.Add(effectWait)) {
			delete(a.effectStarts, inst)
			continue
		}
		m, used, ok := a.effectMedian(t, started.Add(finished.Sub(started)/2))
		if !ok {
			continue // not enough fresh readings yet
		}
		delete(a.effectStarts, inst)
		fell := s.median - m
		if fell > 0 && fell < effectMin {
			continue // says nothing
		}
		run := EffectRun{Outcome: s.outcome, Before: s.median, After: m, Nodes: len(used), Readings: used, borne: fell >= effectMin}
		if !run.borne {
			a.counters.effectsContradicted++
			a.log.Warn("an ok outcome the sensors do not bear out", "action", s.outcome.Action, "instance", inst,
				"performer", s.outcome.Performer, "before", s.median, "after", m)
		}
		a.addEffectRun(s.outcome.Action, run)
	}
}

// addEffectRun remembers a judged run and accuses its performer when its
// last effectRuns runs were all contradicted while others' were borne out.
func (a *Agent) addEffectRun(action string, run EffectRun) {
	h := append(a.effectHistory[action], run)
	if len(h) > maxEffectHistory {
		h = h[len(h)-maxEffectHistory:]
	}
	a.effectHistory[action] = h
	if run.borne {
		return
	}
	performer := run.Outcome.Performer
	if mine, others := contradicted(h, performer); len(mine) == effectRuns && others >= effectPeers {
		summary := fmt.Sprintf("%s's last %d ok outcomes of %s left the median unmoved or rising (%s), while %d runs by other nodes since brought it down",
			performer, effectRuns, action, effectSpans(mine), others)
		a.accuse(performer, wire.AccuseEffect, summary, mine)
	}
}

// contradicted returns performer's last effectRuns runs in h if they were
// all contradicted, and how many runs of other performers since the first
// of them were borne out.
func contradicted(h []EffectRun, performer string) (mine []EffectRun, othersBorne int) {
	first := -1
	for i := len(h) - 1; i >= 0 && len(mine) < effectRuns; i-- {
		if h[i].Outcome.Performer != performer {
			continue
		}
		if h[i].borne {
			return nil, 0
		}
		mine = append(mine, h[i])
		first = i
	}
	if len(mine) < effectRuns {
		return nil, 0
	}
	for _, r := range h[first:] {
		if r.Outcome.Performer != performer && r.borne {
			othersBorne++
		}
	}
	slices.Reverse(mine)
	return mine, othersBorne
}

func effectSpans(runs []EffectRun) string {
	s := ""
	for i, r := range runs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%.2f→%.2f", r.Before, r.After)
	}
	return s
}
