package agent

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/wire"
)

// actionCatalogue is the test cluster's: blink any led; ventilate (fan
// relays on odd nodes), triggered at once because every temperature is above
// -100 °C.
const actionCatalogue = `actions:
  blink:
    needs: {output: led}
    drive: {level: high, duration: 200ms}
    params:
      duration: {min: 50ms, max: 2s}
    deadline: 4s
    verify: [readback]
  ventilate:
    needs: {output: fan, output_kind: relay}
    drive: {level: high, duration: 300ms}
    deadline: 4s
    trigger: {sensor_kind: temperature, above: -100, below: -200}
`

// memoryReports gives each node an in-memory MQTT side, shared by the test.
type memoryReports map[string]*report.Memory

func (m memoryReports) start(t testing.TB, tc *testCluster, i int) *running {
	t.Helper()
	name := fmt.Sprintf("node-%d", i)
	cfg := report.DefaultConfig()
	cfg.Cluster, cfg.Node = "itest", name
	cfg.RequestBuffer = requestBuffer
	mem, err := report.NewMemory(withOperator(cfg, tc))
	if err != nil {
		t.Fatal(err)
	}
	m[name] = mem
	return startAgentWith(t, tc.addNode(t, i, "../cluster.yaml"), Options{NoAdmin: true, Reports: mem})
}

func withOperator(cfg report.Config, tc *testCluster) report.Config {
	cfg.Operators = map[string]ed25519.PublicKey{"ops": tc.operator.Public().(ed25519.PublicKey)}
	return cfg
}

// request publishes a signed request to every node, as the broker would.
func (m memoryReports) request(t testing.TB, tc *testCluster, id, action string, params map[string]string) {
	t.Helper()
	req := &wire.Request{Header: wire.Header{TS: wire.Timestamp(time.Now())}, ID: id, Action: action, Params: params}
	if err := wire.SignRequest("itest", req, tc.operator); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(req)
	for _, mem := range m {
		mem.Inject(wire.Topics{Cluster: "itest"}.Request(action), b)
	}
}

// outcomes lists the outcomes each node published for an action.
func (m memoryReports) outcomes(t testing.TB, action string) map[string][]*wire.Outcome {
	out := map[string][]*wire.Outcome{}
	for name, mem := range m {
		for _, p := range mem.Published() {
			tp, err := wire.ParseTopic(p.Topic)
			if err != nil || tp.Kind != wire.KindOutcome || tp.Action != action {
				continue
			}
			o, err := wire.DecodeOutcome(p.Payload)
			if err != nil {
				t.Fatalf("%s published a malformed outcome: %v", name, err)
			}
			out[name] = append(out[name], o)
		}
	}
	return out
}

// assignments lists what each node's decisions say about an instance:
// the performer of its latest assign or reassign.
func (m memoryReports) performers(t *testing.T, instance string) map[string]string {
	out := map[string]string{}
	for name, mem := range m {
		for _, p := range mem.Published() {
			tp, err := wire.ParseTopic(p.Topic)
			if err != nil || tp.Kind != wire.KindDecisions {
				continue
			}
			var d wire.Decision
			if err := wire.Unmarshal(p.Payload, &d); err != nil {
				t.Fatalf("%s published a malformed decision: %v", name, err)
			}
			for _, e := range d.Entries {
				if e.Instance == instance && (e.Type == wire.EntryAssign || e.Type == wire.EntryReassign) {
					out[name] = e.Performer
				}
			}
		}
	}
	return out
}

func (m memoryReports) errorsFor(requestID string) int {
	n := 0
	for _, mem := range m {
		for _, p := range mem.Published() {
			if strings.HasSuffix(p.Topic, "/errors") && strings.Contains(string(p.Payload), requestID) {
				n++
			}
		}
	}
	return n
}

// A request goes in; every node decides the same performer; exactly that
// node drives its led and publishes one signed outcome; a replay of the
// request is refused by every node; a trigger fires on agreed readings.
func TestAgents_RequestToOutcome(t *testing.T) {
	if testing.Short() {
		t.Skip("real sockets and seconds of gossip")
	}
	tc := newTestCluster(t, "127.0.4.", 4, actionCatalogue)
	reps := memoryReports{}
	var agents []*running
	for i := 1; i <= 4; i++ {
		agents = append(agents, reps.start(t, tc, i))
	}
	eventually(t, 30*time.Second, "capabilities agreed", func() (bool, string) {
		for _, r := range agents {
			if s := r.status(t); len(s.Capabilities) != 4 {
				return false, fmt.Sprintf("%s holds %d documents", s.Node, len(s.Capabilities))
			}
		}
		return true, ""
	})

	reps.request(t, tc, "r-1", "blink", map[string]string{"duration": "100ms"})
	instance := agreed.InstanceID("itest", "r-1")
	var performer string
	eventually(t, 20*time.Second, "the outcome of r-1", func() (bool, string) {
		got := reps.outcomes(t, "blink")
		var who []string
		for name, os := range got {
			for _, o := range os {
				if o.Instance == instance {
					who = append(who, name)
					performer = name
				}
			}
		}
		return len(who) > 0, fmt.Sprint(who)
	})
	by := reps.outcomes(t, "blink")
	if len(by) != 1 || len(by[performer]) != 1 {
		t.Fatalf("outcomes published by %v; want exactly one, from one node", by)
	}
	o := by[performer][0]
	if !o.OK || o.Readback != "high" || o.RequestID != "r-1" || o.Performer != performer {
		t.Errorf("outcome = %+v", o)
	}
	key, _ := agents[0].a.state.ValidatorKey(performer)
	if err := wire.VerifyOutcome("itest", o, key); err != nil {
		t.Errorf("outcome signature: %v", err)
	}
	// The node whose witness input is wired to the performer's led saw it
	// lit, and said so, signed.
	p := 0
	fmt.Sscanf(performer, "node-%d", &p)
	witness := fmt.Sprintf("node-%d", (p+2)%4+1) // node-i's witness1 watches node-(i%4+1)
	eventually(t, 10*time.Second, witness+"'s observation of "+performer, func() (bool, string) {
		for _, pub := range reps[witness].Published() {
			tp, err := wire.ParseTopic(pub.Topic)
			if err != nil || tp.Kind != wire.KindObservations {
				continue
			}
			o, err := wire.DecodeObservation(pub.Payload)
			if err != nil {
				t.Fatalf("malformed observation: %v", err)
			}
			if o.Instance != instance {
				continue
			}
			key, _ := agents[0].a.state.ValidatorKey(witness)
			if err := wire.VerifyObservation("itest", o, key); err != nil {
				t.Fatalf("observation signature: %v", err)
			}
			return o.Saw == "high" && o.Performer == performer && o.SeenAt != "", fmt.Sprintf("%+v", o)
		}
		return false, "none"
	})
	eventually(t, 10*time.Second, "every node's decision naming the performer", func() (bool, string) {
		p := reps.performers(t, instance)
		for _, r := range agents {
			if p[r.a.name] != performer {
				return false, fmt.Sprint(p)
			}
		}
		return true, ""
	})

	// The same signed request again: refused by every node, never run.
	reps.request(t, tc, "r-1", "blink", map[string]string{"duration": "100ms"})
	eventually(t, 10*time.Second, "the replay refused on errors", func() (bool, string) {
		n := reps.errorsFor("r-1")
		return n >= len(agents), fmt.Sprintf("%d error reports", n)
	})

	// ventilate fires by itself on 2f+1 signed readings; a fan node runs it.
	eventually(t, 30*time.Second, "ventilate triggered and performed", func() (bool, string) {
		got := reps.outcomes(t, "ventilate")
		for name, os := range got {
			for _, o := range os {
				if o.OK && (name == "node-1" || name == "node-3") {
					return true, ""
				}
			}
		}
		return false, fmt.Sprint(got)
	})
	time.Sleep(time.Second)
	if by := reps.outcomes(t, "blink"); len(by) != 1 || len(by[performer]) != 1 {
		t.Errorf("after the replay, blink outcomes: %v", by)
	}
	for _, r := range agents {
		if c := r.status(t).Counters; c["agent_store_errors"] != 0 || c["outcomes_refused"] != 0 || c["accusations_made"] != 0 {
			t.Errorf("%s counters: %v", r.a.name, c)
		}
	}
}
