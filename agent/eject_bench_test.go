package agent

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkEjection measures, for each adversary mode run by node-4 of four
// agents on real sockets (one simulated world), how long until the three
// honest nodes have decided its ejection: from the agents' start, and from
// the moment the first honest node had evidence enough to propose it, in
// time and in heights (the goal: within two heights of the evidence
// reaching an honest proposer).
//
//	go test -run '^$' -bench Ejection -benchtime 3x -v ./agent/
func BenchmarkEjection(b *testing.B) {
	for i, mode := range []string{"equivocate", "forge", "false-outcome", "rogue-act", "flood", "replay", "lie-sensor"} {
		b.Run(mode, func(b *testing.B) {
			var total, fromEvidence time.Duration
			var heights uint64
			for it := range b.N {
				cl := newTestCluster(b, fmt.Sprintf("127.0.%d.", 30+i), 4, actionCatalogue)
				cl.zone = "greenhouse"
				cl.adversary = map[string]string{"node-4": mode}
				reps := memoryReports{}
				var honest, all []*running
				start := time.Now()
				for n := 1; n <= 4; n++ {
					r := reps.start(b, cl, n)
					all = append(all, r)
					if n < 4 {
						honest = append(honest, r)
					}
				}
				req, last := 0, time.Time{}
				eventually(b, 3*time.Minute, "node-4 ejected", func() (bool, string) {
					if mode == "false-outcome" && time.Since(last) > 2*time.Second {
						req++
						last = time.Now()
						reps.request(b, cl, fmt.Sprintf("r-%d-%d", it, req), "blink", map[string]string{"duration": "500ms"})
					}
					for _, r := range honest {
						if !slices.Contains(r.status(b).Ejected, "node-4") {
							return false, r.a.name
						}
					}
					return true, ""
				})
				total += time.Since(start)
				// The earliest evidence among the honest nodes, and when and
				// at which height the last of them decided the ejection.
				var first evidenceMark
				var ejectedAt uint64
				var decided time.Time
				for _, r := range honest {
					done := make(chan struct{})
					r.a.inspectReq <- func() {
						if m, ok := r.a.evidenceAt["node-4"]; ok && (first.at.IsZero() || m.at.Before(first.at)) {
							first = m
						}
						ejectedAt = r.a.state.Ejected["node-4"].Height
						if w := r.a.ejectedWhen["node-4"]; w.After(decided) {
							decided = w
						}
						close(done)
					}
					<-done
				}
				if !first.at.IsZero() {
					fromEvidence += decided.Sub(first.at)
					heights += ejectedAt - first.height
				}
				for _, r := range all {
					r.cancel()
				}
				for _, r := range all {
					select {
					case <-r.done:
					case <-time.After(30 * time.Second):
						b.Fatalf("%s did not stop within 30 s", r.a.name)
					}
				}
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s-from-start")
			b.ReportMetric(fromEvidence.Seconds()/float64(b.N), "s-after-evidence")
			b.ReportMetric(float64(heights)/float64(b.N), "heights-after-evidence")
		})
	}
}
