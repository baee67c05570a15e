package wire

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/seed44533760/pact/agent/config"
)

// Root is the first level of every pact topic: pact/<cluster>/...
const Root = "pact"

// Kind names a topic of the contract (DESIGN.md §4, "MQTT topics").
type Kind string

// The topics of the contract, under pact/<cluster>/.
const (
	KindState        Kind = "state"        // nodes/<node>/state, retained; the will
	KindCapabilities Kind = "capabilities" // nodes/<node>/capabilities, retained
	KindReadings     Kind = "readings"     // nodes/<node>/readings
	KindObservations Kind = "observations" // nodes/<node>/observations (docs/CONTRACT.md)
	KindDecisions    Kind = "decisions"    // nodes/<node>/decisions, QoS 1
	KindOutcome      Kind = "outcomes"     // outcomes/<action>/<instance>, retained, QoS 1
	KindLastOutcome  Kind = "last"         // nodes/<node>/last/<action>, retained (docs/CONTRACT.md)
	KindEjection     Kind = "ejections"    // ejections/<node>, retained
	KindRequest      Kind = "requests"     // requests/<action>
	KindErrors       Kind = "errors"       // errors
)

// Retained reports whether messages of this kind are published retained,
// as the contract's table says.
func (k Kind) Retained() bool {
	switch k {
	case KindState, KindCapabilities, KindOutcome, KindLastOutcome, KindEjection:
		return true
	}
	return false
}

// Durable reports whether messages of this kind wait in the outbox until
// the broker has acknowledged them; the others are best-effort.
func (k Kind) Durable() bool {
	switch k {
	case KindDecisions, KindOutcome, KindLastOutcome, KindEjection:
		return true
	}
	return false
}

// Topics builds the topic names of one cluster. The zero value is not
// useful; build it with the cluster's name.
type Topics struct{ Cluster string }

func (t Topics) root() string { return Root + "/" + t.Cluster + "/" }

// State is nodes/<node>/state.
func (t Topics) State(node string) string { return t.root() + "nodes/" + node + "/state" }

// Capabilities is nodes/<node>/capabilities.
func (t Topics) Capabilities(node string) string {
	return t.root() + "nodes/" + node + "/capabilities"
}

// Readings is nodes/<node>/readings.
func (t Topics) Readings(node string) string { return t.root() + "nodes/" + node + "/readings" }

// Observations is nodes/<node>/observations: what the node's witness inputs
// saw of other nodes' outputs while they performed an action.
func (t Topics) Observations(node string) string {
	return t.root() + "nodes/" + node + "/observations"
}

// Decisions is nodes/<node>/decisions.
func (t Topics) Decisions(node string) string { return t.root() + "nodes/" + node + "/decisions" }

// Outcome is outcomes/<action>/<instance>.
func (t Topics) Outcome(action, instance string) string {
	return t.root() + "outcomes/" + action + "/" + instance
}

// LastOutcome is nodes/<node>/last/<action>: the last outcome the node
// published as the performer of action, retained, so that a subscriber
// that wants "the last one" (Home Assistant) has one topic to read instead
// of every retained outcomes/<action>/<instance>.
func (t Topics) LastOutcome(node, action string) string {
	return t.root() + "nodes/" + node + "/last/" + action
}

// Ejection is ejections/<node>.
func (t Topics) Ejection(node string) string { return t.root() + "ejections/" + node }

// Request is requests/<action>.
func (t Topics) Request(action string) string { return t.root() + "requests/" + action }

// Errors is errors.
func (t Topics) Errors() string { return t.root() + "errors" }

// Requests is the filter a node subscribes to for every action's requests.
func (t Topics) Requests() string { return t.root() + "requests/+" }

// All is the filter for everything the cluster publishes.
func (t Topics) All() string { return t.root() + "#" }

// Topic is a parsed topic name. Which of Node, Action and Instance are set
// depends on Kind.
type Topic struct {
	Cluster  string
	Kind     Kind
	Node     string // state, capabilities, readings, observations, decisions, last, ejections
	Action   string // outcomes, last, requests
	Instance string // outcomes
}

// String builds the topic name back.
func (p Topic) String() string {
	t := Topics{p.Cluster}
	switch p.Kind {
	case KindState:
		return t.State(p.Node)
	case KindCapabilities:
		return t.Capabilities(p.Node)
	case KindReadings:
		return t.Readings(p.Node)
	case KindObservations:
		return t.Observations(p.Node)
	case KindDecisions:
		return t.Decisions(p.Node)
	case KindOutcome:
		return t.Outcome(p.Action, p.Instance)
	case KindLastOutcome:
		return t.LastOutcome(p.Node, p.Action)
	case KindEjection:
		return t.Ejection(p.Node)
	case KindRequest:
		return t.Request(p.Action)
	case KindErrors:
		return t.Errors()
	}
	return ""
}

// ParseTopic splits a pact topic name into its parts. Names that are not
// exactly one of the contract's topics are ErrMalformed.
func ParseTopic(topic string) (Topic, error) {
	bad := func(why string) (Topic, error) {
		return Topic{}, fmt.Errorf("%w: topic %q: %s", ErrMalformed, topic, why)
	}
	l := strings.Split(topic, "/")
	if len(l) < 3 || l[0] != Root {
		return bad("not under " + Root + "/<cluster>/")
	}
	if !config.ValidName(l[1]) {
		return bad("the cluster level is not a valid name")
	}
	p := Topic{Cluster: l[1]}
	rest := l[2:]
	switch {
	case len(rest) == 3 && rest[0] == "nodes":
		switch Kind(rest[2]) {
		case KindState, KindCapabilities, KindReadings, KindObservations, KindDecisions:
			p.Kind, p.Node = Kind(rest[2]), rest[1]
		default:
			return bad("unknown node topic " + rest[2])
		}
	case len(rest) == 4 && rest[0] == "nodes" && rest[2] == string(KindLastOutcome):
		p.Kind, p.Node, p.Action = KindLastOutcome, rest[1], rest[3]
	case len(rest) == 3 && rest[0] == string(KindOutcome):
		p.Kind, p.Action, p.Instance = KindOutcome, rest[1], rest[2]
	case len(rest) == 2 && rest[0] == string(KindEjection):
		p.Kind, p.Node = KindEjection, rest[1]
	case len(rest) == 2 && rest[0] == string(KindRequest):
		p.Kind, p.Action = KindRequest, rest[1]
	case len(rest) == 1 && rest[0] == string(KindErrors):
		p.Kind = KindErrors
	default:
		return bad("not a topic of the contract")
	}
	if err := p.check(); err != nil {
		return bad(err.Error())
	}
	return p, nil
}

// idRE is the form of request ids and action instances: they are topic
// levels (outcomes/<action>/<instance>) and appear in logs, so they are kept
// to a safe alphabet — no '/', '+', '#', spaces or control characters.
var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// ValidID reports whether s may be a request id or an action instance.
func ValidID(s string) bool { return idRE.MatchString(s) }

// check validates the levels that are set.
func (p Topic) check() error {
	if p.Node != "" || p.Kind == KindState || p.Kind == KindCapabilities || p.Kind == KindReadings ||
		p.Kind == KindObservations || p.Kind == KindDecisions || p.Kind == KindLastOutcome || p.Kind == KindEjection {
		if !config.ValidName(p.Node) {
			return fmt.Errorf("node %q is not a valid name", p.Node)
		}
	}
	if p.Kind == KindOutcome || p.Kind == KindLastOutcome || p.Kind == KindRequest {
		if !config.ValidName(p.Action) {
			return fmt.Errorf("action %q is not a valid name", p.Action)
		}
	}
	if p.Kind == KindOutcome && !ValidID(p.Instance) {
		return fmt.Errorf("instance %q is not a valid id", p.Instance)
	}
	return nil
}
