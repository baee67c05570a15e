package membership

import (
	"fmt"
	"time"
)

// State is what this node believes about a member's liveness. It is a hint
// from gossip and probes, never proof.
type State uint8

// Member states.
const (
	// StateAlive: the member answers probes, or gossip says it does.
	StateAlive State = iota + 1
	// StateSuspect: this node's own probes of the member failed and it has
	// not heard from the member since; unless it refutes in time, it will be
	// declared dead.
	StateSuspect
	// StateDead: the cluster declared the member failed.
	StateDead
	// StateLeft: the member announced its departure and left.
	StateLeft
)

var stateNames = [...]string{"unknown", "alive", "suspect", "dead", "left"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText gives the lower-case name, as `pact status --json` shows it.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reachable reports whether messages to a member in state s may arrive.
func (s State) Reachable() bool { return s == StateAlive || s == StateSuspect }

// Member is one node as this node sees it.
type Member struct {
	// Name is the node's name.
	Name string
	// Addr is the advertised "host:port" it is reached at.
	Addr string
	// State is its liveness as seen from here.
	State State
	// Meta is the meta it announced (without pact's header).
	Meta []byte
	// Since is when State last changed, by this node's clock.
	Since time.Time
}

// EventType says what changed about a member.
type EventType uint8

// Event types.
const (
	// EventJoin: a member appeared, or came back after dying or leaving.
	EventJoin EventType = iota + 1
	// EventUpdate: a member announced new meta.
	EventUpdate
	// EventSuspect: this node's probes of the member failed.
	EventSuspect
	// EventAlive: a suspected member answered a probe or refuted the
	// suspicion.
	EventAlive
	// EventDead: the member was declared failed.
	EventDead
	// EventLeft: the member left on purpose.
	EventLeft
	// EventHidden: the gate now refuses a member (RecheckGate); it is no
	// longer listed or sent to.
	EventHidden
)

var eventNames = [...]string{"unknown", "join", "update", "suspect", "alive", "dead", "left", "hidden"}

func (t EventType) String() string {
	if int(t) < len(eventNames) {
		return eventNames[t]
	}
	return fmt.Sprintf("event(%d)", uint8(t))
}

// Event is one membership change. Member is a copy, as it stands after the
// change.
type Event struct {
	Type   EventType
	Member Member
}
