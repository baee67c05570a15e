package agreed

import (
	"fmt"
	"slices"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// The checks of assign, reassign and rearm entries. Each returns the keys
// that must be unique within a block: "instance/<id>" and "request/<id>"
// for the work, "trigger/<action>" for whatever moves a trigger, and
// "cooldown/<action>" for an action with a cooldown — every entry is judged
// against the state before the block, so two assignments of a cooled-down
// action in one block could not see each other.
//
// Cheap checks come first and signatures last, each verified once.

func (s *State) checkAssign(a *Assignment) ([]string, error) {
	act, err := s.action(a.Action)
	if err != nil {
		return nil, fmt.Errorf("assign: %w", err)
	}
	if a.Instance != InstanceID(s.cluster, a.RequestID) {
		return nil, fmt.Errorf("%w: assign: instance %q is not the one of request %q", ErrInvalid, a.Instance, a.RequestID)
	}
	if h, used := s.Requests[a.RequestID]; used {
		return nil, fmt.Errorf("%w: assign: request %q was already assigned at height %d", ErrInvalid, a.RequestID, h)
	}
	if _, used := s.Assigned[a.Instance]; used {
		return nil, fmt.Errorf("%w: assign: instance %s is already assigned", ErrInvalid, a.Instance)
	}
	keys := []string{"instance/" + a.Instance, "request/" + a.RequestID}
	if act.Cooldown > 0 {
		keys = append(keys, "cooldown/"+a.Action)
	}
	switch {
	case a.Request != nil && a.Trigger == nil:
		err = s.checkRequested(&act, a)
	case a.Request == nil && a.Trigger != nil:
		keys = append(keys, "trigger/"+a.Action)
		err = s.checkTriggered(&act, a)
	default:
		err = fmt.Errorf("%w: assign: carries neither or both of a request and trigger readings", ErrInvalid)
	}
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// checkRequested judges an assignment asked for by an operator's request.
func (s *State) checkRequested(act *config.Action, a *Assignment) error {
	req := a.Request
	if req.Action != a.Action || req.ID != a.RequestID {
		return fmt.Errorf("%w: assign: request %q for %s carried as %q for %s", ErrInvalid, req.ID, req.Action, a.RequestID, a.Action)
	}
	if _, err := driveDuration(act, req.Params); err != nil {
		return fmt.Errorf("assign: request %s: %w", req.ID, err)
	}
	ts, err := wire.ParseTime(req.TS)
	if err != nil {
		return fmt.Errorf("%w: assign: request %s: ts %q", ErrInvalid, req.ID, req.TS)
	}
	if now, ok := s.now(); ok && absDiff(now, ts) > s.rules.RequestTTL {
		return fmt.Errorf("%w: assign: request %s at %s is more than %v from the local clock", ErrInvalid, req.ID, req.TS, s.rules.RequestTTL)
	}
	if err := s.checkCooldown(act, a.Action, ts); err != nil {
		return err
	}
	if err := s.checkPerformer(a.Action, a.RequestID, a.Performer); err != nil {
		return err
	}
	if err := s.verifyRequest(req); err != nil {
		return fmt.Errorf("%w: assign: request %s: %v", ErrInvalid, req.ID, err)
	}
	return nil
}

// checkTriggered judges an assignment fired by an action's trigger.
func (s *State) checkTriggered(act *config.Action, a *Assignment) error {
	if !hasTrigger(act) {
		return fmt.Errorf("%w: assign: %s has no trigger", ErrInvalid, a.Action)
	}
	if s.Disarmed[a.Action] {
		return fmt.Errorf("%w: assign: the trigger of %s is not armed", ErrInvalid, a.Action)
	}
	if want := triggerRequestID(a.Action, a.Trigger); a.RequestID != want {
		return fmt.Errorf("%w: assign: request id %q, the readings make it %q", ErrInvalid, a.RequestID, want)
	}
	samples, err := s.screenAll(act.Trigger, a.Trigger)
	if err != nil {
		return fmt.Errorf("assign: %w", err)
	}
	value, at := summarize(samples)
	if !(value > *act.Trigger.Above) {
		return fmt.Errorf("%w: assign: median %g of %s is not above %g", ErrInvalid, value, act.Trigger.SensorKind, *act.Trigger.Above)
	}
	if err := s.checkCooldown(act, a.Action, at); err != nil {
		return err
	}
	if err := s.checkPerformer(a.Action, a.RequestID, a.Performer); err != nil {
		return err
	}
	if err := s.verifyAll(a.Trigger); err != nil {
		return fmt.Errorf("assign: %w", err)
	}
	return nil
}

// checkCooldown refuses work asked for at `at` within the action's
// cooldown of its last assignment.
func (s *State) checkCooldown(act *config.Action, action string, at time.Time) error {
	if act.Cooldown <= 0 {
		return nil
	}
	last, ok := s.LastRun[action]
	if !ok {
		return nil
	}
	lt, err := wire.ParseTime(last)
	if err != nil {
		return nil
	}
	if at.Before(lt.Add(act.Cooldown)) {
		return fmt.Errorf("%w: assign: %s last ran at %s, its cooldown is %v", ErrInvalid, action, last, act.Cooldown)
	}
	return nil
}

func (s *State) checkPerformer(action, requestID, performer string) error {
	want, err := s.performer(action, requestID, nil)
	if err != nil {
		return fmt.Errorf("assign: %w", err)
	}
	if performer != want {
		return fmt.Errorf("%w: assign: performer %q, agreed state picks %q", ErrInvalid, performer, want)
	}
	return nil
}

func (s *State) checkReassign(r *Reassignment) ([]string, error) {
	rec, ok := s.Assigned[r.Instance]
	if !ok {
		return nil, fmt.Errorf("%w: reassign: no instance %q", ErrInvalid, r.Instance)
	}
	act, err := s.action(rec.Action)
	if err != nil {
		return nil, fmt.Errorf("reassign: %w", err)
	}
	if r.Action != rec.Action || r.RequestID != rec.RequestID {
		return nil, fmt.Errorf("%w: reassign: instance %s is %s for request %s", ErrInvalid, r.Instance, rec.Action, rec.RequestID)
	}
	if r.From != rec.Performer {
		return nil, fmt.Errorf("%w: reassign: instance %s is with %s, not %s", ErrInvalid, r.Instance, rec.Performer, r.From)
	}
	seen, done := s.outcome(r.Instance)
	if seen && done {
		return nil, fmt.Errorf("%w: reassign: %s already reported instance %s done", ErrInvalid, r.From, r.Instance)
	}
	switch r.Reason {
	case ReasonPerformerEjected:
		if !s.IsEjected(r.From) {
			return nil, fmt.Errorf("%w: reassign: %s is not ejected", ErrInvalid, r.From)
		}
	case ReasonPerformerRetired:
		if !s.IsRetired(r.From) {
			return nil, fmt.Errorf("%w: reassign: %s is not retired", ErrInvalid, r.From)
		}
	case ReasonFailed:
		if !seen {
			return nil, fmt.Errorf("%w: reassign: no outcome of instance %s is known here", ErrInvalid, r.Instance)
		}
	case ReasonDeadline:
		if now, ok := s.now(); ok {
			due := s.appliedTime(r.Instance).Add(act.Deadline)
			if now.Before(due) {
				return nil, fmt.Errorf("%w: reassign: the deadline of instance %s is %v away", ErrInvalid, r.Instance, due.Sub(now))
			}
		}
	default:
		return nil, fmt.Errorf("%w: reassign: unknown reason %q", ErrInvalid, r.Reason)
	}
	want, err := s.performer(rec.Action, rec.RequestID, append(slices.Clone(rec.Tried), rec.Performer))
	if err != nil {
		return nil, fmt.Errorf("reassign: %w", err)
	}
	if r.Performer != want {
		return nil, fmt.Errorf("%w: reassign: performer %q, agreed state picks %q", ErrInvalid, r.Performer, want)
	}
	return []string{"instance/" + r.Instance}, nil
}

// appliedTime is when this node applied the latest assign or reassign of
// an instance; for one applied before a restart, when the rules were set.
func (s *State) appliedTime(instance string) time.Time {
	if t, ok := s.appliedAt[instance]; ok {
		return t
	}
	return s.since
}

func (s *State) checkRearm(r *Rearming) ([]string, error) {
	act, err := s.action(r.Action)
	if err != nil {
		return nil, fmt.Errorf("rearm: %w", err)
	}
	if !hasTrigger(&act) {
		return nil, fmt.Errorf("%w: rearm: %s has no trigger", ErrInvalid, r.Action)
	}
	if !s.Disarmed[r.Action] {
		return nil, fmt.Errorf("%w: rearm: the trigger of %s is armed", ErrInvalid, r.Action)
	}
	samples, err := s.screenAll(act.Trigger, r.Readings)
	if err != nil {
		return nil, fmt.Errorf("rearm: %w", err)
	}
	value, _ := summarize(samples)
	if b := below(act.Trigger); !(value < b) {
		return nil, fmt.Errorf("%w: rearm: median %g of %s is not below %g", ErrInvalid, value, act.Trigger.SensorKind, b)
	}
	if err := s.verifyAll(r.Readings); err != nil {
		return nil, fmt.Errorf("rearm: %w", err)
	}
	return []string{"trigger/" + r.Action}, nil
}
