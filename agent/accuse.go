package agent

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/agent/wire"
)

// Accusations
//
// What a node sees that is not self-proving — readings far from every
// peer's, a witness that saw no pin move under an ok outcome, a pin moved
// with no assignment — it states in a signed accusation (wire.Accusation)
// and sends to every peer. Each node keeps the newest accusation of each
// accuser against each node; when f+1 distinct validators accuse the same
// node, any of them proposes the eject entry that carries the accusations
// (agreed.ReasonAccused), and every validator checks the signatures.
// What is self-proving (an outcome signed for work never assigned, two
// different outcomes for one assignment) goes straight into an eject entry.

// kindAccusation frames carry a signed accusation (JSON).
const kindAccusation transport.Kind = 10

// reaccuseAfter is how long an accusation stands before its author makes
// it again (new height, new evidence) while the accused is still in.
const reaccuseAfter = 10 * time.Second

// accuse signs and sends an accusation; loop goroutine. An accusation of
// the same node for the same reason made less than reaccuseAfter ago is
// not repeated.
func (a *Agent) accuse(accused, reason, summary string, evidence any) {
	if a.silenced() || accused == a.name || a.state.IsEjected(accused) || !a.state.ValidatorSet().Has(consensusID(a.name)) {
		return
	}
	key := accused + "/" + reason
	if at, ok := a.accusedAt[key]; ok && time.Since(at) < reaccuseAfter {
		return
	}
	acc := &wire.Accusation{
		Header: wire.Header{TS: wire.Timestamp(time.Now())},
		Node:   a.name, Accused: accused, Reason: reason, Height: a.state.Height, Summary: summary,
	}
	if evidence != nil {
		b, err := json.Marshal(evidence)
		if err != nil {
			return
		}
		acc.Evidence = b
	}
	if err := wire.SignAccusation(a.cluster.Name, acc, a.key); err != nil {
		a.log.Error("cannot sign accusation", "err", err)
		return
	}
	a.accusedAt[key] = time.Now()
	a.counters.accusationsMade++
	a.log.Warn("accusing", "accused", accused, "reason", reason, "summary", summary)
	if b, err := json.Marshal(acc); err == nil {
		a.net.SendFrame("", kindAccusation, b, true)
	}
	a.keepAccusation(acc)
}

// takeAccusation handles a peer's accusation (verified by the transport).
func (a *Agent) takeAccusation(from string, payload []byte) {
	acc, err := wire.DecodeAccusation(payload)
	if err != nil || acc.Node != from {
		a.counters.refusedAccusations++
		return
	}
	a.counters.accusationsHeard++
	a.keepAccusation(acc)
}

// keepAccusation records acc and proposes the ejection once f+1 validators
// accuse the same node.
func (a *Agent) keepAccusation(acc *wire.Accusation) {
	if a.state.IsEjected(acc.Accused) {
		return
	}
	byAccuser := a.accusations[acc.Accused]
	if byAccuser == nil {
		byAccuser = map[string]*wire.Accusation{}
		a.accusations[acc.Accused] = byAccuser
	}
	if old := byAccuser[acc.Node]; old != nil && old.Height > acc.Height {
		return
	}
	byAccuser[acc.Node] = acc
	a.proposeAccusedEjection(acc.Accused)
}

// proposeAccusedEjection submits the eject entry for node if the
// accusations this node holds make one valid now.
func (a *Agent) proposeAccusedEjection(node string) {
	var usable []*wire.Accusation
	for _, acc := range a.accusations[node] {
		if a.state.ValidatorSet().Has(consensusID(acc.Node)) && acc.Height+agreed.MaxAccusationAge >= a.state.Height {
			usable = append(usable, acc)
		}
	}
	if len(usable) < a.state.ValidatorSet().Faulty()+1 {
		return
	}
	sort.Slice(usable, func(i, j int) bool { return usable[i].Node < usable[j].Node })
	e := agreed.NewAccusedEjection(node, usable)
	if _, err := a.state.CheckEntry(e.Encode()); err != nil {
		a.log.Debug("accusations not enough for an ejection", "accused", node, "err", err)
		return
	}
	if !a.ejecting[node] {
		a.ejecting[node] = true
		a.log.Warn("proposing ejection on accusations", "accused", node, "accusers", len(usable))
	}
	a.submit(e)
}

// forgetAccusations drops what concerned nodes ejected since; loop
// goroutine, after a decided height.
func (a *Agent) forgetAccusations() {
	for node := range a.accusations {
		if a.state.IsEjected(node) {
			delete(a.accusations, node)
			delete(a.ejecting, node)
		}
	}
	for _, node := range a.state.EjectedNames() {
		if a.auditor != nil {
			a.auditor.Forget(node)
		}
	}
}

// checkOutcomeEvidence looks at a verified outcome for self-proving
// misbehaviour of its signer: work never assigned to it, or a second,
// different outcome for one assignment. Only outcomes for heights this
// node has applied are judged, so a node that lags behind does not take
// honest work for rogue work.
func (a *Agent) checkOutcomeEvidence(o *wire.Outcome) {
	if o.Height > a.state.Height || a.state.IsEjected(o.Performer) {
		return
	}
	k := outcomeKey{o.Instance, o.Performer, o.Height}
	if prev, ok := a.signedOutcomes[k]; ok {
		if prev.OK != o.OK || prev.Error != o.Error || prev.Readback != o.Readback {
			a.log.Warn("two different signed outcomes for one assignment", "performer", o.Performer, "instance", o.Instance)
			a.submitIfValid(agreed.NewOutcomeEjection(o.Performer, agreed.ReasonConflictingOutcomes, prev, o))
		}
		return
	}
	if len(a.signedOutcomes) >= maxKnownOutcomes {
		clear(a.signedOutcomes)
	}
	a.signedOutcomes[k] = o
	e := agreed.NewOutcomeEjection(o.Performer, agreed.ReasonUnassignedOutcome, o)
	if _, err := a.state.CheckEntry(e.Encode()); err == nil {
		a.log.Warn("signed outcome for work never assigned to its signer", "performer", o.Performer, "instance", o.Instance)
		a.submit(e)
	}
}

type outcomeKey struct {
	instance, performer string
	height              uint64
}

func (a *Agent) submitIfValid(e *agreed.Entry) {
	if _, err := a.state.CheckEntry(e.Encode()); err != nil {
		a.log.Debug("evidence not valid", "err", err)
		return
	}
	a.submit(e)
}

// ejectionReason is why node was ejected, "" if it was not; for tests,
// through the loop.
func (a *Agent) ejectionReason(node string) string {
	reply := make(chan string, 1)
	select {
	case a.inspectReq <- func() { reply <- a.state.Ejected[node].Reason }:
	case <-time.After(2 * time.Second):
		return ""
	}
	select {
	case r := <-reply:
		return r
	case <-time.After(2 * time.Second):
		return ""
	}
}
