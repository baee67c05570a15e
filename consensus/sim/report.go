package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/seed44533760/pact/consensus"
)

// result runs the final checks and gathers the figures.
func (s *simulation) result() *Result {
	logs := make(map[consensus.NodeID][]consensus.Commit, len(s.honest))
	var longest []consensus.Commit
	low := ^uint64(0)
	for _, p := range s.honest {
		logs[p.id] = p.store.log
		if len(p.store.log) > len(longest) {
			longest = p.store.log
		}
		low = min(low, p.decided())
	}
	ejections := s.checker.checkLogs(logs)
	if !s.livenessOK {
		var behind []string
		for _, p := range s.honest {
			if p.decided() < max(s.target, uint64(s.cfg.Heights)) {
				behind = append(behind, fmt.Sprintf("%s at %d", p.id, p.decided()))
			}
		}
		if s.faults {
			s.checker.violate("liveness", false, "the faults never ended before the time limit %s; honest nodes behind height %d: %s",
				s.maxTime, s.cfg.Heights, strings.Join(behind, ", "))
		} else {
			s.checker.violate("liveness", false, "faults ended at %s but by the time limit %s honest nodes had not reached height %d: %s",
				s.healAt, s.maxTime, s.target, strings.Join(behind, ", "))
		}
	}

	r := &Result{
		Seed:           s.cfg.Seed,
		Nodes:          s.cfg.Nodes,
		Byzantine:      s.cfg.Byzantine,
		Tolerated:      s.cfg.Tolerated(),
		Strategy:       s.cfg.strategyName(),
		Adversaries:    make(map[string]string),
		TargetHeights:  s.cfg.Heights,
		DecidedHeights: low,
		LivenessOK:     s.livenessOK,
		Violations:     []string{},
		Ejected:        []string{},
		Ejections:      ejections,
		Messages:       s.msgs,
		Faults:         s.faultStats,
		FakeSignatures: s.cfg.FakeSignatures,
		VirtualTimeMS:  s.now.Milliseconds(),
		Events:         s.events,

		CertificatesChecked:    s.checker.certs,
		SignatureVerifications: s.verifications,
	}
	if r.Ejections == nil {
		r.Ejections = []Ejection{}
	}
	for _, v := range s.checker.violations {
		r.Violations = append(r.Violations, v.String())
	}
	r.SafetyViolations = s.checker.safetyCount()
	for _, e := range ejections {
		r.Ejected = append(r.Ejected, e.Node)
	}
	slices.Sort(r.Ejected)
	for _, p := range s.procs {
		if !p.honest {
			r.Adversaries[string(p.id)] = p.strategyName
		} else {
			p.addStats(&r.Consensus)
		}
	}
	for i := range longest {
		if rd := longest[i].Round; rd == 0 {
			r.Rounds.Round0++
		} else {
			r.Rounds.Later++
			r.Rounds.MaxRound = max(r.Rounds.MaxRound, rd)
		}
	}
	s.emit("done", "", low, fmt.Sprintf("run ends: %d heights decided by every honest node, %d safety violations, liveness ok: %t",
		low, r.SafetyViolations, r.LivenessOK))
	return r
}
