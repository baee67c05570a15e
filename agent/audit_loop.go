package agent

import (
	"time"

	"github.com/seed44533760/pact/agent/audit"
	"github.com/seed44533760/pact/agent/wire"
)

// The audit of readings (agent/audit): every node holds the signed readings
// of every validator for a minute and asks, every second, whose readings
// have persistently disagreed with their zone's peers. Each suspect is
// accused, the accusation carrying the signed readings it rests on; f+1
// accusers eject it (accuse.go). A node that finds itself a suspect has a
// broken sensor, or a lying one: it says so loudly and accuses no one.

// auditEvidence bounds the buckets an accusation carries, so that f+1
// accusations fit one eject entry.
const auditEvidence = 8

func newAuditor() (*audit.Auditor, error) {
	cfg := audit.DefaultConfig()
	cfg.MaxEvidence = auditEvidence
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
		if !a.state.ValidatorSet().Has(consensusID(s.Node)) {
			continue
		}
		a.accuse(s.Node, wire.AccuseReadings, s.Summary, s)
	}
}
