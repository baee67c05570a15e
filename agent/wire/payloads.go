package wire

import (
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/consensus"
)

// Version is the payload format version every payload carries in "v".
const Version = 1

// TimeLayout is how payload times are written: RFC 3339 in UTC with
// milliseconds. Readers accept any RFC 3339 time.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Timestamp formats t for a payload.
func Timestamp(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime reads a payload time (any RFC 3339 form).
func ParseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// Header is what every payload of the contract starts with.
type Header struct {
	V       int    `json:"v"`
	Cluster string `json:"cluster"`
	TS      string `json:"ts"` // RFC 3339, when the payload was made
}

// NodeState is the value of a node's retained state topic.
type NodeState string

// The node states of the contract, after Homie's $state.
const (
	// StateReady is the birth: the node is connected and working.
	StateReady NodeState = "ready"
	// StateLost is the death certificate, the node's MQTT will: the broker
	// publishes it when the node's connection ends without a goodbye.
	StateLost NodeState = "lost"
	// StateDisconnected is a clean exit (the agent stopped).
	StateDisconnected NodeState = "disconnected"
	// StateEjected: the cluster threw the node out; it keeps reporting.
	StateEjected NodeState = "ejected"
)

// State is the retained payload of nodes/<node>/state.
//
// BDSeq is the birth/death sequence number, as in Sparkplug: it grows by
// one for every connection the node makes, across restarts, and the will
// registered with a connection carries the same number as the birth
// published on it. A subscriber that holds the birth with bdseq N ignores a
// lost with any other number: that is the death of an older connection,
// arriving late.
type State struct {
	Header
	Node  string    `json:"node"`
	State NodeState `json:"state"`
	BDSeq uint64    `json:"bdseq"`
}

// Capabilities is the retained payload of nodes/<node>/capabilities: the
// node's signed capability document with the time it was published. The
// signature covers the document, not ts (capability.Document.Verify).
type Capabilities struct {
	capability.Document
	TS string `json:"ts"`
}

// Readings is the payload of nodes/<node>/readings.
type Readings struct {
	Header
	Node     string    `json:"node"`
	Readings []Reading `json:"readings"`
	Sig      string    `json:"sig"` // base64 Ed25519 by the node (SignReadings)
}

// Reading is one sensor's value.
type Reading struct {
	Sensor string  `json:"sensor"`
	Kind   string  `json:"kind"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
}

// Entry types of a decision, as the contract names them.
const (
	EntryAssign    = "assign"
	EntryReassign  = "reassign"
	EntryEject     = "eject"
	EntryAdmit     = "admit"
	EntryRetire    = "retire"
	EntryAdvertise = "advertise"
)

// Decision is the payload of nodes/<node>/decisions: one height the node
// committed, with the certificate that decided it. Node is the publisher;
// every honest node publishes the same height, entries and block.
type Decision struct {
	Header
	Node        string          `json:"node"`
	Height      uint64          `json:"height"`
	Round       int32           `json:"round"`
	Entries     []DecisionEntry `json:"entries"`
	Certificate Certificate     `json:"certificate"`
}

// DecisionEntry is one decided entry, flattened for subscribers. Type says
// which fields are set: assign and reassign carry action, instance,
// request_id and performer; eject node and reason; admit node, key and
// operator; advertise node and seq.
type DecisionEntry struct {
	Type      string `json:"type"`
	Action    string `json:"action,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Performer string `json:"performer,omitempty"`
	Node      string `json:"node,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Key       string `json:"key,omitempty"`
	Operator  string `json:"operator,omitempty"`
	Seq       uint64 `json:"seq,omitempty"`
}

// Certificate is a commit certificate: precommits of 2f+1 validators for
// Block (hex SHA-256 of the block, consensus.Block.Hash) in Round. With the
// validators' public keys anyone can check each vote over consensus's
// precommit sign bytes.
type Certificate struct {
	Round int32  `json:"round"`
	Block string `json:"block"`
	Votes []Vote `json:"votes"`
}

// Vote is one precommit in a certificate.
type Vote struct {
	From string `json:"from"`
	Sig  string `json:"sig"` // base64
}

// CertificateOf converts a consensus commit's certificate.
func CertificateOf(c *consensus.Commit) Certificate {
	h := c.Block.Hash()
	cert := Certificate{Round: c.Round, Block: hex.EncodeToString(h[:]), Votes: make([]Vote, 0, len(c.Votes))}
	for _, v := range c.Votes {
		cert.Votes = append(cert.Votes, Vote{From: string(v.From), Sig: base64.StdEncoding.EncodeToString(v.Signature)})
	}
	return cert
}

// Outcome is the retained payload of outcomes/<action>/<instance>: what the
// performer did for one assigned action instance, signed with its node key
// (SignOutcome). Outcomes are published at least once; a subscriber
// deduplicates on (action, instance) (Dedup).
type Outcome struct {
	Header
	Action    string `json:"action"`
	Instance  string `json:"instance"`
	RequestID string `json:"request_id"`
	Performer string `json:"performer"`
	Height    uint64 `json:"height"` // the decided height of the assignment
	OK        bool   `json:"ok"`
	Error     string `json:"error"` // "" when OK
	Started   string `json:"started"`
	Finished  string `json:"finished"`
	// Readback is what the performer read back from the output after
	// driving it: "high" or "low" for a digital output, a decimal for a
	// duty cycle, "" when nothing could be read.
	Readback string `json:"readback"`
	Sig      string `json:"sig"`
}

// Observation is the payload of nodes/<node>/observations: what a witness
// input of Node saw of Performer's Output while the performer carried out
// an action instance, signed by the witness (SignObservation). Saw is the
// level the performer was to drive ("high" or "low") when the input saw
// the output at that level at least once in the window, "" when it never
// did; SeenAt and ClearedAt say when the input first saw it and when it
// saw it end. A witness publishes one observation per instance and
// performer, and stays silent when its input was not wired to anything
// (it never saw the output move).
type Observation struct {
	Header
	Node      string `json:"node"` // the witness
	Input     string `json:"input"`
	Action    string `json:"action"`
	Instance  string `json:"instance"`
	Performer string `json:"performer"`
	Output    string `json:"output"`
	Height    uint64 `json:"height"` // of the assignment watched
	Level     string `json:"level"`  // the level the performer was to drive
	Saw       string `json:"saw"`    // Level, or "" if the input never saw it
	SeenAt    string `json:"seen_at"`
	ClearedAt string `json:"cleared_at"`
	// WatchedFrom and WatchedUntil bound the time the input was sampled:
	// an outcome that started and finished inside them was watched whole.
	WatchedFrom  string `json:"watched_from"`
	WatchedUntil string `json:"watched_until"`
	Sig          string `json:"sig"`
}

// Ejection is the retained payload of ejections/<node>, published by every
// honest node once an eject entry is decided.
type Ejection struct {
	Header
	Node     string     `json:"node"`
	Height   uint64     `json:"height"` // where the eject entry was decided
	Reason   string     `json:"reason"`
	Evidence []Evidence `json:"evidence"`
}

// Evidence is one piece of proof behind an ejection.
type Evidence struct {
	// Type is what it proves: "equivocation", "unassigned-outcome", ...
	Type string `json:"type"`
	// Summary is one human line (consensus.Evidence.String()).
	Summary string `json:"summary"`
	// Data is the self-proving evidence, base64 (consensus.Evidence.Marshal
	// for an equivocation).
	Data string `json:"data"`
}

// Request is the payload of requests/<action>: an operator asks the
// cluster to carry out an action. See SignBytes for what the signature
// covers; Key and Sig are absent on an unsigned request. A signed request
// can be published again verbatim by anyone who saw it: the signature
// proves who asked, and the agent refuses an id it has already taken.
type Request struct {
	Header
	ID     string            `json:"id"`
	Action string            `json:"action"`
	Params map[string]string `json:"params"`
	Key    string            `json:"key,omitempty"` // operator's base64 Ed25519 public key
	Sig    string            `json:"sig,omitempty"`
}

// ErrorReport is the payload of errors: a request (or other inbound
// message) a node could not accept, and why.
type ErrorReport struct {
	Header
	RequestID string `json:"request_id,omitempty"` // when it could be read
	Node      string `json:"node"`
	Topic     string `json:"topic,omitempty"` // where the refused message came from
	Error     string `json:"error"`
}
