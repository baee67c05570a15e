package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// strategyOf is the strategy adversary id ran.
func (s *simulation) strategyOf(id consensus.NodeID) string {
	return s.byNum[s.nums[id]][0].strategyName
}

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

	notEjected := s.notEjected()
	for _, id := range notEjected {
		hint := ""
		if name := s.strategyOf(id); name == "lie-sensor" {
			hint = fmt.Sprintf(" (the audit needs %d judged samples, %s of readings from 2f+1 peers, once accusations can be decided)",
				s.auditCfg.MinSamples, time.Duration(s.auditCfg.MinSamples)*SampleEvery)
		}
		s.checker.violate("not-ejected", false, "adversary %s (%s) was still a validator for some honest node at the time limit %s%s",
			id, s.strategyOf(id), s.maxTime, hint)
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
		DetectionOK:    len(notEjected) == 0,
		EjectedAtMS:    s.ejectedAt,
		Reports:        s.reports,
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
	honest := make(map[consensus.NodeID]bool, len(s.honest))
	for _, p := range s.honest {
		honest[p.id] = true
	}
	for i := range longest {
		for _, e := range longest[i].Block.Entries {
			if a, ok, err := parseAccusation(e); ok && err == nil {
				r.Reports.Decided++
				if honest[a.accuser] && honest[a.accused] {
					r.Reports.HonestAgainstHonest++
				}
			}
		}
		if rd := longest[i].Round; rd == 0 {
			r.Rounds.Round0++
		} else {
			r.Rounds.Later++
			r.Rounds.MaxRound = max(r.Rounds.MaxRound, rd)
		}
	}
	s.emit("done", "", low, fmt.Sprintf("run ends: %d heights decided by every honest node, %d safety violations, liveness ok: %t, detection ok: %t",
		low, r.SafetyViolations, r.LivenessOK, r.DetectionOK))
	return r
}
