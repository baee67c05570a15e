package agent

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
)

// Each adversary mode of the contract, run by node-4 of four agents on
// real memberlist sockets in one process (one simulated world: witnesses
// are wired, the zone's sensors agree): the adversary is ejected, with the
// evidence its mode leaves, no honest node is, and requests are still
// served by the three that remain. A silent node is crash-like: it must
// not be ejected, and the three others go on without it.
func TestDetect_AdversaryModes(t *testing.T) {
	if testing.Short() {
		t.Skip("real sockets and up to a minute of detection per mode")
	}
	for i, tc := range []struct {
		mode    string
		reasons []string // acceptable ejection reasons
		work    bool     // node-4 must be given work for the mode to show
		within  time.Duration
	}{
		{mode: "equivocate", reasons: []string{agreed.ReasonEquivocation}, within: 30 * time.Second},
		{mode: "forge", reasons: []string{agreed.ReasonForgedEntry}, within: 30 * time.Second},
		{mode: "false-outcome", reasons: []string{agreed.ReasonAccused}, work: true, within: 60 * time.Second},
		{mode: "rogue-act", reasons: []string{agreed.ReasonAccused}, within: 60 * time.Second},
		{mode: "flood", reasons: []string{agreed.ReasonAccused}, within: 60 * time.Second},
		{mode: "replay", reasons: []string{agreed.ReasonAccused, agreed.ReasonForgedEntry}, within: 60 * time.Second},
		{mode: "lie-sensor", reasons: []string{agreed.ReasonAccused}, within: 120 * time.Second},
		{mode: "mixed", reasons: []string{agreed.ReasonEquivocation, agreed.ReasonAccused}, within: 60 * time.Second},
		{mode: "silent", within: 30 * time.Second},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			cl := newTestCluster(t, fmt.Sprintf("127.0.%d.", 10+i), 4, actionCatalogue)
			cl.zone = "greenhouse"
			cl.adversary = map[string]string{"node-4": tc.mode}
			reps := memoryReports{}
			var honest []*running
			for n := 1; n <= 4; n++ {
				r := reps.start(t, cl, n)
				if n < 4 {
					honest = append(honest, r)
				}
			}
			eventually(t, 30*time.Second, "the honest nodes' capabilities agreed", func() (bool, string) {
				for _, r := range honest {
					s := r.status(t)
					for _, node := range []string{"node-1", "node-2", "node-3"} {
						if s.Capabilities[node] == nil {
							return false, fmt.Sprintf("%s lacks %s's document", s.Node, node)
						}
					}
				}
				return true, ""
			})
			start := time.Now()
			req, lastReq := 0, time.Time{}
			ejected := func() (bool, string) {
				if tc.work && time.Since(lastReq) > 2*time.Second {
					req++ // keep work coming: node-4 gets its share
					lastReq = time.Now()
					reps.request(t, cl, fmt.Sprintf("r-%d", req), "blink", map[string]string{"duration": "500ms"})
				}
				for _, r := range honest {
					if s := r.status(t); !slices.Contains(s.Ejected, "node-4") {
						return false, fmt.Sprintf("%s: ejected %v, height %d, counters %v", s.Node, s.Ejected, s.Height, detectCounters(s.Counters))
					}
				}
				return true, ""
			}
			if tc.reasons == nil {
				time.Sleep(tc.within)
				if ok, _ := ejected(); ok {
					t.Fatal("the silent node was ejected: a crash is not malice")
				}
			} else {
				eventually(t, tc.within, "node-4 ejected", ejected)
				t.Logf("%s ejected after %v", tc.mode, time.Since(start).Round(100*time.Millisecond))
				reason := honest[0].a.ejectionReason("node-4")
				if !slices.Contains(tc.reasons, reason) {
					t.Errorf("ejected for %q, want one of %v", reason, tc.reasons)
				}
			}
			for _, r := range honest {
				if s := r.status(t); len(s.Ejected) > 1 || slices.ContainsFunc(s.Ejected, func(n string) bool { return n != "node-4" }) {
					t.Errorf("%s: ejected %v — an honest node among them", s.Node, s.Ejected)
				}
			}
			// The remaining three go on serving requests.
			reps.request(t, cl, "r-after", "blink", map[string]string{"duration": "200ms"})
			instance := agreed.InstanceID("itest", "r-after")
			eventually(t, 20*time.Second, "an outcome after the ejection", func() (bool, string) {
				for name, os := range reps.outcomes(t, "blink") {
					for _, o := range os {
						if o.Instance == instance && o.OK && name != "node-4" {
							return true, ""
						}
					}
				}
				return false, "none"
			})
		})
	}
}

func detectCounters(c map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for _, k := range []string{"accusations_made", "accusations_heard", "consensus_equivocations", "agent_refused_entries", "transport_rate_limited", "outcomes_ok"} {
		out[k] = c[k]
	}
	return out
}
