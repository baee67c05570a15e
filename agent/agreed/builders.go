package agreed

import (
	"fmt"
	"slices"
	"strings"

	"github.com/seed44533760/pact/agent/wire"
)

// Builders: the entries a node puts in the cluster's pending list. Each
// fills in what agreed state decides — the instance, the performer — and
// returns the entry only if Validate would accept it now, at the current
// state and by the local clock; otherwise the reason it would not. Entries
// built by two nodes at the same height from the same input are the same
// bytes, so the consensus core keeps one of them.

// AssignRequest builds the assignment of an operator's request. req is kept
// in the entry: the caller must not modify it afterwards.
func (s *State) AssignRequest(req *wire.Request) (*Entry, error) {
	if req == nil {
		return nil, fmt.Errorf("%w: no request", ErrInvalid)
	}
	if _, err := s.action(req.Action); err != nil {
		return nil, err
	}
	performer, err := s.performer(req.Action, req.ID, nil)
	if err != nil {
		return nil, err
	}
	return s.built(&Entry{Type: TypeAssign, Assign: &Assignment{
		Action:    req.Action,
		Instance:  InstanceID(s.cluster, req.ID),
		RequestID: req.ID,
		Performer: performer,
		Request:   req,
	}})
}

// AssignTrigger builds the assignment an action's trigger calls for, from
// the readings TriggerCheck used (in any order).
func (s *State) AssignTrigger(action string, readings []*wire.Readings) (*Entry, error) {
	if _, err := s.action(action); err != nil {
		return nil, err
	}
	readings = byNode(readings)
	id := triggerRequestID(action, readings)
	performer, err := s.performer(action, id, nil)
	if err != nil {
		return nil, err
	}
	return s.built(&Entry{Type: TypeAssign, Assign: &Assignment{
		Action:    action,
		Instance:  InstanceID(s.cluster, id),
		RequestID: id,
		Performer: performer,
		Trigger:   readings,
	}})
}

// RearmTrigger builds the re-arming of an action's trigger from the
// readings TriggerCheck used (in any order).
func (s *State) RearmTrigger(action string, readings []*wire.Readings) (*Entry, error) {
	return s.built(&Entry{Type: TypeRearm, Rearm: &Rearming{Action: action, Readings: byNode(readings)}})
}

// ReassignInstance builds the move of an open instance to the next eligible
// node for reason (ReasonDeadline, ReasonFailed, ReasonPerformerEjected,
// ReasonPerformerRetired).
func (s *State) ReassignInstance(instance, reason string) (*Entry, error) {
	rec, ok := s.Assigned[instance]
	if !ok {
		return nil, fmt.Errorf("%w: no instance %q", ErrInvalid, instance)
	}
	performer, err := s.performer(rec.Action, rec.RequestID, append(slices.Clone(rec.Tried), rec.Performer))
	if err != nil {
		return nil, err
	}
	return s.built(&Entry{Type: TypeReassign, Reassign: &Reassignment{
		Action:    rec.Action,
		Instance:  instance,
		RequestID: rec.RequestID,
		From:      rec.Performer,
		Performer: performer,
		Reason:    reason,
	}})
}

// built returns e if it is valid now, as its encoding will be judged.
func (s *State) built(e *Entry) (*Entry, error) {
	raw := e.Encode()
	if _, err := s.CheckEntry(raw); err != nil {
		return nil, err
	}
	return e, nil
}

// byNode is a copy of readings in the order of the node names.
func byNode(readings []*wire.Readings) []*wire.Readings {
	out := slices.Clone(readings)
	slices.SortStableFunc(out, func(a, b *wire.Readings) int {
		switch { // nil is refused by the check; first, to keep the order total
		case a == nil && b == nil:
			return 0
		case a == nil:
			return -1
		case b == nil:
			return 1
		}
		return strings.Compare(a.Node, b.Node)
	})
	return out
}
