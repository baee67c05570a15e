package report

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/capability"
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
	rd := &Readings{Header: Header{TS: Timestamp(t0)}, Node: testNode, Readings: []Reading{{Sensor: "air", Kind: "temperature", Value: 21.5, Unit: "°C"}}}
	if err := SignReadings(testCluster, rd, key(testNode)); err != nil {
		t.Fatal(err)
	}
	rd.Sig = "SIG"
	commit := &consensus.Commit{Block: consensus.Block{Height: 12}, Round: 1, Votes: []consensus.CommitVote{{From: "gh-2", Signature: []byte{1, 2, 3}}}}
	cert := CertificateOf(commit)
	cert.Block = "abcd"

	for _, err := range []error{
		m.PublishCapabilities(doc),
		m.PublishReadings(rd),
		m.PublishDecision(&Decision{Height: 12, Round: 1, Entries: []DecisionEntry{
			{Type: EntryAssign, Action: "blink", Instance: "i-7", RequestID: "r-7", Performer: "gh-3"},
			{Type: EntryEject, Node: "gh-4", Reason: "equivocation"},
		}, Certificate: cert}),
		m.PublishOutcome(o),
		m.PublishEjection(&Ejection{Node: "gh-4", Height: 12, Reason: "equivocation", Evidence: []Evidence{{Type: "equivocation", Summary: "two prevotes", Data: "AAEC"}}}),
		m.PublishError("r-9", "unknown action"),
		m.SetState(StateEjected),
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
		k, err := ParseTopic(p.Topic)
		if err != nil {
			t.Fatal(err)
		}
		wantRetained := map[Kind]bool{KindState: true, KindCapabilities: true, KindOutcome: true, KindEjection: true}[k.Kind]
		if p.Retained != wantRetained {
			t.Errorf("%s retained = %v, want %v", p.Topic, p.Retained, wantRetained)
		}
	}
}

// A request's JSON and the exact bytes its signature covers, which an
// operator's script in another language must reproduce.
func TestRequest_GoldenSignBytes(t *testing.T) {
	req := &Request{Header: Header{TS: "2026-03-01T12:00:00Z"}, ID: "r-1", Action: "blink", Params: map[string]string{"pin": "<17>", "duration": "2s"}}
	if err := SignRequest(testCluster, req, key("alice")); err != nil {
		t.Fatal(err)
	}
	k := req.Key
	wantJSON := `{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:00Z","id":"r-1","action":"blink","params":{"duration":"2s","pin":"\u003c17\u003e"},"key":"` + k + `","sig":"` + req.Sig + `"}`
	if got := string(mustJSON(t, req)); got != wantJSON {
		t.Errorf("request JSON:\n got %s\nwant %s", got, wantJSON)
	}
	// Members sorted, no whitespace, no HTML escaping, sig left out.
	wantSign := "pact/request/v1\ngreenhouse\n" +
		`{"action":"blink","cluster":"greenhouse","id":"r-1","key":"` + k + `","params":{"duration":"2s","pin":"<17>"},"ts":"2026-03-01T12:00:00Z","v":1}`
	if got := string(SignBytes(DomainRequest, testCluster, req)); got != wantSign {
		t.Errorf("sign bytes:\n got %q\nwant %q", got, wantSign)
	}
}

// Numbers in sign bytes are written as ECMAScript (and so RFC 8785) writes
// them, and survive a decode and re-encode unchanged.
func TestSignBytes_Numbers(t *testing.T) {
	for _, v := range []float64{21.5, 0.1, 1e21, 1e-7, -0, 100, 123456789.125} {
		r := &Readings{Header: Header{V: 1, Cluster: testCluster, TS: Timestamp(t0)}, Node: testNode, Readings: []Reading{{Sensor: "s", Kind: "k", Value: v}}}
		b1 := SignBytes(DomainReadings, testCluster, r)
		var back Readings
		if err := Unmarshal(mustJSON(t, r), &back); err != nil {
			t.Fatal(err)
		}
		if b2 := SignBytes(DomainReadings, testCluster, &back); string(b1) != string(b2) {
			t.Errorf("%v: sign bytes change across a round trip:\n%s\n%s", v, b1, b2)
		}
	}
	r := &Readings{Readings: []Reading{{Value: 1e21}, {Value: 0.000001}, {Value: 1e-7}}}
	got := string(SignBytes(DomainReadings, testCluster, r))
	if !strings.Contains(got, `"value":1e+21`) || !strings.Contains(got, `"value":0.000001`) || !strings.Contains(got, `"value":1e-7`) {
		t.Errorf("numbers not in ECMAScript form: %s", got)
	}
}

func TestCertificateOf(t *testing.T) {
	c := &consensus.Commit{Block: consensus.Block{Height: 3, Entries: []consensus.Entry{[]byte("x")}}, Round: 2,
		Votes: []consensus.CommitVote{{From: "a", Signature: []byte{0xff}}, {From: "b", Signature: []byte{0}}}}
	cert := CertificateOf(c)
	h := c.Block.Hash()
	if cert.Round != 2 || len(cert.Votes) != 2 || cert.Votes[0] != (Vote{From: "a", Sig: "/w=="}) || len(cert.Block) != 64 || !strings.HasPrefix(cert.Block, h.String()) {
		t.Errorf("CertificateOf = %+v", cert)
	}
}

// Every payload has v, cluster and ts.
func TestPayloads_Header(t *testing.T) {
	m := newTestMemory(t)
	if err := m.PublishDecision(&Decision{Height: 1}); err != nil {
		t.Fatal(err)
	}
	if err := m.PublishEjection(&Ejection{Node: "gh-2"}); err != nil {
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
