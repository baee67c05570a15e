package agent

import (
	"slices"
	"time"

	"github.com/seed44533760/pact/agent/audit"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// The audit of readings (agent/audit): every node holds the signed readings
// of every validator for a minute and asks, every second, whose readings
// have persistently disagreed with their zone's peers. Each suspect is
// accused, the accusation carrying the signed readings it rests on; f+1
// accusers eject it (accuse.go). A node that finds itself a suspect has a
// broken sensor, or a lying one: it says so loudly and accuses no one.

// Actuators change what sensors read, and not evenly: a fan cools the
// sensor next to it first (in the simulator, only the sensors of its own
// process). While an action that is expected to move a zone's sensors runs
// (its catalogue entry verifies by "sensor") and for settleAfter plus one
// audit window after it, readings in that zone may honestly disagree, and
// nobody in it is accused of lying about them.
const settleAfter = time.Minute

// disturb notes that work expected to move the sensors of the performer's
// zone was assigned now; loop goroutine.
func (a *Agent) disturb(action, performer string, d time.Duration) {
	act, ok := a.cluster.Actions[action]
	if !ok || !slices.Contains(act.Verify, config.VerifySensor) {
		return
	}
	doc := a.state.Capabilities[performer]
	if doc == nil {
		return
	}
	until := time.Now().Add(d + settleAfter + audit.DefaultConfig().Window)
	if until.After(a.disturbed[doc.Zone]) {
		a.disturbed[doc.Zone] = until
	}
}

// auditEvidence bounds the buckets an accusation carries, so that f+1
// accusations fit one eject entry.
const auditEvidence = 8

// newAuditor judges a node only against at least 2f+1 peers, f of the
// validator set at start: with at most f liars among them, the median stays
// between honest values however they collude.
func newAuditor(f int) (*audit.Auditor, error) {
	cfg := audit.DefaultConfig()
	cfg.MaxEvidence = auditEvidence
	cfg.MinPeers = max(cfg.MinPeers, 2*f+1)
	return audit.New(cfg)
}

// auditReadings accuses the suspects of the readings audit; loop goroutine.
func (a *Agent) auditReadings() {
	if a.auditor == nil {
		return
	}
	for _, s := range a.auditor.Suspects(time.Now()) {
		if s.Node == a.name {
			a.log.Error("this node's own readings disagree with every peer's: check its sensor", "kind", s.Kind, "summary", s.Summary)
			continue
		}
		if !a.state.ValidatorSet().Has(consensusID(s.Node)) || time.Now().Before(a.disturbed[s.Zone]) {
			continue
		}
		a.accuse(s.Node, wire.AccuseReadings, s.Summary, s)
	}
}
