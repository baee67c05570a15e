package agreed

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/seed44533760/pact/agent/wire"
)

// Applying assign, reassign and rearm entries. The entries were validated
// against the state before their block; what is checked again here is only
// what an earlier entry of the same block may have changed (an ejection,
// a new document), deterministically. An entry that no longer applies is
// skipped whole: a request skipped this way can be assigned again later.
// The local clock only notes when the work started here (appliedAt), for
// this node's own deadline checks.

func (s *State) applyAssign(height uint64, a *Assignment) {
	act, err := s.action(a.Action)
	if err != nil {
		return
	}
	if _, used := s.Requests[a.RequestID]; used {
		return
	}
	if _, used := s.Assigned[a.Instance]; used {
		return
	}
	output, ok := s.performerOutput(a.Performer, a.Action)
	if !ok {
		return
	}
	rec := &Assigned{
		Action:    a.Action,
		Instance:  a.Instance,
		RequestID: a.RequestID,
		Performer: a.Performer,
		Height:    height,
		Tried:     []string{},
		Params:    map[string]string{},
		Level:     act.Drive.Level,
		Output:    output,
	}
	switch {
	case a.Request != nil:
		maps.Copy(rec.Params, a.Request.Params)
		rec.At = a.Request.TS
	case hasTrigger(&act) && !s.Disarmed[a.Action]:
		if rec.At, err = triggerAt(a.Trigger); err != nil {
			return
		}
		rec.Triggered = true
	default:
		return
	}
	if rec.Duration, err = driveDuration(&act, rec.Params); err != nil {
		return
	}

	s.Assigned[a.Instance] = rec
	s.Requests[a.RequestID] = height
	s.LastAssigned[a.Performer] = height
	if later(rec.At, s.LastRun[a.Action]) {
		s.LastRun[a.Action] = rec.At
	}
	if rec.Triggered {
		s.Disarmed[a.Action] = true
		s.useReadings(a.Trigger)
	}
	s.noteApplied(a.Instance)
}

func (s *State) applyReassign(height uint64, r *Reassignment) {
	rec, ok := s.Assigned[r.Instance]
	if !ok || rec.Performer != r.From || rec.Action != r.Action || rec.RequestID != r.RequestID {
		return
	}
	output, ok := s.performerOutput(r.Performer, r.Action)
	if !ok || r.Performer == r.From || slices.Contains(rec.Tried, r.Performer) {
		return
	}
	// A new slice with no room to spare: copies handed out by Assignment
	// share it, and an append to theirs must not write into it.
	rec.Tried = slices.Clip(append(slices.Clip(rec.Tried), r.From))
	rec.Performer, rec.Output, rec.Height = r.Performer, output, height
	s.LastAssigned[r.Performer] = height
	s.noteApplied(r.Instance)
}

func (s *State) applyRearm(r *Rearming) {
	act, err := s.action(r.Action)
	if err != nil || !hasTrigger(&act) || !s.Disarmed[r.Action] {
		return
	}
	delete(s.Disarmed, r.Action)
	s.useReadings(r.Readings)
}

// performerOutput is the output a performer drives for action, if it can
// still perform it: a validator, not ejected, whose committed document
// matches the action's needs.
func (s *State) performerOutput(node, action string) (string, bool) {
	act, err := s.action(action)
	if err != nil {
		return "", false
	}
	if _, ok := s.Validators[node]; !ok || s.IsEjected(node) {
		return "", false
	}
	return s.outputFor(node, &act.Needs)
}

// useReadings records the newest readings ts of each node, so they are
// never used again.
func (s *State) useReadings(rs []*wire.Readings) {
	for _, r := range rs {
		if later(r.TS, s.ReadingsUsed[r.Node]) {
			s.ReadingsUsed[r.Node] = r.TS
		}
	}
}

// later reports whether payload time a is after b ("" or unreadable b is
// the beginning of time; an unreadable a is never later).
func later(a, b string) bool {
	at, err := wire.ParseTime(a)
	if err != nil {
		return false
	}
	bt, err := wire.ParseTime(b)
	return err != nil || at.After(bt)
}

func (s *State) noteApplied(instance string) {
	if now, ok := s.now(); ok {
		s.appliedAt[instance] = now
	}
}

// prune keeps the action records within MaxAssigned and MaxRequests,
// dropping the lowest heights first — an eighth of the limit at a time, so
// that the sorting happens once in many blocks.
func (s *State) prune() {
	if len(s.Assigned) > MaxAssigned {
		recs := slices.SortedFunc(maps.Values(s.Assigned), byHeight)
		for _, a := range recs[:len(recs)-(MaxAssigned-MaxAssigned/8)] {
			delete(s.Assigned, a.Instance)
			delete(s.appliedAt, a.Instance)
			s.Forgotten = max(s.Forgotten, a.Height)
		}
	}
	if len(s.Requests) > MaxRequests {
		ids := slices.SortedFunc(maps.Keys(s.Requests), func(a, b string) int {
			return cmp.Or(cmp.Compare(s.Requests[a], s.Requests[b]), strings.Compare(a, b))
		})
		for _, id := range ids[:len(ids)-(MaxRequests-MaxRequests/8)] {
			delete(s.Requests, id)
		}
	}
}
