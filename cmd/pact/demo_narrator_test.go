package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

// The narrator is tested on payloads built with the wire types, fed as a
// broker would hand them over: no broker, no agents.

// demoFeed builds the payloads of a four-node demo cluster (node-4 the
// adversary) and feeds them to a narrator.
type demoFeed struct {
	t      *testing.T
	n      *demoNarrator
	out    *bytes.Buffer
	topics wire.Topics
	clock  time.Time
}

func newDemoFeed(t *testing.T) *demoFeed {
	t.Helper()
	f := &demoFeed{t: t, out: &bytes.Buffer{}, topics: wire.Topics{Cluster: "demo"}, clock: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	cast := demoCast{
		Cluster:     "demo",
		Nodes:       []string{"node-1", "node-2", "node-3", "node-4"},
		Adversaries: map[string]string{"node-4": "equivocate"},
		Zones:       map[string]string{"node-1": "greenhouse", "node-2": "greenhouse", "node-3": "greenhouse", "node-4": "greenhouse"},
		Actions:     demoActions(),
	}
	f.n = newDemoNarrator(f.out, cast, func() time.Time { return f.clock })
	return f
}

func (f *demoFeed) header() wire.Header {
	return wire.Header{V: wire.Version, Cluster: "demo", TS: wire.Timestamp(f.clock)}
}

func (f *demoFeed) send(topic string, v any) {
	f.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	f.n.Observe(topic, b)
}

func (f *demoFeed) decision(publisher string, height uint64, block string, entries ...wire.DecisionEntry) {
	if entries == nil {
		entries = []wire.DecisionEntry{}
	}
	f.send(f.topics.Decisions(publisher), wire.Decision{
		Header: f.header(), Node: publisher, Height: height, Entries: entries,
		Certificate: wire.Certificate{Block: block, Votes: []wire.Vote{}},
	})
}

// decideEverywhere publishes one height from the given nodes, all with the
// same block.
func (f *demoFeed) decideEverywhere(nodes []string, height uint64, block string, entries ...wire.DecisionEntry) {
	for _, node := range nodes {
		f.decision(node, height, block, entries...)
	}
}

func (f *demoFeed) outcome(action, instance, requestID, performer string, height uint64, ok bool) {
	o := wire.Outcome{
		Header: f.header(), Action: action, Instance: instance, RequestID: requestID, Performer: performer,
		Height: height, OK: ok, Started: wire.Timestamp(f.clock), Finished: wire.Timestamp(f.clock.Add(time.Second)),
		Readback: "high", Sig: "c2ln",
	}
	if !ok {
		o.Error, o.Readback = "readback low after driving high", "low"
	}
	f.send(f.topics.Outcome(action, instance), o)
}

func (f *demoFeed) request(id string) {
	f.t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	req := &wire.Request{Header: wire.Header{TS: wire.Timestamp(f.clock)}, ID: id, Action: "blink", Params: map[string]string{"duration": "1s"}}
	if err := wire.SignRequest("demo", req, key); err != nil {
		f.t.Fatal(err)
	}
	f.send(f.topics.Request("blink"), req)
}

func (f *demoFeed) ejection(node string, height uint64) {
	f.send(f.topics.Ejection(node), wire.Ejection{
		Header: f.header(), Node: node, Height: height, Reason: "equivocation",
		Evidence: []wire.Evidence{{Type: "equivocation", Summary: "equivocation by " + node + " at h=1 r=0 prevote: 1a2b vs nil", Data: ""}},
	})
}

func (f *demoFeed) readings(node string, celsius float64) {
	f.send(f.topics.Readings(node), wire.Readings{
		Header: f.header(), Node: node, Sig: "c2ln",
		Readings: []wire.Reading{{Sensor: "temp", Kind: "temperature", Value: celsius, Unit: "°C"}},
	})
}

func (f *demoFeed) lines() []string {
	return strings.Split(strings.TrimSpace(f.out.String()), "\n")
}

func (f *demoFeed) linesWith(s string) []string {
	var out []string
	for _, l := range f.lines() {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// failing returns the names of the checks that do not hold.
func (f *demoFeed) failing() map[string]string {
	out := map[string]string{}
	for _, c := range f.n.Checks() {
		if !c.ok {
			out[c.name] = c.detail
		}
	}
	return out
}

var (
	demoHonest = []string{"node-1", "node-2", "node-3"}
	demoAll    = []string{"node-1", "node-2", "node-3", "node-4"}
)

func assignEntry(instance, requestID, performer string) wire.DecisionEntry {
	return wire.DecisionEntry{Type: wire.EntryAssign, Action: "blink", Instance: instance, RequestID: requestID, Performer: performer}
}

// happyRun feeds a run that keeps every invariant: node-4 is ejected, one
// request is assigned and performed.
func (f *demoFeed) happyRun() {
	f.decideEverywhere(demoAll, 1, "b1", wire.DecisionEntry{Type: wire.EntryEject, Node: "node-4", Reason: "equivocation"})
	f.ejection("node-4", 1)
	f.request("r-1")
	f.decideEverywhere(demoHonest, 2, "b2", assignEntry("i-1", "r-1", "node-2"))
	f.outcome("blink", "i-1", "r-1", "node-2", 2, true)
}

func TestDemoNarrator_HappyRunKeepsEveryInvariant(t *testing.T) {
	f := newDemoFeed(t)
	f.happyRun()
	if bad := f.failing(); len(bad) > 0 {
		t.Fatalf("failing checks: %v\n%s", bad, f.out)
	}
	var sum bytes.Buffer
	f.n.Summary(&sum, 40*time.Second, 7)
	for _, want := range []string{"2 decided (highest 2)", "1 sent; 1 outcomes received: 1 ok, 0 failed", "node-4 at height 1: equivocation", "ok    each request got an outcome: 1/1"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
	if strings.Contains(sum.String(), "FAIL") {
		t.Errorf("summary has a FAIL:\n%s", sum.String())
	}
}

func TestDemoNarrator_ConfirmationCounting(t *testing.T) {
	f := newDemoFeed(t)
	f.decision("node-1", 5, "abc", assignEntry("i-1", "r-1", "node-2"))
	if got := f.linesWith("decided at height 5: blink i-1 → node-2 (request r-1)"); len(got) != 1 {
		t.Fatalf("want the decision narrated once from its first publisher:\n%s", f.out)
	}
	f.decision("node-2", 5, "abc", assignEntry("i-1", "r-1", "node-2"))
	if got := f.linesWith("confirmed"); len(got) != 0 {
		t.Fatalf("confirmed before every honest node published the height: %v", got)
	}
	f.decision("node-3", 5, "abc", assignEntry("i-1", "r-1", "node-2"))
	if got := f.linesWith("height 5 confirmed by 3/4 nodes, same block abc"); len(got) != 1 {
		t.Fatalf("want one confirmation once node-1..3 published:\n%s", f.out)
	}
	f.decision("node-4", 5, "abc", assignEntry("i-1", "r-1", "node-2"))
	f.decision("node-3", 5, "abc", assignEntry("i-1", "r-1", "node-2")) // QoS 1: again
	if got := f.linesWith("confirmed"); len(got) != 1 {
		t.Fatalf("the confirmation is said once, got %v", got)
	}
	if got := f.linesWith("decided at height 5"); len(got) != 1 {
		t.Fatalf("later publishers repeat the decision: %v", got)
	}

	// A height that only advertises is negotiation, not worth confirming;
	// once every honest node's document is in, the cluster can take work.
	select {
	case <-f.n.CapabilitiesAgreed():
		t.Fatal("capabilities agreed before any was decided")
	default:
	}
	f.decideEverywhere(demoAll, 6, "def",
		wire.DecisionEntry{Type: wire.EntryAdvertise, Node: "node-1", Seq: 1},
		wire.DecisionEntry{Type: wire.EntryAdvertise, Node: "node-2", Seq: 1})
	f.decideEverywhere(demoAll, 7, "ghi", wire.DecisionEntry{Type: wire.EntryAdvertise, Node: "node-3", Seq: 1})
	if got := f.linesWith("height 6 confirmed"); len(got) != 0 {
		t.Errorf("advertise-only height confirmed: %v", got)
	}
	if got := f.linesWith("capabilities agreed: 3/4 (height 7: node-3) — every honest node's"); len(got) != 1 {
		t.Errorf("want the honest nodes' capabilities agreed at height 7:\n%s", f.out)
	}
	select {
	case <-f.n.CapabilitiesAgreed():
	default:
		t.Fatal("CapabilitiesAgreed not closed once every honest node advertised")
	}
}

func TestDemoNarrator_DisagreementBreaksAgreement(t *testing.T) {
	f := newDemoFeed(t)
	if bad := f.failing(); !strings.Contains(bad[demoCheckAgreement], "no height was decided") {
		t.Errorf("agreement must not pass without a decided height: %v", bad)
	}
	f.happyRun()
	f.decision("node-1", 3, "aaaa")
	f.decision("node-2", 3, "bbbb")
	if got := f.linesWith("DISAGREEMENT at height 3: node-2 has block bbbb, node-1 has aaaa"); len(got) != 1 {
		t.Errorf("want the disagreement narrated:\n%s", f.out)
	}
	bad := f.failing()
	if want := "height 3: aaaa from node-1 vs bbbb from node-2"; bad[demoCheckAgreement] != want {
		t.Errorf("agreement detail = %q, want %q", bad[demoCheckAgreement], want)
	}
	if len(bad) != 1 {
		t.Errorf("only agreement should fail: %v", bad)
	}
}

func TestDemoNarrator_OutcomeDedupe(t *testing.T) {
	t.Run("a re-delivered outcome counts once", func(t *testing.T) {
		f := newDemoFeed(t)
		f.happyRun()
		f.outcome("blink", "i-1", "r-1", "node-2", 2, true) // retained, delivered again
		f.outcome("blink", "i-1", "r-1", "node-2", 2, true)
		if got := f.linesWith("node-2 drove led high for 1.0s: ok, readback high (blink i-1)"); len(got) != 1 {
			t.Errorf("want one act line, got %d:\n%s", len(got), f.out)
		}
		if bad := f.failing(); len(bad) > 0 {
			t.Fatalf("re-deliveries broke %v", bad)
		}
		for _, c := range f.n.Checks() {
			if c.name == demoCheckOutcomes && !strings.Contains(c.detail, "2 re-delivered outcomes counted once") {
				t.Errorf("outcomes detail = %q", c.detail)
			}
		}
	})
	t.Run("a second, different ok outcome breaks the invariant", func(t *testing.T) {
		f := newDemoFeed(t)
		f.happyRun()
		f.outcome("blink", "i-1", "r-1", "node-3", 2, true)
		bad := f.failing()
		if !strings.Contains(bad[demoCheckOutcomes], "blink i-1 has 2 different ok outcomes") {
			t.Errorf("outcomes check: %v\n%s", bad, f.out)
		}
		if got := f.linesWith("SECOND ok outcome for blink i-1, from node-3"); len(got) != 1 {
			t.Errorf("want the second outcome flagged:\n%s", f.out)
		}
	})
}

func TestDemoNarrator_PerformerMustBeTheAssignedOne(t *testing.T) {
	cases := []struct {
		name string
		feed func(f *demoFeed)
		want string // the outcomes check's detail; "" when it holds
	}{
		{
			name: "ok outcome from a node the decision did not name",
			feed: func(f *demoFeed) {
				f.decideEverywhere(demoHonest, 3, "b3", assignEntry("i-2", "r-2", "node-2"))
				f.outcome("blink", "i-2", "r-2", "node-3", 3, true)
			},
			want: "blink i-2: the ok outcome is from node-3, but the decision at height 3 names node-2",
		},
		{
			name: "failed, reassigned, done by the new performer",
			feed: func(f *demoFeed) {
				f.decideEverywhere(demoHonest, 3, "b3", assignEntry("i-2", "r-2", "node-2"))
				f.outcome("blink", "i-2", "r-2", "node-2", 3, false)
				f.decideEverywhere(demoHonest, 4, "b4", wire.DecisionEntry{Type: wire.EntryReassign, Action: "blink", Instance: "i-2", RequestID: "r-2", Node: "node-2", Performer: "node-3", Reason: "failed"})
				f.outcome("blink", "i-2", "r-2", "node-3", 4, true)
			},
		},
		{
			name: "ok outcome for work nobody assigned",
			feed: func(f *demoFeed) {
				f.outcome("blink", "i-9", "r-9", "node-3", 3, true)
			},
			want: "blink i-9: ok outcome from node-3 for an instance no decision assigned",
		},
		{
			name: "assigned, never done",
			feed: func(f *demoFeed) {
				f.decideEverywhere(demoHonest, 3, "b3", assignEntry("i-2", "r-2", "node-2"))
			},
			want: "blink i-2 (assigned to node-2 at height 3) has no ok outcome",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newDemoFeed(t)
			f.happyRun()
			tc.feed(f)
			got := f.failing()[demoCheckOutcomes]
			if got != tc.want {
				t.Errorf("outcomes check detail = %q, want %q\n%s", got, tc.want, f.out)
			}
		})
	}
}

func TestDemoNarrator_Ejections(t *testing.T) {
	f := newDemoFeed(t)
	f.decideEverywhere(demoAll, 1, "b1", wire.DecisionEntry{Type: wire.EntryEject, Node: "node-2", Reason: "equivocation"})
	f.ejection("node-2", 1)
	f.ejection("node-2", 1) // every honest node publishes it
	if got := f.linesWith("node-2 ejected at height 1: equivocation — equivocation by node-2 at h=1 r=0 prevote: 1a2b vs nil — an HONEST node"); len(got) != 1 {
		t.Errorf("want the ejection narrated once, flagged:\n%s", f.out)
	}
	bad := f.failing()
	if bad[demoCheckHonest] != "ejected: node-2 at height 1: equivocation" {
		t.Errorf("honest check = %q", bad[demoCheckHonest])
	}
	if bad[demoCheckAdversaries] != "node-4 never ejected" {
		t.Errorf("adversaries check = %q", bad[demoCheckAdversaries])
	}
}

func TestDemoNarrator_RequestWithoutOutcome(t *testing.T) {
	f := newDemoFeed(t)
	f.happyRun()
	f.request("r-2")
	if got := f.linesWith("operator-signed request r-2: blink duration=1s"); len(got) != 1 {
		t.Errorf("want the request narrated:\n%s", f.out)
	}
	if got := f.n.Outstanding(); strings.Join(got, ",") != "request r-2" {
		t.Errorf("Outstanding = %v", got)
	}
	if got := f.failing()[demoCheckRequests]; got != "no outcome for r-2 (blink)" {
		t.Errorf("requests check = %q", got)
	}
	// A failed outcome is still an outcome for the request; the instance's
	// missing ok outcome is the other check's business.
	f.decideEverywhere(demoHonest, 3, "b3", assignEntry("i-2", "r-2", "node-1"))
	f.outcome("blink", "i-2", "r-2", "node-1", 3, false)
	bad := f.failing()
	if _, broken := bad[demoCheckRequests]; broken {
		t.Errorf("requests check still fails after an outcome: %v", bad)
	}
	if got := f.linesWith("node-1 failed blink i-2: readback low after driving high"); len(got) != 1 {
		t.Errorf("want the failure narrated:\n%s", f.out)
	}
}

func TestDemoNarrator_SenseMedianAndTrigger(t *testing.T) {
	f := newDemoFeed(t)
	f.readings("node-1", 24.0)
	if f.out.Len() != 0 {
		t.Fatalf("a median of one node in four: %s", f.out)
	}
	f.readings("node-2", 24.2)
	f.readings("node-3", 24.1) // moves the median by 0.1: not news
	f.readings("node-1", 24.9)
	f.readings("node-2", 25.0)
	f.readings("node-3", 25.1)
	for _, v := range []float64{26.9, 27.2, 27.3} {
		f.readings("node-1", v)
		f.readings("node-2", v)
		f.readings("node-3", v)
	}
	f.decideEverywhere(demoHonest, 4, "b4", wire.DecisionEntry{Type: wire.EntryAssign, Action: "ventilate", Instance: "i-7", RequestID: "t-1", Performer: "node-1", Reason: "trigger"})
	for _, v := range []float64{26.0, 27.5} {
		f.readings("node-1", v)
		f.readings("node-2", v)
		f.readings("node-3", v)
	}
	got := f.linesWith("sense")
	want := []string{
		"greenhouse median 24.1 °C over 2 nodes",
		"greenhouse median 24.9 °C over 3 nodes, temperature rising",
		"greenhouse median 26.9 °C over 3 nodes, temperature rising",
		"greenhouse median 27.2 °C over 3 nodes, temperature rising — above ventilate's trigger (27 °C)",
		"greenhouse median 26.0 °C over 3 nodes, temperature falling",
		"greenhouse median 27.5 °C over 3 nodes, temperature rising — above ventilate's trigger (27 °C), which fired already and re-arms below 25 °C",
	}
	if len(got) != len(want) {
		t.Fatalf("sense lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasSuffix(got[i], want[i]) {
			t.Errorf("line %d = %q, want it to end in %q", i, got[i], want[i])
		}
	}
	if got := f.linesWith("decided at height 4: ventilate i-7 → node-1 (trigger)"); len(got) != 1 {
		t.Errorf("want the trigger's decision:\n%s", f.out)
	}
}

func TestDemoNarrator_IgnoresOtherClustersAndReportsUnreadable(t *testing.T) {
	f := newDemoFeed(t)
	f.n.Observe("pact/other/nodes/node-1/state", []byte(`{"v":1}`))
	f.n.Observe("$SYS/broker/uptime", []byte("12"))
	if f.out.Len() != 0 {
		t.Fatalf("narrated a foreign message: %s", f.out)
	}
	f.n.Observe(f.topics.Decisions("node-1"), []byte(`{"v":1,"surprise":true}`))
	f.n.Observe(f.topics.Decisions("node-2"), []byte(`not json`))
	if got := f.linesWith("cannot read pact/demo/nodes/node-1/decisions"); len(got) != 1 {
		t.Errorf("want one line for the unreadable kind:\n%s", f.out)
	}
	var sum bytes.Buffer
	f.n.Summary(&sum, time.Second, 1)
	if !strings.Contains(sum.String(), "2 payloads did not decode") {
		t.Errorf("summary:\n%s", sum.String())
	}
}

func TestDemoNarrator_LineFormat(t *testing.T) {
	f := newDemoFeed(t)
	f.clock = f.clock.Add(1500 * time.Millisecond)
	f.send(f.topics.State("node-4"), wire.State{Header: f.header(), Node: "node-4", State: wire.StateReady, BDSeq: 1})
	want := "   1.5s  discover   node-4 is up: connected and ready (1/4) — an adversary (equivocate)\n"
	if f.out.String() != want {
		t.Errorf("got  %q\nwant %q", f.out.String(), want)
	}
	f.n.quiet = true
	f.send(f.topics.State("node-1"), wire.State{Header: f.header(), Node: "node-1", State: wire.StateReady, BDSeq: 1})
	f.n.Mute()
	if f.out.String() != want {
		t.Errorf("--quiet still narrates: %q", f.out.String())
	}
}

// The demo's cluster is a valid testnet on loopback with the demo's
// timings and a trigger the default simulated world reaches early.
func TestDemoCluster_WritesAValidDemoCluster(t *testing.T) {
	dc, err := writeDemoCluster(t.TempDir(), 4, 1, 18830)
	if err != nil {
		t.Fatal(err)
	}
	if len(dc.agents) != 4 || dc.agents[3].Adversary == nil || dc.agents[3].Adversary.Mode != demoAdversary || dc.agents[2].Adversary != nil {
		t.Fatalf("want node-4 alone equivocating: %+v", dc.agents)
	}
	for _, a := range dc.agents {
		if a.MQTT.URL != "tcp://127.0.0.1:18830" || !strings.HasPrefix(a.Bind, "127.0.0.1:") {
			t.Errorf("%s: mqtt %q bind %q", a.Node, a.MQTT.URL, a.Bind)
		}
	}
	if dc.cluster.Timings != demoTimings() {
		t.Errorf("timings = %+v", dc.cluster.Timings)
	}
	v := dc.cluster.Actions["ventilate"]
	if v.Trigger == nil || *v.Trigger.Above != demoTriggerAbove || *v.Trigger.Below != demoTriggerBelow || v.Drive.Duration != demoVentilateFor {
		t.Fatalf("ventilate = %+v", v)
	}
	if above := *testnetActions()["ventilate"].Trigger.Above; above == demoTriggerAbove {
		t.Errorf("the testnet's trigger changed with the demo's: %g", above)
	}
	if !dc.operator.Public().(ed25519.PublicKey).Equal(dc.cluster.OperatorKeys()["operator"]) {
		t.Error("operator.key is not the cluster's operator")
	}
	c := dc.cast()
	if strings.Join(c.honest(), ",") != "node-1,node-2,node-3" || c.Adversaries["node-4"] != "equivocate" || c.Zones["node-1"] != testnetZone {
		t.Errorf("cast = %+v", c)
	}
}

// A witness's observation is narrated as a confirmation, or loudly as a
// contradiction, and counted in the summary.
func TestDemoNarrator_Witness(t *testing.T) {
	f := newDemoFeed(t)
	o := wire.Observation{Header: f.header(), Node: "node-1", Input: "witness", Action: "blink", Instance: "i-1",
		Performer: "node-2", Output: "led", Height: 3, Level: "high", Saw: "high", SeenAt: wire.Timestamp(f.clock), Sig: "x"}
	f.send(f.topics.Observations("node-1"), o)
	o.Saw, o.SeenAt = "", ""
	f.send(f.topics.Observations("node-1"), o)
	out := f.out.String()
	for _, want := range []string{
		"witness    node-1's witness saw node-2's led go high: confirms blink i-1",
		"node-1's witness did NOT see node-2's led go high",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("narration lacks %q:\n%s", want, out)
		}
	}
	if f.n.observations != 2 {
		t.Errorf("observations counted %d, want 2", f.n.observations)
	}
}
