package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// encoder turns the Publish calls' arguments into topic and payload: it
// fills in what the reporter knows (v, cluster, ts, the publishing node) and
// refuses what would break the contract. The Reporter and its in-memory twin
// share it, so both publish the same bytes.
type encoder struct {
	cluster, node string
	topics        wire.Topics
	now           func() time.Time
	ha            *HomeAssistant // nil: no discovery, no last outcomes
}

func newEncoder(cluster, node string, now func() time.Time, ha *HomeAssistant) encoder {
	if now == nil {
		now = time.Now
	}
	return encoder{cluster: cluster, node: node, topics: wire.Topics{Cluster: cluster}, now: now, ha: ha}
}

// message is one encoded publication.
type message struct {
	topic   string
	kind    wire.Kind
	payload []byte
}

func (e encoder) ts() string { return wire.Timestamp(e.now()) }

// fill completes an unsigned payload's header.
func (e encoder) fill(h *wire.Header, what string) error {
	if h.Cluster != "" && h.Cluster != e.cluster {
		return fmt.Errorf("%w: %s for cluster %q, this reporter is %q's", ErrMalformed, what, h.Cluster, e.cluster)
	}
	h.V, h.Cluster = wire.Version, e.cluster
	if h.TS == "" {
		h.TS = e.ts()
	}
	return nil
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("report: marshal of a payload struct failed: %v", err))
	}
	return b
}

func (e encoder) state(s wire.NodeState, bdseq uint64) message {
	p := wire.State{Header: wire.Header{V: wire.Version, Cluster: e.cluster, TS: e.ts()}, Node: e.node, State: s, BDSeq: bdseq}
	return message{e.topics.State(e.node), wire.KindState, marshal(&p)}
}

func (e encoder) capabilities(doc *capability.Document) (message, error) {
	switch {
	case doc == nil:
		return message{}, fmt.Errorf("%w: capabilities: nil document", ErrMalformed)
	case doc.Sig == "":
		return message{}, fmt.Errorf("%w: capabilities: the document is not signed", ErrMalformed)
	case doc.Cluster != e.cluster || doc.Node != e.node:
		return message{}, fmt.Errorf("%w: capabilities: document of %s/%s, this reporter is %s/%s", ErrMalformed, doc.Cluster, doc.Node, e.cluster, e.node)
	}
	p := wire.Capabilities{Document: *doc, TS: e.ts()}
	return message{e.topics.Capabilities(e.node), wire.KindCapabilities, marshal(&p)}, nil
}

func (e encoder) readings(r *wire.Readings) (message, error) {
	switch {
	case r == nil:
		return message{}, fmt.Errorf("%w: readings: nil", ErrMalformed)
	case r.Sig == "":
		return message{}, fmt.Errorf("%w: readings are not signed (wire.SignReadings)", ErrMalformed)
	case r.Cluster != e.cluster || r.Node != e.node:
		return message{}, fmt.Errorf("%w: readings of %s/%s, this reporter is %s/%s", ErrMalformed, r.Cluster, r.Node, e.cluster, e.node)
	}
	return message{e.topics.Readings(e.node), wire.KindReadings, marshal(r)}, nil
}

func (e encoder) observation(o *wire.Observation) (message, error) {
	switch {
	case o == nil:
		return message{}, fmt.Errorf("%w: observation: nil", ErrMalformed)
	case o.Sig == "":
		return message{}, fmt.Errorf("%w: observation is not signed (wire.SignObservation)", ErrMalformed)
	case o.Cluster != e.cluster || o.Node != e.node:
		return message{}, fmt.Errorf("%w: observation of %s/%s, this reporter is %s/%s", ErrMalformed, o.Cluster, o.Node, e.cluster, e.node)
	}
	return message{e.topics.Observations(e.node), wire.KindObservations, marshal(o)}, nil
}

func (e encoder) decision(d *wire.Decision) (message, error) {
	if d == nil {
		return message{}, fmt.Errorf("%w: decision: nil", ErrMalformed)
	}
	c := *d
	if err := e.fill(&c.Header, "decision"); err != nil {
		return message{}, err
	}
	if c.Node == "" {
		c.Node = e.node
	}
	if c.Node != e.node {
		return message{}, fmt.Errorf("%w: decision published by %q, this reporter is %q", ErrMalformed, c.Node, e.node)
	}
	if c.Entries == nil {
		c.Entries = []wire.DecisionEntry{}
	}
	if c.Certificate.Votes == nil {
		c.Certificate.Votes = []wire.Vote{}
	}
	return message{e.topics.Decisions(e.node), wire.KindDecisions, marshal(&c)}, nil
}

func (e encoder) outcome(o *wire.Outcome) (message, error) {
	switch {
	case o == nil:
		return message{}, fmt.Errorf("%w: outcome: nil", ErrMalformed)
	case o.Sig == "":
		return message{}, fmt.Errorf("%w: outcome %s/%s is not signed (wire.SignOutcome)", ErrMalformed, o.Action, o.Instance)
	case o.Cluster != e.cluster:
		return message{}, fmt.Errorf("%w: outcome for cluster %q, this reporter is %q's", ErrMalformed, o.Cluster, e.cluster)
	}
	if err := o.Check(); err != nil {
		return message{}, err
	}
	return message{e.topics.Outcome(o.Action, o.Instance), wire.KindOutcome, marshal(o)}, nil
}

func (e encoder) ejection(j *wire.Ejection) (message, error) {
	if j == nil {
		return message{}, fmt.Errorf("%w: ejection: nil", ErrMalformed)
	}
	c := *j
	if err := e.fill(&c.Header, "ejection"); err != nil {
		return message{}, err
	}
	if !config.ValidName(c.Node) {
		return message{}, fmt.Errorf("%w: ejection of %q: not a valid node name", ErrMalformed, c.Node)
	}
	if c.Evidence == nil {
		c.Evidence = []wire.Evidence{}
	}
	return message{e.topics.Ejection(c.Node), wire.KindEjection, marshal(&c)}, nil
}

// maxErrorText bounds the error text of a report: it may quote what a
// stranger sent.
const maxErrorText = 1024

func (e encoder) errorReport(requestID, topic, text string) message {
	if !wire.ValidID(requestID) {
		requestID = ""
	}
	if len(text) > maxErrorText {
		text = strings.ToValidUTF8(text[:maxErrorText], "") + "…"
	}
	p := wire.ErrorReport{
		Header:    wire.Header{V: wire.Version, Cluster: e.cluster, TS: e.ts()},
		RequestID: requestID,
		Node:      e.node,
		Topic:     topic,
		Error:     text,
	}
	return message{e.topics.Errors(), wire.KindErrors, marshal(&p)}
}
