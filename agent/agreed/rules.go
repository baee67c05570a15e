package agreed

import (
	"fmt"
	"time"

	"github.com/seed44533760/pact/agent/config"
)

// Defaults of Rules fields.
const (
	DefaultMaxReadingAge = 60 * time.Second
	DefaultRequestTTL    = 10 * time.Minute
)

// Rules bind the cluster file's action catalogue and this node's own
// checks to a State. Genesis and Restore leave a State without rules; the
// agent calls SetRules right after them. Until then assign, reassign and
// rearm entries are invalid and Apply skips them.
//
// Every node must hold the same catalogue (the same cluster file): Apply
// reads it to work out an assignment's drive, so two nodes with different
// catalogues would hold different states.
type Rules struct {
	// Actions is the catalogue, by action name. SetRules applies each
	// action's defaults to its own copy.
	Actions map[string]config.Action

	// AllowUnsigned accepts requests without an operator's signature (the
	// cluster file's allow_unsigned_requests).
	AllowUnsigned bool

	// Now is the local clock. It is used only for the checks that are this
	// validator's own judgement of a proposal — how old a signed reading or
	// request is, whether a deadline has passed — and to note when this
	// node applied an assignment, the start of its deadline. Apply never
	// decides anything by it. nil skips those checks: every reading and
	// request counts as fresh and every deadline as passed.
	Now func() time.Time

	// MaxReadingAge bounds how far a signed reading's ts may be from the
	// local clock, either way. Default DefaultMaxReadingAge.
	MaxReadingAge time.Duration

	// RequestTTL bounds how far a request's ts may be from the local clock,
	// either way. It is also what keeps a request id that has fallen out
	// of State.Requests (more than MaxRequests ids later) from being
	// replayed. Default DefaultRequestTTL.
	RequestTTL time.Duration

	// Outcome reports what this node knows of an instance's outcome: seen
	// is false when none has arrived, ok is the outcome's ok field. It must
	// report only outcomes whose signature by the instance's current
	// performer it has verified, and must not block. nil: nothing known.
	Outcome func(instance string) (seen, ok bool)
}

// SetRules binds r to the state. It may be called again (the catalogue of
// a reloaded cluster file must still be the same everywhere).
func (s *State) SetRules(r Rules) {
	actions := make(map[string]config.Action, len(r.Actions))
	for name, a := range r.Actions {
		a.ApplyDefaults()
		actions[name] = a
	}
	r.Actions = actions
	if r.MaxReadingAge <= 0 {
		r.MaxReadingAge = DefaultMaxReadingAge
	}
	if r.RequestTTL <= 0 {
		r.RequestTTL = DefaultRequestTTL
	}
	s.rules, s.hasRules = r, true
	if s.since.IsZero() && r.Now != nil {
		// Assignments restored from a snapshot were applied before this
		// process started; their deadlines run from now.
		s.since = r.Now()
	}
}

// now is the local clock, if there is one.
func (s *State) now() (time.Time, bool) {
	if s.rules.Now == nil {
		return time.Time{}, false
	}
	return s.rules.Now(), true
}

// outcome is what Rules.Outcome knows of an instance.
func (s *State) outcome(instance string) (seen, ok bool) {
	if s.rules.Outcome == nil {
		return false, false
	}
	return s.rules.Outcome(instance)
}

// action returns a catalogue entry, defaults applied.
func (s *State) action(name string) (config.Action, error) {
	if !s.hasRules {
		return config.Action{}, fmt.Errorf("%w: no action catalogue", ErrInvalid)
	}
	a, ok := s.rules.Actions[name]
	if !ok {
		return config.Action{}, fmt.Errorf("%w: %q is not in the action catalogue", ErrInvalid, name)
	}
	return a, nil
}

// absDiff is |a - b|, saturating.
func absDiff(a, b time.Time) time.Duration {
	d := a.Sub(b)
	if d < 0 {
		d = -d
	}
	if d < 0 { // the minimum duration has no positive twin
		d = time.Duration(1<<63 - 1)
	}
	return d
}
