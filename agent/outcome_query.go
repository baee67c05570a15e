package agent

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// kindOutcomeQuery frames ask a performer for its outcome of one instance
// (outcomes.go). The query is not signed: it asks for a signed, public
// payload, which goes back to the member the query names — if that is not
// who asked, it learns of work it was following anyway.
const kindOutcomeQuery transport.Kind = 11

type outcomeQuery struct {
	From     string `json:"from"`
	Instance string `json:"instance"`
}

// maxOutcomeQuery bounds a query frame's payload.
const maxOutcomeQuery = 512

// outcomeQueryVetter names the asker for the transport's rate limit;
// queries from members that are not validators are dropped there.
type outcomeQueryVetter struct{}

func (outcomeQueryVetter) Sender(p []byte) (string, error) {
	q, err := decodeOutcomeQuery(p)
	if err != nil {
		return "", err
	}
	return q.From, nil
}

func (outcomeQueryVetter) Verify(from string, _ consensus.PublicKey, known bool, _ []byte) error {
	if !known {
		return fmt.Errorf("%w: outcome query from %s, who is not a validator", transport.ErrMalformed, from)
	}
	return nil
}

func decodeOutcomeQuery(p []byte) (*outcomeQuery, error) {
	var q outcomeQuery
	if len(p) > maxOutcomeQuery || wire.Unmarshal(p, &q) != nil || q.From == "" || q.Instance == "" {
		return nil, fmt.Errorf("%w: outcome query", transport.ErrMalformed)
	}
	return &q, nil
}

// askOutcome asks performer for its outcome of instance; loop goroutine.
func (a *Agent) askOutcome(performer, instance string) {
	b, err := json.Marshal(outcomeQuery{From: a.name, Instance: instance})
	if err != nil {
		return
	}
	a.counters.outcomeQueries++
	a.log.Info("no outcome by the deadline; asking the performer", "instance", instance, "performer", performer)
	a.net.SendFrame(performer, kindOutcomeQuery, b, true)
}

// answerOutcomeQuery sends the asker this node's recorded outcome of the
// instance, when it is the instance's performer and finished it; loop
// goroutine.
func (a *Agent) answerOutcomeQuery(payload []byte) {
	q, err := decodeOutcomeQuery(payload)
	if err != nil {
		a.counters.refusedOutcomes++
		return
	}
	o := a.ownOutcome(q.Instance)
	if o == nil || a.silenced() {
		return
	}
	if b, err := json.Marshal(o); err == nil {
		a.counters.outcomeAnswers++
		a.net.SendFrame(q.From, kindOutcome, b, true)
	}
}

// ownOutcome is this node's outcome of its current assignment of instance:
// the one in memory, or the one its store recorded before a restart; nil
// when it has none.
func (a *Agent) ownOutcome(instance string) *wire.Outcome {
	as, ok := a.state.Assignment(instance)
	if !ok || as.Performer != a.name {
		return nil
	}
	if o := a.known[instance]; o != nil && o.Performer == a.name && o.Height == as.Height {
		return o
	}
	ex, err := a.store.Execution(instance)
	if err != nil || ex == nil || !ex.Done {
		return nil
	}
	o, err := wire.DecodeOutcome(ex.Outcome)
	if err != nil || o.Performer != a.name || o.Height != as.Height {
		return nil
	}
	a.rememberOutcome(o) // judged when it was made; known again, so this node votes against rerunning it
	return o
}

// resendWithin bounds how old an outcome a restarted performer hands the
// broker again.
const resendWithin = 2 * time.Minute

// resendOutcomes hands the broker again the outcomes this node recorded in
// the last minutes for assignments still its own: the last run may have
// been killed before they reached its outbox (subscribers keep the first of
// an instance, so a second copy is harmless). Peers ask for what they
// missed (askOutcome); at start there is nobody to tell yet. Loop
// goroutine, at start.
func (a *Agent) resendOutcomes() {
	for _, as := range a.state.Assignments() {
		if as.Performer != a.name {
			continue
		}
		o := a.ownOutcome(as.Instance)
		if o == nil || a.silenced() || !a.finalOutcome(o) {
			continue
		}
		if t, err := time.Parse(wire.TimeLayout, o.Finished); err != nil || time.Since(t) > resendWithin {
			continue
		}
		if err := a.reports.PublishOutcome(o); err != nil {
			a.counters.reportErrors++
		}
	}
}

// answerStaleReassign answers a peer that asks to reassign work this node
// knows was done — a peer that restarted, or was cut off when the outcome
// went round — with the outcome, so that it stops asking; at most once per
// instance every few seconds. Loop goroutine.
func (a *Agent) answerStaleReassign(from string, entry consensus.Entry) {
	e, err := agreed.Decode(entry)
	if err != nil || e.Type != agreed.TypeReassign || from == a.name {
		return
	}
	o := a.known[e.Reassign.Instance]
	if o == nil || !o.OK || a.silenced() {
		return
	}
	now := time.Now()
	if t, ok := a.staleAnswered[o.Instance]; ok && now.Sub(t) < staleAnswerEvery {
		return
	}
	if a.staleAnswered == nil || len(a.staleAnswered) >= maxKnownOutcomes {
		a.staleAnswered = map[string]time.Time{}
	}
	a.staleAnswered[o.Instance] = now
	if b, err := json.Marshal(o); err == nil {
		a.counters.outcomeAnswers++
		a.net.SendFrame(from, kindOutcome, b, true)
	}
}

// staleAnswerEvery spaces the answers to one instance's stale reassigns.
const staleAnswerEvery = 5 * time.Second
