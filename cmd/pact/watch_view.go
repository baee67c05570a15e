package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// watcher is `pact watch` without the broker: fed (topic, payload) in the
// order they arrive, it keeps what it needs to put them in context — each
// node's last birth, the decisions seen at each height, the outcomes
// already shown — and writes one line (or one JSON object) per event.
// It is not safe for concurrent use: the command's loop owns it.
type watcher struct {
	out      io.Writer
	json     bool
	readings bool
	// fixed is the cluster subscribed to; "" when cluster names are learned
	// from the topics (pact/+/#), and lines then name their cluster.
	fixed string
	// trust holds the cluster file's keys; nil verifies nothing.
	trust *watchTrust
	now   func() time.Time

	clusters map[string]*clusterView
}

// watchOptions configure a watcher.
type watchOptions struct {
	json, readings bool
	// cluster is the cluster subscribed to, "" for all.
	cluster string
	// file is the cluster file, when there is one: signatures are checked
	// for its cluster only.
	file *config.Cluster
	now  func() time.Time
}

func newWatcher(out io.Writer, o watchOptions) *watcher {
	if o.now == nil {
		o.now = time.Now
	}
	w := &watcher{out: out, json: o.json, readings: o.readings, fixed: o.cluster, now: o.now, clusters: map[string]*clusterView{}}
	if o.file != nil {
		w.trust = newWatchTrust(o.file)
	}
	return w
}

// clusterView is what the watcher remembers of one cluster.
type clusterView struct {
	nodes     map[string]*nodeView
	heights   map[uint64]*heightView
	top       uint64 // the highest height seen
	outcomes  *wire.Dedup
	ejections map[string]uint64 // ejected node → height of the ejection shown
	ejected   map[string]bool   // by a decided eject entry or its own state
	changes   []setChange       // decided, applied once a higher height is seen
}

// nodeView is one node's last state.
type nodeView struct {
	state wire.NodeState
	birth uint64 // bdseq of the last birth (ready or ejected)
	born  bool
	// decides is set once the node published a decision.
	decides bool
}

// heightView is one height: the first decision seen for it and the nodes
// that published the same since.
type heightView struct {
	block     string
	entries   []wire.DecisionEntry
	first     string
	confirmed map[string]bool
	quorum    bool // "confirmed by a quorum" was shown
	all       bool // "confirmed by all" was shown
	forks     map[string]bool
}

// keepHeights is how many heights below the highest are remembered.
const keepHeights = 256

func (w *watcher) view(cluster, topic string) *clusterView {
	cv, ok := w.clusters[cluster]
	if !ok {
		cv = &clusterView{
			nodes: map[string]*nodeView{}, heights: map[uint64]*heightView{},
			outcomes: wire.NewDedup(1 << 14), ejections: map[string]uint64{}, ejected: map[string]bool{},
		}
		w.clusters[cluster] = cv
		if w.fixed == "" && !w.json {
			fmt.Fprintf(w.out, "%s cluster %s (first seen on %s)\n", w.stamp(), cluster, topic)
		}
	}
	return cv
}

func (cv *clusterView) node(name string) *nodeView {
	n, ok := cv.nodes[name]
	if !ok {
		n = &nodeView{}
		cv.nodes[name] = n
	}
	return n
}

// watchEvent is one line of output.
type watchEvent struct {
	topic    string
	kind     string
	cluster  string
	node     string
	payload  []byte
	retained bool
	sig      sigVerdict
	text     string
	more     []string // indented lines below the text
	// confirmations, for a decision: how many nodes published its block.
	confirmations int
	disagreement  bool
	err           error // malformed
}

// sigVerdict is what a signature check found.
type sigVerdict struct {
	state  sigState
	detail string
}

type sigState int

const (
	sigNone       sigState = iota // the payload carries no signature
	sigUnverified                 // signed, but not checked
	sigOK
	sigBad
)

// mark is the verdict at the end of a human line.
func (v sigVerdict) mark() string {
	switch v.state {
	case sigOK:
		return " ✓ signed" + inParens(v.detail)
	case sigBad:
		return " ✗ BAD SIGNATURE" + inParens(v.detail)
	case sigUnverified:
		return " unverified" + inParens(v.detail)
	}
	return ""
}

// verified is the JSON "verified": true, false or null.
func (v sigVerdict) verified() *bool {
	switch v.state {
	case sigOK:
		return boolPtr(true)
	case sigBad:
		return boolPtr(false)
	}
	return nil
}

func boolPtr(v bool) *bool { return &v }

func inParens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// watchJSON is one line of --json output.
type watchJSON struct {
	Time          string          `json:"time"`
	Topic         string          `json:"topic"`
	Kind          string          `json:"kind"`
	Node          string          `json:"node,omitempty"`
	Verified      *bool           `json:"verified"`
	Retained      bool            `json:"retained,omitempty"`
	Confirmations int             `json:"confirmations,omitempty"`
	Disagreement  bool            `json:"disagreement,omitempty"`
	Error         string          `json:"error,omitempty"`
	Payload       json.RawMessage `json:"payload"`
}

func (w *watcher) stamp() string { return w.now().Format("15:04:05.000") }

func (w *watcher) emit(e watchEvent) {
	if w.json {
		j := watchJSON{
			Time: w.now().UTC().Format(wire.TimeLayout), Topic: e.topic, Kind: e.kind, Node: e.node,
			Verified: e.sig.verified(), Retained: e.retained, Confirmations: e.confirmations, Disagreement: e.disagreement,
			Payload: rawJSON(e.payload),
		}
		if e.err != nil {
			j.Error = e.err.Error()
		}
		b, err := json.Marshal(j)
		if err != nil {
			panic(fmt.Sprintf("watch: marshal of a plain struct failed: %v", err))
		}
		fmt.Fprintf(w.out, "%s\n", b)
		return
	}
	var b strings.Builder
	b.WriteString(w.stamp())
	b.WriteByte(' ')
	if w.fixed == "" && e.cluster != "" {
		b.WriteString("[" + e.cluster + "] ")
	}
	b.WriteString(e.text)
	b.WriteString(e.sig.mark())
	if e.retained {
		b.WriteString(" (retained)")
	}
	b.WriteByte('\n')
	for _, m := range e.more {
		b.WriteString("    " + m + "\n")
	}
	io.WriteString(w.out, b.String())
}

// line writes a human-only line (a milestone, a note); --json leaves it
// out, since every JSON object stands for one message.
func (w *watcher) line(cluster, format string, args ...any) {
	if w.json {
		return
	}
	w.emit(watchEvent{cluster: cluster, text: fmt.Sprintf(format, args...)})
}

// rawJSON is payload as a JSON value: itself when it is JSON, else a string.
func rawJSON(payload []byte) json.RawMessage {
	if json.Valid(payload) {
		return payload
	}
	b, _ := json.Marshal(strings.ToValidUTF8(string(payload), "\uFFFD"))
	return b
}

func (w *watcher) malformed(topic, cluster string, payload []byte, retained bool, err error) {
	w.emit(watchEvent{topic: topic, kind: "malformed", cluster: cluster, payload: payload, retained: retained, err: err,
		text: fmt.Sprintf("malformed %s: %v", topic, err)})
}

// handle takes one message.
func (w *watcher) handle(topic string, payload []byte, retained bool) {
	t, err := wire.ParseTopic(topic)
	if err != nil {
		w.malformed(topic, "", payload, retained, err)
		return
	}
	cv := w.view(t.Cluster, topic)
	if len(payload) == 0 {
		// An empty retained message deletes the retained one.
		w.emit(watchEvent{topic: topic, kind: "cleared", cluster: t.Cluster, node: t.Node, payload: []byte("null"), retained: retained,
			text: "cleared " + topic})
		return
	}
	e := watchEvent{topic: topic, kind: string(t.Kind), cluster: t.Cluster, node: t.Node, payload: payload, retained: retained}
	// Each kind fills in e, or says the message shows nothing new (a
	// duplicate), or that it is malformed.
	show := true
	switch t.Kind {
	case wire.KindState:
		err = w.state(cv, t, &e)
	case wire.KindCapabilities:
		err = w.capabilities(t, &e)
	case wire.KindReadings:
		if !w.readings {
			return
		}
		err = w.readingsOf(t, &e)
	case wire.KindObservations:
		err = w.observation(t, &e)
	case wire.KindDecisions:
		show, err = w.decision(cv, t, &e)
	case wire.KindOutcome:
		show, err = w.outcome(cv, t, &e)
	case wire.KindLastOutcome:
		return // a copy of an outcome shown from outcomes/, for Home Assistant
	case wire.KindEjection:
		show, err = w.ejection(cv, t, &e)
	case wire.KindErrors:
		err = w.errorReport(t, &e)
	case wire.KindRequest:
		err = w.request(t, &e)
	}
	switch {
	case err != nil:
		w.malformed(topic, t.Cluster, payload, retained, err)
	case show:
		w.emit(e)
	}
}

// checkPayloadHeader checks a payload's header against its topic.
func checkPayloadHeader(h wire.Header, t wire.Topic) error {
	switch {
	case h.V != wire.Version:
		return fmt.Errorf("%w: v is %d, want %d", wire.ErrMalformed, h.V, wire.Version)
	case h.Cluster != t.Cluster:
		return fmt.Errorf("%w: payload for cluster %q on cluster %s's topic", wire.ErrMalformed, h.Cluster, t.Cluster)
	}
	if _, err := wire.ParseTime(h.TS); err != nil {
		return fmt.Errorf("%w: ts %q is not an RFC 3339 time", wire.ErrMalformed, h.TS)
	}
	return nil
}

// checkPayloadNode checks that a payload names the node of its topic.
func checkPayloadNode(node string, t wire.Topic) error {
	if node != t.Node {
		return fmt.Errorf("%w: payload names node %q on %s's topic", wire.ErrMalformed, node, t.Node)
	}
	return nil
}

func (w *watcher) state(cv *clusterView, t wire.Topic, e *watchEvent) error {
	var s wire.State
	if err := wire.Unmarshal(e.payload, &s); err != nil {
		return err
	}
	if err := firstProblem(checkPayloadHeader(s.Header, t), checkPayloadNode(s.Node, t)); err != nil {
		return err
	}
	n := cv.node(s.Node)
	e.text = fmt.Sprintf("%s %s (bdseq %d)", s.Node, s.State, s.BDSeq)
	switch s.State {
	case wire.StateReady, wire.StateEjected:
		n.state, n.birth, n.born = s.State, s.BDSeq, true
		if s.State == wire.StateEjected {
			cv.ejected[s.Node] = true
		}
	case wire.StateLost:
		if n.born && s.BDSeq != n.birth {
			e.text += fmt.Sprintf(": stale, the will of an older connection (the last birth is bdseq %d)", n.birth)
			return nil
		}
		n.state = s.State
		e.text += ": its connection ended without a goodbye"
	case wire.StateDisconnected:
		n.state = s.State
	default:
		return fmt.Errorf("%w: state %q is not one of ready, lost, disconnected, ejected", wire.ErrMalformed, s.State)
	}
	return nil
}

func (w *watcher) capabilities(t wire.Topic, e *watchEvent) error {
	var c wire.Capabilities
	if err := wire.Unmarshal(e.payload, &c); err != nil {
		return err
	}
	if err := checkPayloadNode(c.Node, t); err != nil {
		return err
	}
	v, err := w.trust.document(t.Cluster, &c.Document)
	if err != nil {
		return err
	}
	e.sig = v
	d := &c.Document
	var parts []string
	if d.Zone != "" {
		parts = append(parts, "zone "+d.Zone)
	}
	list := func(label string, items []string) {
		if len(items) > 0 {
			parts = append(parts, label+" "+strings.Join(items, " "))
		}
	}
	var outs, sens, ins []string
	for _, o := range d.Outputs {
		outs = append(outs, o.Name+"("+o.Kind+")")
	}
	for _, s := range d.Sensors {
		sens = append(sens, s.Name+"("+strings.TrimSpace(s.Kind+" "+s.Unit)+")")
	}
	for _, i := range d.Inputs {
		x := i.Name + "(" + i.Kind
		if i.Watches != "" {
			x += " ← " + i.Watches
		}
		ins = append(ins, x+")")
	}
	list("outputs", outs)
	list("sensors", sens)
	list("inputs", ins)
	e.text = fmt.Sprintf("%s capabilities seq %d", d.Node, d.Seq)
	if len(parts) > 0 {
		e.text += ": " + strings.Join(parts, "; ")
	}
	return nil
}

func (w *watcher) readingsOf(t wire.Topic, e *watchEvent) error {
	var r wire.Readings
	if err := wire.Unmarshal(e.payload, &r); err != nil {
		return err
	}
	if err := firstProblem(checkPayloadHeader(r.Header, t), checkPayloadNode(r.Node, t)); err != nil {
		return err
	}
	e.sig = w.trust.readings(t.Cluster, &r)
	parts := make([]string, 0, len(r.Readings))
	for _, x := range r.Readings {
		parts = append(parts, strings.TrimSpace(fmt.Sprintf("%s=%g %s", x.Sensor, x.Value, x.Unit)))
	}
	e.text = r.Node + " " + strings.Join(parts, " ")
	return nil
}

// observation shows what a witness saw of a performer's output.
func (w *watcher) observation(t wire.Topic, e *watchEvent) error {
	o, err := wire.DecodeObservation(e.payload)
	if err != nil {
		return err
	}
	if err := firstProblem(checkPayloadHeader(o.Header, t), checkPayloadNode(o.Node, t)); err != nil {
		return err
	}
	e.sig = w.trust.observation(t.Cluster, o)
	seen := "saw it " + o.Saw
	if o.Saw == "" {
		seen = "did NOT see it " + o.Level
	}
	e.text = fmt.Sprintf("witness %s (%s) watching %s/%s for %s %s: %s", o.Node, o.Input, o.Performer, o.Output, o.Action, o.Instance, seen)
	return nil
}

// outcome shows an outcome once per (action, instance). One whose
// signature fails is shown every time and does not count as seen: a forger
// must not hide the performer's true outcome.
func (w *watcher) outcome(cv *clusterView, t wire.Topic, e *watchEvent) (bool, error) {
	o, err := wire.DecodeOutcome(e.payload)
	if err != nil {
		return false, err
	}
	if o.Cluster != t.Cluster || o.Action != t.Action || o.Instance != t.Instance {
		return false, fmt.Errorf("%w: outcome %s/%s of cluster %s on topic %s", wire.ErrMalformed, o.Action, o.Instance, o.Cluster, e.topic)
	}
	e.node = o.Performer
	e.sig = w.trust.outcome(t.Cluster, o)
	if e.sig.state != sigBad && !cv.outcomes.First(o.Action, o.Instance) {
		return false, nil
	}
	e.text = "outcome " + outcomeLine(o)
	if o.RequestID != "" {
		e.text += ", request " + o.RequestID
	}
	return true, nil
}

// ejection shows each ejection once, whichever node's copy comes first.
func (w *watcher) ejection(cv *clusterView, t wire.Topic, e *watchEvent) (bool, error) {
	var j wire.Ejection
	if err := wire.Unmarshal(e.payload, &j); err != nil {
		return false, err
	}
	if err := firstProblem(checkPayloadHeader(j.Header, t), checkPayloadNode(j.Node, t)); err != nil {
		return false, err
	}
	if h, seen := cv.ejections[j.Node]; seen && h == j.Height {
		return false, nil
	}
	cv.ejections[j.Node] = j.Height
	cv.ejected[j.Node] = true
	e.text = fmt.Sprintf("EJECTED %s at height %d: %s", j.Node, j.Height, j.Reason)
	for _, ev := range j.Evidence {
		e.more = append(e.more, fmt.Sprintf("evidence %s: %s", ev.Type, ev.Summary))
	}
	return true, nil
}

func (w *watcher) errorReport(t wire.Topic, e *watchEvent) error {
	var r wire.ErrorReport
	if err := wire.Unmarshal(e.payload, &r); err != nil {
		return err
	}
	if err := checkPayloadHeader(r.Header, t); err != nil {
		return err
	}
	e.node = r.Node
	e.text = "error from " + r.Node
	if r.RequestID != "" {
		e.text += " about request " + r.RequestID
	}
	if r.Topic != "" {
		e.text += " on " + r.Topic
	}
	e.text += ": " + r.Error
	return nil
}

func (w *watcher) request(t wire.Topic, e *watchEvent) error {
	r, err := wire.DecodeRequest(e.payload)
	if err != nil {
		return err
	}
	if r.Cluster != t.Cluster || r.Action != t.Action {
		return fmt.Errorf("%w: request for %s in cluster %s on topic %s", wire.ErrMalformed, r.Action, r.Cluster, e.topic)
	}
	e.sig = w.trust.request(t.Cluster, r)
	e.text = fmt.Sprintf("request %s for %s", r.ID, r.Action)
	if len(r.Params) > 0 {
		e.text += " " + paramFlag(r.Params).String()
	}
	return nil
}

func firstProblem(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
