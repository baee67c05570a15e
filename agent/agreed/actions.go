package agreed

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// Assignment gives one action instance to one performer. It carries what
// asked for the work — an operator's signed request, verbatim, or the
// signed readings that fired the action's trigger — so that every
// validator can check it, and the performer is the one agreed state picks
// (State.Eligible), not the proposer's choice.
type Assignment struct {
	Action    string `json:"action"`
	Instance  string `json:"instance"` // InstanceID(cluster, RequestID)
	RequestID string `json:"request_id"`
	Performer string `json:"performer"`
	// Request is an operator's request, verbatim and signed.
	Request *wire.Request `json:"request,omitempty"`
	// Trigger, instead of Request: the signed readings, one per node in
	// the order of the node names, whose median fired the trigger.
	Trigger []*wire.Readings `json:"trigger,omitempty"`
}

// Reassignment moves an open instance from its performer to the next
// eligible node.
type Reassignment struct {
	Action    string `json:"action"`
	Instance  string `json:"instance"`
	RequestID string `json:"request_id"`
	From      string `json:"from"`      // the performer it is taken from
	Performer string `json:"performer"` // the new one
	Reason    string `json:"reason"`    // ReasonDeadline, ReasonFailed, ReasonPerformerEjected or ReasonPerformerRetired
}

// Reasons for a reassignment.
const (
	// ReasonDeadline: no outcome arrived within the action's deadline.
	ReasonDeadline = "deadline"
	// ReasonFailed: the performer published an outcome with ok false.
	ReasonFailed = "failed"
	// ReasonPerformerEjected: the performer was ejected since.
	ReasonPerformerEjected = "performer-ejected"
	// ReasonPerformerRetired: an operator retired the performer since.
	ReasonPerformerRetired = "performer-retired"
)

// Rearming re-arms an action's trigger: at least a quorum of signed
// readings, one per node in the order of the node names, whose median is
// below the trigger's below.
type Rearming struct {
	Action   string           `json:"action"`
	Readings []*wire.Readings `json:"readings"`
}

// Assigned is the agreed record of an assigned action instance, open or
// finished (agreed state does not learn outcomes). The performer uses
// Height as its fencing token.
type Assigned struct {
	Action    string `json:"action"`
	Instance  string `json:"instance"`
	RequestID string `json:"request_id"`
	Performer string `json:"performer"`
	// Height is the decided height of the latest assign or reassign.
	Height uint64 `json:"height"`
	// Tried lists the earlier performers, oldest first.
	Tried []string `json:"tried"`
	// Params are the request's params ({} for a trigger).
	Params map[string]string `json:"params"`
	// Duration is how long Level is held: the request's duration param,
	// else the param's default, else the action's drive duration.
	Duration time.Duration `json:"duration"`
	Level    config.Level  `json:"level"`
	// Output is the performer's output the action drives: the first in
	// its committed document that matches the action's needs.
	Output string `json:"output"`
	// At is the agreed time of the work: the request's ts, or the median
	// ts of the trigger readings. Cooldowns count from it.
	At        string `json:"at"`
	Triggered bool   `json:"triggered"`
}

// Bounds on the agreed memory of actions. Past them the records of the
// lowest heights are dropped (several at once, so that the sorting is
// rare). A request whose id has been dropped is still refused by every
// honest validator's RequestTTL check, as long as fewer than MaxRequests
// requests are decided within one RequestTTL.
const (
	MaxAssigned = 4096
	MaxRequests = 16384
)

// InstanceID names the action instance of a request: "i-" and the first 16
// hex digits of SHA-256(cluster "\n" requestID). It is a valid MQTT topic
// level and request id (wire.ValidID).
func InstanceID(cluster, requestID string) string {
	h := sha256.Sum256([]byte(cluster + "\n" + requestID))
	return "i-" + hex.EncodeToString(h[:8])
}

// Assignment returns a copy of the record of an instance. Its Params and
// Tried are shared and must not be modified (appending to Tried is fine:
// it has no spare capacity).
func (s *State) Assignment(instance string) (*Assigned, bool) {
	a, ok := s.Assigned[instance]
	if !ok {
		return nil, false
	}
	return a.copy(), true
}

func (a *Assigned) copy() *Assigned {
	c := *a
	c.Tried = slices.Clip(c.Tried)
	return &c
}

// Assignments lists copies of every recorded instance, sorted by Height,
// then Instance: what the agent scans for deadlines. As with Assignment,
// Params and Tried are shared and must not be modified.
func (s *State) Assignments() []*Assigned {
	out := make([]*Assigned, 0, len(s.Assigned))
	for _, a := range s.Assigned {
		out = append(out, a.copy())
	}
	slices.SortFunc(out, byHeight)
	return out
}

func byHeight(a, b *Assigned) int {
	return cmp.Or(cmp.Compare(a.Height, b.Height), strings.Compare(a.Instance, b.Instance))
}

// Armed reports whether an action's trigger is armed: true for an action
// with a trigger until it fires, and again once it is re-armed; false for
// an action without one.
func (s *State) Armed(action string) bool {
	a, err := s.action(action)
	return err == nil && hasTrigger(&a) && !s.Disarmed[action]
}

func hasTrigger(a *config.Action) bool { return a.Trigger != nil && a.Trigger.Above != nil }

// Eligible lists the nodes that could perform action now, best first,
// leaving out exclude: validators that are not ejected, whose committed
// capability document offers an output matching the action's needs and
// sits in its zone (when it names one). The least recently assigned come
// first (never assigned before any); ties go by SHA-256(requestID "\n"
// node), ascending, so that they spread over the nodes by request.
func (s *State) Eligible(action, requestID string, exclude []string) []string {
	a, err := s.action(action)
	if err != nil {
		return nil
	}
	type candidate struct {
		name string
		last uint64
		tie  [32]byte
	}
	var cs []candidate
	for name := range s.Validators {
		if s.IsEjected(name) || slices.Contains(exclude, name) {
			continue
		}
		if _, ok := s.outputFor(name, &a.Needs); !ok {
			continue
		}
		cs = append(cs, candidate{name, s.lastAssigned(name), sha256.Sum256([]byte(requestID + "\n" + name))})
	}
	slices.SortFunc(cs, func(x, y candidate) int {
		return cmp.Or(cmp.Compare(x.last, y.last), bytes.Compare(x.tie[:], y.tie[:]), strings.Compare(x.name, y.name))
	})
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.name
	}
	return out
}

// outputFor returns the output of node's committed document that an action
// with needs n drives: the first, in document order, that matches.
func (s *State) outputFor(node string, n *config.Needs) (string, bool) {
	d := s.Capabilities[node]
	if d == nil || (n.Zone != "" && d.Zone != n.Zone) {
		return "", false
	}
	for _, o := range d.Outputs {
		if (n.Output == "" || o.Name == n.Output) && (n.OutputKind == "" || o.Kind == string(n.OutputKind)) {
			return o.Name, true
		}
	}
	return "", false
}

// performer is the node agreed state picks for a new assignment.
func (s *State) performer(action, requestID string, exclude []string) (string, error) {
	e := s.Eligible(action, requestID, exclude)
	if len(e) == 0 {
		return "", fmt.Errorf("%w: no eligible node for %s", ErrInvalid, action)
	}
	return e[0], nil
}

// driveDuration checks a request's params against the action's and returns
// how long the output is to be driven: the "duration" param, else that
// param's default, else the action's drive duration. It must leave the
// performer time before the deadline.
func driveDuration(a *config.Action, params map[string]string) (time.Duration, error) {
	d := a.Drive.Duration
	if p, ok := a.Params["duration"]; ok && p.Default > 0 {
		d = p.Default
	}
	for _, name := range sortedKeys(params) {
		p, ok := a.Params[name]
		if !ok {
			return 0, fmt.Errorf("%w: param %q is not one the action takes", ErrInvalid, name)
		}
		v, err := time.ParseDuration(params[name])
		if err != nil {
			return 0, fmt.Errorf("%w: param %s: %q is not a duration", ErrInvalid, name, params[name])
		}
		if v < 0 || v < p.Min || (p.Max > 0 && v > p.Max) {
			return 0, fmt.Errorf("%w: param %s: %v is outside [%v, %v]", ErrInvalid, name, v, p.Min, maxText(p.Max))
		}
		if name == "duration" {
			if v == 0 {
				return 0, fmt.Errorf("%w: param duration: zero", ErrInvalid)
			}
			d = v
		}
	}
	if d >= a.Deadline {
		return 0, fmt.Errorf("%w: drive duration %v leaves no time before the deadline %v", ErrInvalid, d, a.Deadline)
	}
	return d, nil
}

func maxText(d time.Duration) string {
	if d == 0 {
		return "∞"
	}
	return d.String()
}
