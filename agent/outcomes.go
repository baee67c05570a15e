package agent

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/agent/wire"
)

// Outcomes and reassignment
//
// A performer's signed outcome goes to the broker and, as a kindOutcome
// frame, to every peer: the cluster learns that the work is done without
// a log entry per outcome. Each node follows the assignments decided while
// it runs; one with no valid outcome by the action's deadline, a failed
// outcome, or an ejected performer gets a reassign entry from whoever
// notices — validators check the same facts against their own view before
// they vote for it.
//
// A frame can be lost: the performer may be killed between recording its
// outcome and sending it, or a peer may be down when it goes out. So a node
// that reaches an action's deadline without an outcome first asks the
// performer (kindOutcomeQuery), which answers with the outcome its store
// recorded, and proposes the reassignment only when the grace that follows
// passes without one: work that was done is not done again because its
// report went missing. A restarted performer hands the broker again the
// outcomes it recorded in the last minutes (resendOutcomes); a restarted
// node follows the recent assignments again (reopenAssignments), and one
// that proposes a reassign for a failure passes the failed outcome on to
// validators that may have missed it.

// kindOutcome frames carry a performer's signed outcome (its JSON payload).
const kindOutcome transport.Kind = 7

// reassignTicks is how often the open assignments are checked.
const reassignTicks = 10

// deadlineGrace is how long after an action's deadline a node proposes its
// reassignment: validators judge the deadline by their own clocks, from
// when they applied the assignment, and one that applied it a little later
// than the proposer would otherwise refuse the block.
func deadlineGrace(deadline time.Duration) time.Duration {
	return max(time.Second, deadline/10)
}

// maxKnownOutcomes bounds the outcomes a node remembers.
const maxKnownOutcomes = 8192

// openAssignment starts (or restarts, after a reassign) the local deadline
// of an assignment; loop goroutine.
func (a *Agent) openAssignment(as *agreed.Assigned) {
	a.open[as.Instance] = openInfo{height: as.Height, since: time.Now()}
}

type openInfo struct {
	height uint64
	since  time.Time
	gaveUp bool
	asked  bool // the performer was asked for its outcome
}

// recordOutcome remembers a verified outcome and judges it; loop goroutine.
func (a *Agent) recordOutcome(o *wire.Outcome) {
	a.rememberOutcome(o)
	a.checkWitness(o.Instance)
	a.effectOutcome(o)
	if o.OK {
		a.counters.outcomesOK++
	} else {
		a.counters.outcomesFailed++
	}
}

// rememberOutcome keeps o among the known outcomes, within their bound.
func (a *Agent) rememberOutcome(o *wire.Outcome) {
	if _, ok := a.known[o.Instance]; !ok {
		a.knownOrder = append(a.knownOrder, o.Instance)
		if len(a.knownOrder) > maxKnownOutcomes {
			delete(a.known, a.knownOrder[0])
			a.knownOrder = a.knownOrder[1:]
		}
	}
	a.known[o.Instance] = o
}

// outcomeOf is agreed.Rules.Outcome: what this node knows of the instance's
// current performer's outcome.
func (a *Agent) outcomeOf(instance string) (seen, ok bool) {
	o := a.known[instance]
	as, found := a.state.Assignment(instance)
	if o == nil || !found || o.Performer != as.Performer || o.Height != as.Height {
		return false, false
	}
	return true, o.OK
}

// performedOutcome takes an outcome from this node's workers: peers always
// hear of it (a failure is what lets them reassign at once); the broker
// only when it is the instance's last word. Subscribers keep the first
// outcome of an (action, instance), so a failure that the cluster will
// retry elsewhere must not reach them, nor one of an assignment that has
// moved on.
func (a *Agent) performedOutcome(o *wire.Outcome) {
	a.counters.performed++
	a.metrics.performedOutcome(o)
	a.recordOutcome(o)
	if a.silenced() {
		return
	}
	if b, err := json.Marshal(o); err == nil {
		a.net.SendFrame("", kindOutcome, b, true)
	}
	if !a.finalOutcome(o) {
		a.log.Info("failed outcome kept off the broker: the cluster retries elsewhere", "instance", o.Instance)
		return
	}
	if err := a.reports.PublishOutcome(o); err != nil {
		a.counters.reportErrors++
		a.log.Error("cannot queue outcome for the broker", "instance", o.Instance, "err", err)
	}
}

// finalOutcome reports whether o ends its instance: a success, or a
// failure with no other node left to try.
func (a *Agent) finalOutcome(o *wire.Outcome) bool {
	if o.OK {
		return true
	}
	as, ok := a.state.Assignment(o.Instance)
	if !ok {
		return true
	}
	if as.Performer != o.Performer || as.Height != o.Height {
		return false
	}
	return len(a.state.Eligible(as.Action, as.RequestID, append(as.Tried, as.Performer))) == 0
}

// takeOutcome handles a peer's outcome (verified by the transport).
func (a *Agent) takeOutcome(from string, payload []byte) {
	o, err := wire.DecodeOutcome(payload)
	if err != nil || o.Performer != from {
		a.counters.refusedOutcomes++
		return
	}
	a.checkOutcomeEvidence(o)
	as, ok := a.state.Assignment(o.Instance)
	if !ok || as.Performer != o.Performer && !contains(as.Tried, o.Performer) {
		a.counters.refusedOutcomes++ // not (yet) assigned to its signer: kept out
		return
	}
	a.recordOutcome(o)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkDeadlines proposes a reassign for each open assignment that needs
// one; loop goroutine, every reassignTicks.
func (a *Agent) checkDeadlines() {
	instances := make([]string, 0, len(a.open))
	for inst := range a.open {
		instances = append(instances, inst)
	}
	sort.Strings(instances)
	for _, inst := range instances {
		info := a.open[inst]
		as, ok := a.state.Assignment(inst)
		if !ok {
			delete(a.open, inst)
			continue
		}
		if seen, done := a.outcomeOf(inst); seen && done {
			delete(a.open, inst)
			continue
		}
		if info.gaveUp {
			continue
		}
		act := a.cluster.Actions[as.Action]
		act.ApplyDefaults()
		reason := ""
		switch seen, _ := a.outcomeOf(inst); {
		case a.state.IsEjected(as.Performer):
			reason = agreed.ReasonPerformerEjected
		case a.state.IsRetired(as.Performer):
			reason = agreed.ReasonPerformerRetired
		case seen:
			reason = agreed.ReasonFailed
		case time.Since(info.since) >= act.Deadline+deadlineGrace(act.Deadline):
			reason = agreed.ReasonDeadline
		case time.Since(info.since) >= act.Deadline && !info.asked && as.Performer != a.name:
			info.asked = true
			a.open[inst] = info
			a.askOutcome(as.Performer, inst)
			continue
		default:
			continue
		}
		e, err := a.state.ReassignInstance(inst, reason)
		if err != nil {
			if len(a.state.Eligible(as.Action, as.RequestID, append(as.Tried, as.Performer))) == 0 {
				info.gaveUp = true
				a.open[inst] = info
				a.counters.abandoned++
				a.log.Error("action failed and no node is left to try it", "action", as.Action, "instance", inst, "tried", append(as.Tried, as.Performer))
				_ = a.reports.PublishError(as.RequestID, fmt.Sprintf("%s %s: %s by %s and no other node can perform it", as.Action, inst, reason, as.Performer))
			}
			continue
		}
		a.submit(e)
		if reason == agreed.ReasonFailed {
			// Validators judge a failure by the outcome they hold; one
			// that restarted, or joined late, may not have it: pass it on
			// (it is the performer's signed word, whoever carries it).
			a.forwardOutcome(inst)
		}
	}
}

// forwardOutcome sends every peer the known outcome of instance.
func (a *Agent) forwardOutcome(instance string) {
	o := a.known[instance]
	if o == nil || a.silenced() {
		return
	}
	if b, err := json.Marshal(o); err == nil {
		a.net.SendFrame("", kindOutcome, b, true)
	}
}

// reopenWindow is how long after an assignment's agreed time a restarted
// node still follows it, in deadlines of its action (at least a minute):
// past that, its performer has reported or others have reassigned it.
const reopenWindow = 4

// reopenAssignments follows again, after a restart, the assignments of
// other nodes that are recent enough to be still open: the deadlines and
// known outcomes were in the memory of the process that died. Their
// deadlines count from now; at the deadline the performer is asked for
// its outcome (outcome_query.go). Loop goroutine, at start.
func (a *Agent) reopenAssignments() {
	now := time.Now()
	for _, as := range a.state.Assignments() {
		if as.Performer == a.name {
			continue // resumeExecutions
		}
		at, err := wire.ParseTime(as.At)
		act := a.cluster.Actions[as.Action]
		act.ApplyDefaults()
		if err != nil || now.Sub(at) > max(time.Minute, reopenWindow*act.Deadline) {
			continue
		}
		a.openAssignment(as)
	}
}
