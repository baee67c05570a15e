package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

const watchCluster = "greenhouse"

var watchT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// watchKey is a deterministic Ed25519 key for a name.
func watchKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("pact watch test " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// watchFile is a cluster file of four validators and one operator, built
// in code.
func watchFile() *config.Cluster {
	c := config.DefaultCluster()
	c.Name = watchCluster
	c.Validators = map[string]string{}
	for i := 1; i <= 4; i++ {
		name := fmt.Sprintf("node-%d", i)
		c.Validators[name] = identity.Public(watchKey(name))
	}
	c.Operators = map[string]string{"alice": identity.Public(watchKey("alice"))}
	return c
}

// testWatcher returns a watcher on a fixed clock and what it writes.
func testWatcher(file *config.Cluster, mod func(*watchOptions)) (*watcher, *bytes.Buffer) {
	var out bytes.Buffer
	o := watchOptions{cluster: watchCluster, file: file, now: func() time.Time { return watchT0 }}
	if mod != nil {
		mod(&o)
	}
	return newWatcher(&out, o), &out
}

var watchTopics = wire.Topics{Cluster: watchCluster}

func watchHeader() wire.Header {
	return wire.Header{V: wire.Version, Cluster: watchCluster, TS: wire.Timestamp(watchT0)}
}

func mustJSONOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func statePayload(t *testing.T, node string, s wire.NodeState, bdseq uint64) []byte {
	return mustJSONOf(t, wire.State{Header: watchHeader(), Node: node, State: s, BDSeq: bdseq})
}

// outcomeBy is a signed outcome of blink instance i-<n> performed by
// performer, signed with signer's key.
func outcomeBy(t *testing.T, n int, performer, signer string, ok bool) []byte {
	t.Helper()
	o := &wire.Outcome{
		Action: "blink", Instance: fmt.Sprintf("i-%d", n), RequestID: fmt.Sprintf("r-%d", n), Performer: performer,
		Height: 12, OK: ok, Started: wire.Timestamp(watchT0), Finished: wire.Timestamp(watchT0.Add(1020 * time.Millisecond)), Readback: "high",
	}
	if !ok {
		o.Error, o.Readback = "pin stuck low", "low"
	}
	if err := wire.SignOutcome(watchCluster, o, watchKey(signer)); err != nil {
		t.Fatal(err)
	}
	return mustJSONOf(t, o)
}

// decisionBy is node's decision at height, its certificate signed by
// voters over block (a made-up block hash).
func decisionBy(t *testing.T, node string, height uint64, block string, entries []wire.DecisionEntry, voters ...string) []byte {
	t.Helper()
	sum := sha256.Sum256([]byte(block))
	msg := consensus.SignBytes(watchCluster, &consensus.Message{Type: consensus.MsgPrecommit, Height: height, Round: 0, BlockHash: consensus.Hash(sum)})
	cert := wire.Certificate{Round: 0, Block: hex.EncodeToString(sum[:]), Votes: []wire.Vote{}}
	for _, v := range voters {
		cert.Votes = append(cert.Votes, wire.Vote{From: v, Sig: base64.StdEncoding.EncodeToString(ed25519.Sign(watchKey(v), msg))})
	}
	return mustJSONOf(t, wire.Decision{Header: watchHeader(), Node: node, Height: height, Entries: entries, Certificate: cert})
}

var blinkAssign = []wire.DecisionEntry{{Type: wire.EntryAssign, Action: "blink", Instance: "i-1", RequestID: "r-1", Performer: "node-3"}}

func outputLines(out *bytes.Buffer) []string {
	return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
}

func outputHas(t *testing.T, out, want string) {
	t.Helper()
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

func TestWatchView_NodeStatesMarkAStaleWill(t *testing.T) {
	w, out := testWatcher(nil, nil)
	w.handle(watchTopics.State("node-1"), statePayload(t, "node-1", wire.StateReady, 3), true)
	w.handle(watchTopics.State("node-1"), statePayload(t, "node-1", wire.StateLost, 2), false)
	w.handle(watchTopics.State("node-1"), statePayload(t, "node-1", wire.StateLost, 3), false)
	w.handle(watchTopics.State("node-1"), statePayload(t, "node-1", wire.StateEjected, 4), false)
	w.handle(watchTopics.State("node-1"), statePayload(t, "node-1", wire.StateDisconnected, 4), false)
	want := []string{
		"12:00:00.000 node-1 ready (bdseq 3) (retained)",
		"12:00:00.000 node-1 lost (bdseq 2): stale, the will of an older connection (the last birth is bdseq 3)",
		"12:00:00.000 node-1 lost (bdseq 3): its connection ended without a goodbye",
		"12:00:00.000 node-1 ejected (bdseq 4)",
		"12:00:00.000 node-1 disconnected (bdseq 4)",
	}
	if got := outputLines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Each signed kind, genuine and forged, with the cluster file.
func TestWatchView_SignaturesMarked(t *testing.T) {
	doc := func(node, signer string) []byte {
		d := &capability.Document{Cluster: watchCluster, Node: node, Zone: "north", Seq: 4,
			Outputs: []capability.Output{{Name: "led", Kind: "led"}}, Sensors: []capability.Sensor{{Name: "t1", Kind: "temperature", Unit: "°C"}}}
		d.Sign(watchKey(signer))
		return mustJSONOf(t, wire.Capabilities{Document: *d, TS: wire.Timestamp(watchT0)})
	}
	readings := func(node, signer string) []byte {
		r := &wire.Readings{Header: wire.Header{TS: wire.Timestamp(watchT0)}, Node: node, Readings: []wire.Reading{{Sensor: "t1", Kind: "temperature", Value: 21.5, Unit: "°C"}}}
		if err := wire.SignReadings(watchCluster, r, watchKey(signer)); err != nil {
			t.Fatal(err)
		}
		return mustJSONOf(t, r)
	}
	request := func(signer string) []byte {
		r := &wire.Request{Header: wire.Header{TS: wire.Timestamp(watchT0)}, ID: "r-9", Action: "blink", Params: map[string]string{"duration": "2s"}}
		if err := wire.SignRequest(watchCluster, r, watchKey(signer)); err != nil {
			t.Fatal(err)
		}
		return mustJSONOf(t, r)
	}
	tests := []struct {
		name, topic string
		payload     []byte
		want        string
	}{
		{"outcome", watchTopics.Outcome("blink", "i-1"), outcomeBy(t, 1, "node-3", "node-3", true),
			"outcome blink i-1 performed by node-3 at height 12: ok in 1.02s (readback high), request r-1 ✓ signed"},
		{"forged outcome", watchTopics.Outcome("blink", "i-2"), outcomeBy(t, 2, "node-3", "mallory", true),
			"✗ BAD SIGNATURE (not node-3's signature)"},
		{"outcome of a stranger", watchTopics.Outcome("blink", "i-3"), outcomeBy(t, 3, "node-9", "node-9", false),
			"FAILED after 1.02s: pin stuck low (readback low), request r-3 unverified (performer not in the cluster file)"},
		{"capabilities", watchTopics.Capabilities("node-2"), doc("node-2", "node-2"),
			"node-2 capabilities seq 4: zone north; outputs led(led); sensors t1(temperature °C) ✓ signed"},
		{"capabilities under another key", watchTopics.Capabilities("node-2"), doc("node-2", "mallory"),
			"✗ BAD SIGNATURE (signed with a key that is not node-2's)"},
		{"readings", watchTopics.Readings("node-1"), readings("node-1", "node-1"), "node-1 t1=21.5 °C ✓ signed"},
		{"forged readings", watchTopics.Readings("node-1"), readings("node-1", "node-2"), "node-1 t1=21.5 °C ✗ BAD SIGNATURE"},
		{"request", watchTopics.Request("blink"), request("alice"), "request r-9 for blink duration=2s ✓ signed (operator alice)"},
		{"request of a stranger", watchTopics.Request("blink"), request("mallory"), "✗ BAD SIGNATURE (signed by a key that is no operator's)"},
		{"decision", watchTopics.Decisions("node-1"), decisionBy(t, "node-1", 5, "b5", blinkAssign, "node-1", "node-2", "node-3"),
			"height 5 decided in round 0"},
		{"decision short of a quorum", watchTopics.Decisions("node-1"), decisionBy(t, "node-1", 6, "b6", blinkAssign, "node-1", "node-2"),
			"height 6 from node-1 ✗ BAD SIGNATURE (2 valid votes, a quorum is 3)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, out := testWatcher(watchFile(), func(o *watchOptions) { o.readings = true })
			w.handle(tt.topic, tt.payload, false)
			outputHas(t, out.String(), tt.want)
		})
	}
}

// A precommit in the certificate signed by someone else is a bad
// signature, even among enough good ones.
func TestWatchView_ForgedVoteInACertificate(t *testing.T) {
	w, out := testWatcher(watchFile(), nil)
	p := decisionBy(t, "node-1", 5, "b5", blinkAssign, "node-1", "node-2", "node-3", "node-4")
	var d wire.Decision
	if err := json.Unmarshal(p, &d); err != nil {
		t.Fatal(err)
	}
	d.Certificate.Votes[3].Sig = d.Certificate.Votes[0].Sig
	w.handle(watchTopics.Decisions("node-1"), mustJSONOf(t, d), false)
	outputHas(t, out.String(), "height 5 from node-1 ✗ BAD SIGNATURE (the precommit of node-4 does not verify)")
}

func TestWatchView_WithoutTheClusterFileNothingIsVerified(t *testing.T) {
	w, out := testWatcher(nil, nil)
	w.handle(watchTopics.Outcome("blink", "i-2"), outcomeBy(t, 2, "node-3", "mallory", true), false)
	w.handle(watchTopics.Decisions("node-1"), decisionBy(t, "node-1", 5, "b5", blinkAssign), false)
	w.handle(watchTopics.State("node-2"), statePayload(t, "node-2", wire.StateReady, 1), false)
	w.handle(watchTopics.Decisions("node-2"), decisionBy(t, "node-2", 5, "b5", blinkAssign), false)
	got := outputLines(out)
	for _, i := range []int{0, 1} {
		if !strings.HasSuffix(got[i], " unverified") {
			t.Errorf("line not marked unverified: %s", got[i])
		}
	}
	outputHas(t, out.String(), "height 5 confirmed by all 2 nodes seen")
}

// Outcomes are published at least once and retained: each shows once. A
// forged one shows every time and does not hide the genuine one.
func TestWatchView_OutcomesDeduplicated(t *testing.T) {
	w, out := testWatcher(watchFile(), nil)
	topic := watchTopics.Outcome("blink", "i-1")
	w.handle(topic, outcomeBy(t, 1, "node-3", "mallory", true), false)
	w.handle(topic, outcomeBy(t, 1, "node-3", "node-3", true), true)
	w.handle(topic, outcomeBy(t, 1, "node-3", "node-3", true), false)
	w.handle(topic, outcomeBy(t, 1, "node-3", "mallory", true), false)
	got := outputLines(out)
	if len(got) != 3 || !strings.Contains(got[0], "BAD SIGNATURE") || !strings.Contains(got[1], "✓ signed (retained)") || !strings.Contains(got[2], "BAD SIGNATURE") {
		t.Errorf("got:\n%s", out)
	}
}

// A height prints once with its entries; further nodes publishing it only
// move the count, which is shown at a quorum and at all nodes.
func TestWatchView_DecisionsGroupedByHeight(t *testing.T) {
	w, out := testWatcher(watchFile(), nil)
	entries := []wire.DecisionEntry{
		{Type: wire.EntryAssign, Action: "blink", Instance: "i-1", RequestID: "r-1", Performer: "node-3"},
		{Type: wire.EntryReassign, Action: "blink", Instance: "i-0", RequestID: "r-0", Performer: "node-2", Node: "node-4", Reason: "deadline passed"},
		{Type: wire.EntryEject, Node: "node-5", Reason: "equivocation"},
		{Type: wire.EntryAdmit, Node: "node-6", Key: identity.Public(watchKey("node-6")), Operator: "alice"},
		{Type: wire.EntryAdvertise, Node: "node-2", Seq: 4},
	}
	voters := []string{"node-1", "node-2", "node-3", "node-4"}
	for _, n := range []string{"node-1", "node-2", "node-2", "node-3", "node-4"} {
		w.handle(watchTopics.Decisions(n), decisionBy(t, n, 7, "b7", entries, voters...), false)
	}
	want := []string{
		"12:00:00.000 height 7 decided in round 0, block " + shortBlock(blockHex("b7")) + ", published by node-1 ✓ signed (4 valid votes)",
		"    assign blink i-1 → node-3 (request r-1)",
		"    reassign blink i-0 node-4 → node-2 (request r-0): deadline passed",
		"    eject node-5: equivocation",
		"    admit node-6 (key " + identity.Public(watchKey("node-6")) + ", operator alice)",
		"    advertise node-2 seq 4",
		"12:00:00.000 height 7 confirmed by 3 of 4 validators (a quorum)",
		"12:00:00.000 height 7 confirmed by all 4 validators",
	}
	if got := outputLines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// From the next height on, node-6 (admitted by a verified decision)
	// counts, and its key checks its outcomes.
	out.Reset()
	w.handle(watchTopics.Decisions("node-1"), decisionBy(t, "node-1", 8, "b8", nil, voters...), false)
	w.handle(watchTopics.Outcome("blink", "i-6"), outcomeBy(t, 6, "node-6", "node-6", true), false)
	outputHas(t, out.String(), "outcome blink i-6 performed by node-6 at height 12: ok in 1.02s (readback high), request r-6 ✓ signed")
	for _, n := range []string{"node-2", "node-3", "node-4"} {
		w.handle(watchTopics.Decisions(n), decisionBy(t, n, 8, "b8", nil, voters...), false)
	}
	outputHas(t, out.String(), "height 8 confirmed by 4 of 5 validators (a quorum)")
}

func blockHex(block string) string {
	sum := sha256.Sum256([]byte(block))
	return hex.EncodeToString(sum[:])
}

// Two nodes' decisions at one height with different blocks: a fork.
func TestWatchView_DisagreementIsLoud(t *testing.T) {
	for _, file := range []*config.Cluster{watchFile(), nil} {
		w, out := testWatcher(file, nil)
		w.handle(watchTopics.Decisions("node-1"), decisionBy(t, "node-1", 9, "b9", blinkAssign, "node-1", "node-2", "node-3"), false)
		other := []wire.DecisionEntry{{Type: wire.EntryAssign, Action: "blink", Instance: "i-1", RequestID: "r-1", Performer: "node-4"}}
		w.handle(watchTopics.Decisions("node-4"), decisionBy(t, "node-4", 9, "fork", other, "node-2", "node-3", "node-4"), false)
		outputHas(t, out.String(), "!!! DISAGREEMENT at height 9: node-4 decided block "+shortBlock(blockHex("fork"))+", node-1 decided block "+shortBlock(blockHex("b9")))
		outputHas(t, out.String(), "    assign blink i-1 → node-4 (request r-1)")
		// The same block with other entries is a lie about the block.
		w.handle(watchTopics.Decisions("node-2"), decisionBy(t, "node-2", 9, "b9", nil, "node-1", "node-2", "node-3"), false)
		outputHas(t, out.String(), "node-2 published other entries than node-1 for the same block")
	}
}

// Whatever cannot be read is named with its topic, and the watch goes on.
func TestWatchView_MalformedPayloadsKeepGoing(t *testing.T) {
	w, out := testWatcher(watchFile(), nil)
	unknown := strings.Replace(string(statePayload(t, "node-1", wire.StateReady, 1)), `"bdseq"`, `"extra":1,"bdseq"`, 1)
	cases := []struct{ topic, payload, want string }{
		{watchTopics.State("node-1"), "{not json", "malformed " + watchTopics.State("node-1") + ": malformed payload"},
		{watchTopics.State("node-1"), unknown, `unknown field "extra"`},
		{watchTopics.State("node-2"), string(statePayload(t, "node-1", wire.StateReady, 1)), `payload names node "node-1" on node-2's topic`},
		{watchTopics.State("node-1"), string(statePayload(t, "node-1", "asleep", 1)), `state "asleep"`},
		{"pact/greenhouse/nodes/node-1/mood", "{}", "malformed pact/greenhouse/nodes/node-1/mood: "},
		{watchTopics.Outcome("blink", "i-7"), string(outcomeBy(t, 1, "node-3", "node-3", true)), "on topic " + watchTopics.Outcome("blink", "i-7")},
		{watchTopics.Decisions("node-1"), strings.Replace(string(decisionBy(t, "node-1", 3, "b3", nil)), `"block":"`, `"block":"zz`, 1), "certificate.block"},
		{watchTopics.Request("blink"), `{"v":1}`, `missing field "id"`},
	}
	for _, c := range cases {
		w.handle(c.topic, []byte(c.payload), false)
	}
	w.handle(watchTopics.State("node-1"), statePayload(t, "node-1", wire.StateReady, 1), false)
	got := outputLines(out)
	if len(got) != len(cases)+1 {
		t.Fatalf("%d lines for %d messages:\n%s", len(got), len(cases)+1, out)
	}
	for i, c := range cases {
		if !strings.Contains(got[i], "malformed ") || !strings.Contains(got[i], c.want) {
			t.Errorf("line %d = %q, want malformed mentioning %q", i, got[i], c.want)
		}
	}
	outputHas(t, got[len(cases)], "node-1 ready (bdseq 1)")
}

func TestWatchView_ReadingsOnlyWhenAsked(t *testing.T) {
	r := &wire.Readings{Header: wire.Header{TS: wire.Timestamp(watchT0)}, Node: "node-1", Readings: []wire.Reading{{Sensor: "t1", Kind: "temperature", Value: 21.5, Unit: "°C"}}}
	if err := wire.SignReadings(watchCluster, r, watchKey("node-1")); err != nil {
		t.Fatal(err)
	}
	w, out := testWatcher(nil, nil)
	w.handle(watchTopics.Readings("node-1"), mustJSONOf(t, r), false)
	if out.Len() != 0 {
		t.Errorf("readings shown without --readings: %s", out)
	}
}

// Every node publishes the same retained ejection: it shows once, with
// its evidence.
func TestWatchView_EjectionOnceWithEvidence(t *testing.T) {
	w, out := testWatcher(watchFile(), nil)
	j := wire.Ejection{Header: watchHeader(), Node: "node-4", Height: 14, Reason: "equivocation at height 13",
		Evidence: []wire.Evidence{{Type: "equivocation", Summary: "node-4 precommitted 1a2b3c4d and 5e6f7a8b at h=13 r=0", Data: "AAAA"}}}
	w.handle(watchTopics.Ejection("node-4"), mustJSONOf(t, j), true)
	w.handle(watchTopics.Ejection("node-4"), mustJSONOf(t, j), false)
	want := "12:00:00.000 EJECTED node-4 at height 14: equivocation at height 13 (retained)\n" +
		"    evidence equivocation: node-4 precommitted 1a2b3c4d and 5e6f7a8b at h=13 r=0\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	// An ejected node no longer counts towards "all nodes".
	for _, n := range []string{"node-1", "node-2", "node-3"} {
		w.handle(watchTopics.Decisions(n), decisionBy(t, n, 15, "b15", nil, "node-1", "node-2", "node-3"), false)
	}
	outputHas(t, out.String(), "height 15 confirmed by all 3 validators")
}

func TestWatchView_ErrorsAndClearedTopics(t *testing.T) {
	w, out := testWatcher(nil, nil)
	e := wire.ErrorReport{Header: watchHeader(), RequestID: "r-5", Node: "node-2", Topic: watchTopics.Request("blink"), Error: "unknown operator"}
	w.handle(watchTopics.Errors(), mustJSONOf(t, e), false)
	w.handle(watchTopics.Outcome("blink", "i-1"), nil, false)
	outputHas(t, out.String(), "error from node-2 about request r-5 on pact/greenhouse/requests/blink: unknown operator")
	outputHas(t, out.String(), "cleared pact/greenhouse/outcomes/blink/i-1")
}

// Without a cluster to watch, names are learned from the topics and each
// line says its cluster.
func TestWatchView_LearnsClusters(t *testing.T) {
	w, out := testWatcher(nil, func(o *watchOptions) { o.cluster = "" })
	w.handle(watchTopics.State("node-1"), statePayload(t, "node-1", wire.StateReady, 1), false)
	w.handle(watchTopics.State("node-2"), statePayload(t, "node-2", wire.StateReady, 1), false)
	want := "12:00:00.000 cluster greenhouse (first seen on pact/greenhouse/nodes/node-1/state)\n" +
		"12:00:00.000 [greenhouse] node-1 ready (bdseq 1)\n" +
		"12:00:00.000 [greenhouse] node-2 ready (bdseq 1)\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

// --json: one object per message, verified true, false or null, the raw
// payload, confirmations for decisions, kind malformed for the unreadable.
func TestWatchView_JSONLines(t *testing.T) {
	w, out := testWatcher(watchFile(), func(o *watchOptions) { o.json = true })
	w.handle(watchTopics.State("node-1"), statePayload(t, "node-1", wire.StateReady, 1), true)
	w.handle(watchTopics.Outcome("blink", "i-1"), outcomeBy(t, 1, "node-3", "node-3", true), false)
	w.handle(watchTopics.Outcome("blink", "i-1"), outcomeBy(t, 1, "node-3", "node-3", true), false) // duplicate
	w.handle(watchTopics.Outcome("blink", "i-2"), outcomeBy(t, 2, "node-3", "mallory", true), false)
	for _, n := range []string{"node-1", "node-2", "node-3"} {
		w.handle(watchTopics.Decisions(n), decisionBy(t, n, 5, "b5", blinkAssign, "node-1", "node-2", "node-3"), false)
	}
	w.handle(watchTopics.Errors(), []byte("nope"), false)

	type obj struct {
		Time          string          `json:"time"`
		Topic         string          `json:"topic"`
		Kind          string          `json:"kind"`
		Node          string          `json:"node"`
		Verified      *bool           `json:"verified"`
		Retained      bool            `json:"retained"`
		Confirmations int             `json:"confirmations"`
		Error         string          `json:"error"`
		Payload       json.RawMessage `json:"payload"`
	}
	var got []obj
	for _, l := range outputLines(out) {
		var o obj
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("not a JSON object of the contract: %s: %v", l, err)
		}
		if !strings.Contains(l, `"verified":`) || !strings.Contains(l, `"payload":`) {
			t.Errorf("line lacks verified or payload: %s", l)
		}
		got = append(got, o)
	}
	if len(got) != 7 {
		t.Fatalf("%d lines, want 7:\n%s", len(got), out)
	}
	is := func(b *bool, want *bool) bool { return (b == nil) == (want == nil) && (b == nil || *b == *want) }
	checks := []struct {
		kind, node    string
		verified      *bool
		confirmations int
	}{
		{"state", "node-1", nil, 0},
		{"outcomes", "node-3", boolPtr(true), 0},
		{"outcomes", "node-3", boolPtr(false), 0},
		{"decisions", "node-1", boolPtr(true), 1},
		{"decisions", "node-2", boolPtr(true), 2},
		{"decisions", "node-3", boolPtr(true), 3},
		{"malformed", "", nil, 0},
	}
	for i, c := range checks {
		g := got[i]
		if g.Kind != c.kind || g.Node != c.node || !is(g.Verified, c.verified) || g.Confirmations != c.confirmations {
			t.Errorf("line %d = %+v, want %+v", i, g, c)
		}
		if g.Time != "2026-03-01T12:00:00.000Z" {
			t.Errorf("line %d time %q", i, g.Time)
		}
	}
	if !got[0].Retained || got[0].Topic != watchTopics.State("node-1") || !json.Valid(got[0].Payload) || !strings.Contains(string(got[0].Payload), `"bdseq":1`) {
		t.Errorf("state line = %+v", got[0])
	}
	if got[6].Error == "" || string(got[6].Payload) != `"nope"` {
		t.Errorf("malformed line = %+v, payload %s", got[6], got[6].Payload)
	}
}

// A witness's observation is shown with what it saw, its signature checked.
func TestWatchView_Observations(t *testing.T) {
	w, out := testWatcher(watchFile(), nil)
	obs := func(signer, saw string) []byte {
		o := &wire.Observation{Header: watchHeader(), Node: "node-2", Input: "witness", Action: "blink", Instance: "i-1",
			Performer: "node-3", Output: "led", Height: 4, Level: "high", Saw: saw}
		if saw != "" {
			o.SeenAt = wire.Timestamp(watchT0)
		}
		if err := wire.SignObservation(watchCluster, o, watchKey(signer)); err != nil {
			t.Fatal(err)
		}
		return mustJSONOf(t, o)
	}
	w.handle(watchTopics.Observations("node-2"), obs("node-2", "high"), false)
	w.handle(watchTopics.Observations("node-2"), obs("node-2", ""), false)
	w.handle(watchTopics.Observations("node-2"), obs("mallory", "high"), false)
	got := outputLines(out)
	if len(got) != 3 ||
		!strings.Contains(got[0], "witness node-2 (witness) watching node-3/led for blink i-1: saw it high") || !strings.Contains(got[0], "✓ signed") ||
		!strings.Contains(got[1], "did NOT see it high") ||
		!strings.Contains(got[2], "BAD SIGNATURE") {
		t.Errorf("got:\n%s", out)
	}
}
