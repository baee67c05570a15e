package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// The demo's narration
//
// demoNarrator is fed every message the cluster publishes, as (topic,
// payload), and knows nothing else: it reads the MQTT contract of
// DESIGN.md §4 exactly as a subscriber would, so what it prints and what it
// checks are what anyone watching the broker could see and check. It writes
// one line per event, elapsed time first and a phase tag second, and at the
// end a summary and the run's invariants (demo_checks.go).
//
// It is safe for concurrent use: the broker calls Observe from the goroutine
// of whichever client published.

// Phase tags of the narration.
const (
	demoPhaseDiscover  = "discover"
	demoPhaseNegotiate = "negotiate"
	demoPhaseSense     = "sense"
	demoPhaseRequest   = "request"
	demoPhaseAgree     = "agree"
	demoPhaseAct       = "act"
	demoPhaseWitness   = "witness"
	demoPhaseDetect    = "detect"
	demoPhaseError     = "error"
	demoPhaseDemo      = "demo"
)

// demoMedianStep is how far (°C) a zone's median temperature must move before
// the narration mentions it again.
const demoMedianStep = 0.5

// demoCast is what the narrator knows before anything is published: the
// cluster file's name and actions, and who is who.
type demoCast struct {
	Cluster string
	// Nodes are every node, in order.
	Nodes []string
	// Adversaries maps the adversarial nodes to their mode.
	Adversaries map[string]string
	// Zones maps nodes to their zone (the agent files' zone).
	Zones map[string]string
	// Actions is the cluster's action catalogue.
	Actions map[string]config.Action
}

func (c demoCast) honest() []string {
	var out []string
	for _, n := range c.Nodes {
		if _, bad := c.Adversaries[n]; !bad {
			out = append(out, n)
		}
	}
	return out
}

// demoHeight is what the cluster published about one decided height.
type demoHeight struct {
	blocks  map[string]string // publisher → certificate.block
	first   string            // the first publisher
	notable bool              // it decided work or an ejection: its confirmation is narrated
	done    bool              // its confirmation was narrated
}

// demoWork is one assigned action instance and what became of it.
type demoWork struct {
	action, instance, requestID string
	performer                   string // named by the latest assign or reassign
	height                      uint64 // of the latest assign or reassign
	triggered                   bool
	ok                          []*wire.Outcome // distinct ok outcomes; more than one breaks an invariant
	failed                      map[string]bool // performer@height of failed outcomes seen
}

// demoZone is the narration's memory of one zone's temperature.
type demoZone struct {
	printed bool
	last    float64 // the median last printed
}

type demoNarrator struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	start time.Time
	cast  demoCast
	quiet bool // --quiet: no event lines, only the summary
	muted bool // shutting down: keep counting, stop talking

	ready      map[string]bool
	offers     map[string]bool // nodes whose capabilities were published
	advertised map[string]uint64
	capsDone   chan struct{} // closed once every honest node's capabilities are decided
	temps      map[string]float64
	zones      map[string]*demoZone

	heights      map[uint64]*demoHeight
	decisions    int
	work         map[string]*demoWork // by instance
	workOrder    []string
	rearms       int
	disarmed     map[string]bool // actions whose trigger fired and has not re-armed
	dedup        *wire.Dedup
	duplicates   int
	orphans      []*wire.Outcome // ok outcomes for instances never seen assigned (checked at the end)
	failedSeen   int
	observations int // witness observations seen

	requests     map[string]string // request id → action
	requestOrder []string
	errors       map[string]int // "request: error" → nodes that reported it

	ejections       map[string]*wire.Ejection // first report per ejected node
	ejectionReports map[string]int            // how often each ejection was published (every honest node does)
	ejectedAt       map[string]uint64         // from eject entries
	states          map[string]wire.NodeState

	unreadable int
	unreadKind map[wire.Kind]bool
}

func newDemoNarrator(w io.Writer, cast demoCast, now func() time.Time) *demoNarrator {
	if now == nil {
		now = time.Now
	}
	return &demoNarrator{
		w: w, now: now, start: now(), cast: cast,
		ready:           map[string]bool{},
		offers:          map[string]bool{},
		advertised:      map[string]uint64{},
		capsDone:        make(chan struct{}),
		temps:           map[string]float64{},
		zones:           map[string]*demoZone{},
		heights:         map[uint64]*demoHeight{},
		work:            map[string]*demoWork{},
		disarmed:        map[string]bool{},
		dedup:           wire.NewDedup(4096),
		requests:        map[string]string{},
		errors:          map[string]int{},
		ejections:       map[string]*wire.Ejection{},
		ejectionReports: map[string]int{},
		ejectedAt:       map[string]uint64{},
		states:          map[string]wire.NodeState{},
		unreadKind:      map[wire.Kind]bool{},
	}
}

// CapabilitiesAgreed is closed once every honest node's capability document
// has been decided: the cluster can now be asked for work.
func (n *demoNarrator) CapabilitiesAgreed() <-chan struct{} { return n.capsDone }

// Mute stops the event lines (the agents saying goodbye at shutdown are not
// part of the story); Observe still records.
func (n *demoNarrator) Mute() {
	n.mu.Lock()
	n.muted = true
	n.mu.Unlock()
}

// Say prints one line of the runner's own, in the narration's format.
func (n *demoNarrator) Say(phase, format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.say(phase, format, args...)
}

// say prints one event line; called with n.mu held.
func (n *demoNarrator) say(phase, format string, args ...any) {
	if n.quiet || n.muted {
		return
	}
	elapsed := n.now().Sub(n.start).Seconds()
	fmt.Fprintf(n.w, "%6.1fs  %-9s  %s\n", elapsed, phase, fmt.Sprintf(format, args...))
}

// Observe takes one published message. Messages that are not the cluster's
// are ignored; payloads that do not decode are counted and mentioned once
// per kind of topic.
func (n *demoNarrator) Observe(topic string, payload []byte) {
	t, err := wire.ParseTopic(topic)
	if err != nil || t.Cluster != n.cast.Cluster {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch t.Kind {
	case wire.KindState:
		var s wire.State
		err = wire.Unmarshal(payload, &s)
		if err == nil {
			n.onState(t.Node, &s)
		}
	case wire.KindCapabilities:
		var c wire.Capabilities
		err = wire.Unmarshal(payload, &c)
		if err == nil {
			n.onCapabilities(t.Node, &c)
		}
	case wire.KindReadings:
		var r wire.Readings
		err = wire.Unmarshal(payload, &r)
		if err == nil {
			n.onReadings(t.Node, &r)
		}
	case wire.KindObservations:
		var o *wire.Observation
		o, err = wire.DecodeObservation(payload)
		if err == nil {
			n.onObservation(o)
		}
	case wire.KindDecisions:
		var d wire.Decision
		err = wire.Unmarshal(payload, &d)
		if err == nil {
			n.onDecision(t.Node, &d)
		}
	case wire.KindOutcome:
		var o *wire.Outcome
		o, err = wire.DecodeOutcome(payload)
		if err == nil && (o.Action != t.Action || o.Instance != t.Instance) {
			err = fmt.Errorf("the payload is for %s/%s", o.Action, o.Instance)
		}
		if err == nil {
			n.onOutcome(o)
		}
	case wire.KindEjection:
		var e wire.Ejection
		err = wire.Unmarshal(payload, &e)
		if err == nil {
			n.onEjection(t.Node, &e)
		}
	case wire.KindRequest:
		var r *wire.Request
		r, err = wire.DecodeRequest(payload)
		if err == nil {
			n.onRequest(r)
		}
	case wire.KindErrors:
		var e wire.ErrorReport
		err = wire.Unmarshal(payload, &e)
		if err == nil {
			n.onError(&e)
		}
	}
	if err != nil {
		n.unreadable++
		if !n.unreadKind[t.Kind] {
			n.unreadKind[t.Kind] = true
			n.say(demoPhaseError, "cannot read %s: %v", topic, err)
		}
	}
}

func (n *demoNarrator) onState(node string, s *wire.State) {
	prev := n.states[node]
	n.states[node] = s.State
	switch s.State {
	case wire.StateReady:
		if !n.ready[node] {
			n.ready[node] = true
			n.say(demoPhaseDiscover, "%s is up: connected and ready (%d/%d)%s", node, len(n.ready), len(n.cast.Nodes), n.adversaryNote(node))
		}
	case wire.StateEjected:
		if prev != wire.StateEjected {
			n.say(demoPhaseDetect, "%s now reports its state as ejected", node)
		}
	case wire.StateLost:
		n.say(demoPhaseDiscover, "%s lost: its connection ended without a goodbye", node)
	case wire.StateDisconnected:
		n.say(demoPhaseDiscover, "%s disconnected", node)
	}
}

func (n *demoNarrator) adversaryNote(node string) string {
	if mode, ok := n.cast.Adversaries[node]; ok {
		return fmt.Sprintf(" — an adversary (%s)", mode)
	}
	return ""
}

func (n *demoNarrator) onCapabilities(node string, c *wire.Capabilities) {
	if n.offers[node] {
		return
	}
	n.offers[node] = true
	var parts []string
	var outs []string
	for _, o := range c.Outputs {
		outs = append(outs, o.Name+" ("+o.Kind+")")
	}
	if len(outs) > 0 {
		parts = append(parts, "outputs "+strings.Join(outs, ", "))
	}
	var sens []string
	for _, s := range c.Sensors {
		sens = append(sens, s.Name+" ("+s.Kind+")")
	}
	if len(sens) > 0 {
		parts = append(parts, "sensors "+strings.Join(sens, ", "))
	}
	var ins []string
	for _, i := range c.Inputs {
		if i.Watches != "" {
			ins = append(ins, i.Name+" watching "+i.Watches)
		} else {
			ins = append(ins, i.Name)
		}
	}
	if len(ins) > 0 {
		parts = append(parts, "inputs "+strings.Join(ins, ", "))
	}
	zone := ""
	if c.Zone != "" {
		zone = " in " + c.Zone
	}
	n.say(demoPhaseNegotiate, "%s offers%s: %s (signed document, seq %d)", node, zone, strings.Join(parts, "; "), c.Seq)
}

// onObservation narrates a witness: the wire between two nodes confirms (or
// contradicts) that the performer's pin moved.
func (n *demoNarrator) onObservation(o *wire.Observation) {
	n.observations++
	if o.Saw == "" {
		n.say(demoPhaseWitness, "%s's %s did NOT see %s's %s go %s for %s %s", o.Node, o.Input, o.Performer, o.Output, o.Level, o.Action, o.Instance)
		return
	}
	n.say(demoPhaseWitness, "%s's %s saw %s's %s go %s: confirms %s %s (signed observation)", o.Node, o.Input, o.Performer, o.Output, o.Level, o.Action, o.Instance)
}

func (n *demoNarrator) onOutcome(o *wire.Outcome) {
	w := n.work[o.Instance]
	if !o.OK {
		key := fmt.Sprintf("%s@%d", o.Performer, o.Height)
		if w != nil {
			if w.failed[key] {
				return
			}
			w.failed[key] = true
		}
		n.failedSeen++
		n.say(demoPhaseAct, "%s failed %s %s: %s", o.Performer, o.Action, o.Instance, o.Error)
		return
	}
	if !n.dedup.First(o.Action, o.Instance) {
		var prior []*wire.Outcome
		if w != nil {
			prior = w.ok
		} else {
			prior = n.orphans
		}
		for _, p := range prior {
			if p.Action == o.Action && p.Instance == o.Instance && p.Performer == o.Performer && p.Height == o.Height {
				n.duplicates++ // a re-delivery of the outcome already counted
				return
			}
		}
		n.say(demoPhaseAct, "SECOND ok outcome for %s %s, from %s (height %d)", o.Action, o.Instance, o.Performer, o.Height)
	}
	if w != nil {
		w.ok = append(w.ok, o)
	} else {
		n.orphans = append(n.orphans, o)
	}
	n.say(demoPhaseAct, "%s: ok, readback %s (%s %s)", n.drove(o), demoOrNone(o.Readback), o.Action, o.Instance)
}

// drove describes what the performer did: "node-3 drove fan high for 5.0s".
func (n *demoNarrator) drove(o *wire.Outcome) string {
	a, known := n.cast.Actions[o.Action]
	if !known {
		return o.Performer + " performed " + o.Action
	}
	output := a.Needs.Output
	if output == "" {
		output = string(a.Needs.OutputKind)
	}
	level := a.Drive.Level
	if level == "" {
		level = config.High
	}
	s := fmt.Sprintf("%s drove %s %s", o.Performer, output, level)
	start, err1 := wire.ParseTime(o.Started)
	end, err2 := wire.ParseTime(o.Finished)
	if err1 == nil && err2 == nil && !end.Before(start) {
		s += fmt.Sprintf(" for %.1fs", end.Sub(start).Seconds())
	}
	return s
}

func demoOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (n *demoNarrator) onEjection(node string, e *wire.Ejection) {
	n.ejectionReports[node]++
	if _, seen := n.ejections[node]; seen {
		return
	}
	n.ejections[node] = e
	summary := ""
	for _, ev := range e.Evidence {
		if ev.Summary != "" {
			summary = " — " + ev.Summary
			break
		}
	}
	n.say(demoPhaseDetect, "%s ejected at height %d: %s%s%s", node, e.Height, e.Reason, summary, n.honestNote(node))
}

func (n *demoNarrator) onRequest(r *wire.Request) {
	if _, seen := n.requests[r.ID]; seen {
		return
	}
	n.requests[r.ID] = r.Action
	n.requestOrder = append(n.requestOrder, r.ID)
	signed := "unsigned"
	if r.Sig != "" {
		signed = "operator-signed"
	}
	params := ""
	if len(r.Params) > 0 {
		var kv []string
		for _, k := range demoSortedKeys(r.Params) {
			kv = append(kv, k+"="+r.Params[k])
		}
		params = " " + strings.Join(kv, " ")
	}
	n.say(demoPhaseRequest, "%s request %s: %s%s", signed, r.ID, r.Action, params)
}

func demoSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (n *demoNarrator) onError(e *wire.ErrorReport) {
	key := e.RequestID + ": " + e.Error
	n.errors[key]++
	if n.errors[key] == 1 {
		what := "a message"
		if e.RequestID != "" {
			what = "request " + e.RequestID
		}
		n.say(demoPhaseError, "%s refused %s: %s", e.Node, what, e.Error)
	}
}
