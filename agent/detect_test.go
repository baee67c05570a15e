package agent

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/wire"
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

// effectCatalogue's ventilate is verified by the sensors: its trigger (which
// never fires here) says a run must bring the temperature down.
const effectCatalogue = `actions:
  ventilate:
    needs: {output: fan}
    drive: {level: high, duration: 5s}
    deadline: 9s
    verify: [readback, sensor]
    trigger: {sensor_kind: temperature, above: 100, below: 90}
`

// A performer whose ok outcomes never move the zone's temperature, while
// the other performers' fans bring it down, is accused by the sensors and
// ejected (node-4 reports false outcomes; no witness is wired to the fans,
// so only the expected sensor change can tell). Runs by honest nodes are
// borne out, and none of them is accused.
func TestDetect_SensorContradiction(t *testing.T) {
	if testing.Short() {
		t.Skip("real sockets and a minute of ventilation")
	}
	cl := newTestCluster(t, "127.0.28.", 4, effectCatalogue)
	cl.zone, cl.allFans = "greenhouse", true
	cl.adversary = map[string]string{"node-4": "false-outcome"}
	reps := memoryReports{}
	var honest []*running
	for n := 1; n <= 4; n++ {
		if r := reps.start(t, cl, n); n < 4 {
			honest = append(honest, r)
		}
	}
	eventually(t, 30*time.Second, "every capability agreed", func() (bool, string) {
		for _, r := range honest {
			if s := r.status(t); len(s.Capabilities) < 4 {
				return false, fmt.Sprintf("%s knows %d documents", s.Node, len(s.Capabilities))
			}
		}
		return true, ""
	})
	// One run at a time: the performers take turns, and a run's effect is
	// its own.
	req := 0
	var last string
	eventually(t, 150*time.Second, "node-4 ejected", func() (bool, string) {
		if s := honest[0].status(t); slices.Contains(s.Ejected, "node-4") {
			return true, ""
		}
		if last == "" || outcomeIn(reps, "ventilate", last) {
			req++
			id := fmt.Sprintf("v-%d", req)
			last = agreed.InstanceID("itest", id)
			reps.request(t, cl, id, "ventilate", nil)
		}
		return false, fmt.Sprintf("%d runs requested; counters %v", req, honest[0].status(t).Counters["effects_contradicted"])
	})
	t.Logf("node-4 ejected after %d runs", req)
	eventually(t, 10*time.Second, "every honest node ejected node-4, and only node-4", func() (bool, string) {
		for _, r := range honest {
			if s := r.status(t); !slices.Equal(s.Ejected, []string{"node-4"}) {
				return false, fmt.Sprintf("%s: ejected %v", s.Node, s.Ejected)
			}
		}
		return true, ""
	})
	var reasons []string
	for _, acc := range honestAccusations(t, honest[0], "node-4") {
		reasons = append(reasons, acc.Reason)
	}
	if len(reasons) < 2 || slices.ContainsFunc(reasons, func(r string) bool { return r != wire.AccuseEffect }) {
		t.Errorf("node-4 ejected on accusations %v, want f+1 of %s", reasons, wire.AccuseEffect)
	}
	for _, r := range honest {
		if s := r.status(t); s.Counters["effects_contradicted"] == 0 {
			t.Errorf("%s counted no contradicted run", s.Node)
		}
	}
}

// outcomeIn reports whether any node published an outcome of instance.
func outcomeIn(reps memoryReports, action, instance string) bool {
	for _, mem := range reps {
		for _, p := range mem.Published() {
			if strings.HasSuffix(p.Topic, "/outcomes/"+action+"/"+instance) {
				return true
			}
		}
	}
	return false
}

// honestAccusations are the accusations behind node's ejection, as r
// decided it.
func honestAccusations(t *testing.T, r *running, node string) []*wire.Accusation {
	t.Helper()
	rep, err := r.a.Ejections(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ev agreed.AccusedEvidence
	if err := json.Unmarshal(rep.Ejections[node].Evidence, &ev); err != nil {
		t.Fatalf("evidence of %s: %v", node, err)
	}
	return ev.Accusations
}
