package report

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// fixedClock is the Memory's clock in the golden tests.
func fixedClock() time.Time { return t0 }

func newTestMemory(t testing.TB) *Memory {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Cluster, cfg.Node, cfg.Now = testCluster, testNode, fixedClock
	cfg.Operators = map[string]ed25519.PublicKey{"alice": pub("alice")}
	m, err := NewMemory(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The payloads' field names are the contract (DESIGN.md §4): these golden
// strings fail when one is renamed, dropped or reordered.
func TestPayloads_Golden(t *testing.T) {
	m := newTestMemory(t)
	o := signedOutcome(t, 7)
	o.Sig = "SIG" // a placeholder keeps the golden string short; Check ignores sig's content
	doc := &capability.Document{Cluster: testCluster, Node: testNode, Zone: "greenhouse", Outputs: []capability.Output{{Name: "led", Kind: "led"}}, Seq: 2}
	doc.Sign(key(testNode))
	doc.Key, doc.Sig = "KEY", "SIG"
	rd := &wire.Readings{Header: wire.Header{TS: wire.Timestamp(t0)}, Node: testNode, Readings: []wire.Reading{{Sensor: "air", Kind: "temperature", Value: 21.5, Unit: "°C"}}}
	if err := wire.SignReadings(testCluster, rd, key(testNode)); err != nil {
		t.Fatal(err)
	}
	rd.Sig = "SIG"
	commit := &consensus.Commit{Block: consensus.Block{Height: 12}, Round: 1, Votes: []consensus.CommitVote{{From: "gh-2", Signature: []byte{1, 2, 3}}}}
	cert := wire.CertificateOf(commit)
	cert.Block = "abcd"

	for _, err := range []error{
		m.PublishCapabilities(doc),
		m.PublishReadings(rd),
		m.PublishDecision(&wire.Decision{Height: 12, Round: 1, Entries: []wire.DecisionEntry{
			{Type: wire.EntryAssign, Action: "blink", Instance: "i-7", RequestID: "r-7", Performer: "gh-3"},
			{Type: wire.EntryEject, Node: "gh-4", Reason: "equivocation"},
		}, Certificate: cert}),
		m.PublishOutcome(o),
		m.PublishEjection(&wire.Ejection{Node: "gh-4", Height: 12, Reason: "equivocation", Evidence: []wire.Evidence{{Type: "equivocation", Summary: "two prevotes", Data: "AAEC"}}}),
		m.PublishError("r-9", "unknown action"),
		m.SetState(wire.StateEjected),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []struct{ topic, payload string }{
		{"pact/greenhouse/nodes/gh-1/state", `{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:00.000Z","node":"gh-1","state":"ready","bdseq":0}`},
		{"pact/greenhouse/nodes/gh-1/capabilities", `{"v":1,"cluster":"greenhouse","node":"gh-1","key":"KEY","zone":"greenhouse","sensors":[],"outputs":[{"name":"led","kind":"led"}],"inputs":[],"constraints":{},"seq":2,"sig":"SIG","ts":"2026-03-01T12:00:00.000Z"}`},
		{"pact/greenhouse/nodes/gh-1/readings", `{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:00.000Z","node":"gh-1","readings":[{"sensor":"air","kind":"temperature","value":21.5,"unit":"°C"}],"sig":"SIG"}`},
		{"pact/greenhouse/nodes/gh-1/decisions", `{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:00.000Z","node":"gh-1","height":12,"round":1,"entries":[{"type":"assign","action":"blink","instance":"i-7","request_id":"r-7","performer":"gh-3"},{"type":"eject","node":"gh-4","reason":"equivocation"}],"certificate":{"round":1,"block":"abcd","votes":[{"from":"gh-2","sig":"AQID"}]}}`},
		{"pact/greenhouse/outcomes/blink/i-00007", `{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:01.000Z","action":"blink","instance":"i-00007","request_id":"r-00007","performer":"gh-1","height":107,"ok":true,"error":"","started":"2026-03-01T12:00:00.000Z","finished":"2026-03-01T12:00:01.000Z","readback":"high","sig":"SIG"}`},
		{"pact/greenhouse/ejections/gh-4", `{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:00.000Z","node":"gh-4","height":12,"reason":"equivocation","evidence":[{"type":"equivocation","summary":"two prevotes","data":"AAEC"}]}`},
		{"pact/greenhouse/errors", `{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:00.000Z","request_id":"r-9","node":"gh-1","error":"unknown action"}`},
		{"pact/greenhouse/nodes/gh-1/state", `{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:00.000Z","node":"gh-1","state":"ejected","bdseq":0}`},
	}
	got := m.Published()
	if len(got) != len(want) {
		t.Fatalf("published %d messages, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Topic != w.topic || string(got[i].Payload) != w.payload {
			t.Errorf("message %d:\n got %s %s\nwant %s %s", i, got[i].Topic, got[i].Payload, w.topic, w.payload)
		}
	}
	// Retained as the contract's table says.
	for _, p := range got {
		k, err := wire.ParseTopic(p.Topic)
		if err != nil {
			t.Fatal(err)
		}
		wantRetained := map[wire.Kind]bool{wire.KindState: true, wire.KindCapabilities: true, wire.KindOutcome: true, wire.KindEjection: true}[k.Kind]
		if p.Retained != wantRetained {
			t.Errorf("%s retained = %v, want %v", p.Topic, p.Retained, wantRetained)
		}
	}
}

// Every payload has v, cluster and ts.
func TestPayloads_Header(t *testing.T) {
	m := newTestMemory(t)
	if err := m.PublishDecision(&wire.Decision{Height: 1}); err != nil {
		t.Fatal(err)
	}
	if err := m.PublishEjection(&wire.Ejection{Node: "gh-2"}); err != nil {
		t.Fatal(err)
	}
	if err := m.PublishError("", "x"); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Published() {
		var h map[string]json.RawMessage
		if err := json.Unmarshal(p.Payload, &h); err != nil {
			t.Fatal(err)
		}
		if string(h["v"]) != "1" || string(h["cluster"]) != `"greenhouse"` || len(h["ts"]) == 0 {
			t.Errorf("%s lacks the header: %s", p.Topic, p.Payload)
		}
	}
}
