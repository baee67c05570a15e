package agent

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

// burstCatalogue has one short action every node can perform, with a
// deadline long enough that a node working through its share of a burst is
// never reassigned.
const burstCatalogue = `actions:
  tick:
    needs: {output: led}
    drive: {level: high, duration: 1ms}
    deadline: 2m
`

// BenchmarkBurst sends 1,000 signed requests to a cluster of four agents
// (real memberlist sockets, in-memory MQTT) as fast as they can be
// published, and measures the time until every request is decided and
// until every outcome is published. One iteration is one burst of fresh
// request ids on the same cluster.
//
//	go test -run '^$' -bench Burst -benchtime 3x -v ./agent/
func BenchmarkBurst(b *testing.B) {
	const burst = 1000
	tc := newTestCluster(b, "127.0.8.", 4, burstCatalogue)
	reps := memoryReports{}
	var agents []*running
	for i := 1; i <= 4; i++ {
		agents = append(agents, reps.start(b, tc, i))
	}
	eventually(b, 30*time.Second, "capabilities agreed", func() (bool, string) {
		for _, r := range agents {
			if s := r.status(b); len(s.Capabilities) != 4 {
				return false, fmt.Sprintf("%s holds %d documents", s.Node, len(s.Capabilities))
			}
		}
		return true, ""
	})
	// Sign the bursts before the clock starts: the operator's signing is
	// not the cluster's work.
	payloads := make([][][]byte, b.N)
	for it := range b.N {
		for i := range burst {
			req := &wire.Request{Header: wire.Header{TS: wire.Timestamp(time.Now())}, ID: fmt.Sprintf("b%d-%04d", it, i), Action: "tick"}
			if err := wire.SignRequest("itest", req, tc.operator); err != nil {
				b.Fatal(err)
			}
			p, _ := json.Marshal(req)
			payloads[it] = append(payloads[it], p)
		}
	}
	topic := wire.Topics{Cluster: "itest"}.Request("tick")
	var decided, delivered time.Duration
	b.ResetTimer()
	for it := range b.N {
		start := time.Now()
		for _, p := range payloads[it] {
			for _, mem := range reps {
				mem.Inject(topic, p)
			}
		}
		prefix := fmt.Sprintf("b%d-", it)
		var tDecided time.Duration
		eventually(b, 5*time.Minute, "every outcome of the burst", func() (bool, string) {
			if tDecided == 0 && reps.countPrefix(b, prefix) == burst {
				tDecided = time.Since(start)
			}
			n := uint64(0)
			for _, r := range agents {
				n += r.status(b).Counters["actions_performed"]
			}
			return n >= uint64(burst*(it+1)), fmt.Sprintf("%d performed", n)
		})
		decided += tDecided
		delivered += time.Since(start)
	}
	b.StopTimer()
	for _, r := range agents {
		c := r.status(b).Counters
		b.Logf("%s performed %d, rate-limited frames from peers %d, outcomes known %d", r.a.name, c["actions_performed"], c["transport_rate_limited"], c["outcomes_ok"])
		if float64(c["actions_performed"]) < 0.1*float64(burst*b.N) {
			b.Errorf("%s performed %d of %d: the burst was not spread", r.a.name, c["actions_performed"], burst*b.N)
		}
	}
	got := 0
	for _, os := range reps.outcomes(b, "tick") {
		for _, o := range os {
			if o.OK {
				got++
			}
		}
	}
	if got != burst*b.N {
		b.Errorf("%d ok outcomes published, want %d", got, burst*b.N)
	}
	b.ReportMetric(float64(burst*b.N)/decided.Seconds(), "decided/s")
	b.ReportMetric(float64(burst*b.N)/delivered.Seconds(), "outcomes/s")
	b.ReportMetric(decided.Seconds()/float64(b.N), "s-to-decide")
	b.ReportMetric(delivered.Seconds()/float64(b.N), "s-to-deliver")
	for _, r := range agents {
		c := r.status(b).Counters
		if c["requests_refused"] != 0 || c["mqtt_requests_dropped"] != 0 || c["accusations_made"] != 0 {
			b.Errorf("%s refused or dropped requests: %v", r.a.name, c)
		}
	}
}

// countPrefix counts the assignments with a request id starting with
// prefix in the decisions node-1 published.
func (m memoryReports) countPrefix(t testing.TB, prefix string) int {
	n := 0
	for _, p := range m["node-1"].Published() {
		tp, err := wire.ParseTopic(p.Topic)
		if err != nil || tp.Kind != wire.KindDecisions {
			continue
		}
		var d wire.Decision
		if err := wire.Unmarshal(p.Payload, &d); err != nil {
			t.Fatal(err)
		}
		for _, e := range d.Entries {
			if e.Type == wire.EntryAssign && strings.HasPrefix(e.RequestID, prefix) {
				n++
			}
		}
	}
	return n
}
