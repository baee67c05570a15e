package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent"
	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// The evidence in these tests is built and signed here, with keys derived
// from node names, the way the agents build it; a forged piece is signed
// with the wrong key.

const evCluster = "greenhouse"

var evT0 = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)

func evKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("pact evidence test " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func evPub(name string) string { return identity.Public(evKey(name)) }

func evTS(d time.Duration) string { return wire.Timestamp(evT0.Add(d)) }

// equivocationEvidence is two prevotes of from for height 12, round 1: one
// for a block, one for nil, signed with signer and signerB.
func equivocationEvidence(from string, signer, signerB ed25519.PrivateKey) []byte {
	a := consensus.Message{Type: consensus.MsgPrevote, From: consensus.NodeID(from), Height: 12, Round: 1, BlockHash: consensus.Hash{0x3f, 0x2a, 0x1b, 0x0c}}
	b := a
	b.BlockHash = consensus.Hash{}
	a.Signature = consensus.Ed25519Signer{Key: signer}.Sign(consensus.SignBytes(evCluster, &a))
	b.Signature = consensus.Ed25519Signer{Key: signerB}.Sign(consensus.SignBytes(evCluster, &b))
	ev := consensus.Evidence{A: a, B: b}
	return ev.Marshal()
}

func evOutcome(t *testing.T, key ed25519.PrivateKey, performer string, ok bool, readback string) *wire.Outcome {
	t.Helper()
	o := &wire.Outcome{
		Header: wire.Header{TS: evTS(3 * time.Second)}, Action: "blink", Instance: "i-7", RequestID: "r-1",
		Performer: performer, Height: 12, OK: ok, Started: evTS(time.Second), Finished: evTS(3 * time.Second), Readback: readback,
	}
	if !ok {
		o.Error = "pin stuck"
	}
	if err := wire.SignOutcome(evCluster, o, key); err != nil {
		t.Fatal(err)
	}
	return o
}

func evObservation(t *testing.T, witness, performer, saw string) *wire.Observation {
	t.Helper()
	o := &wire.Observation{
		Header: wire.Header{TS: evTS(5 * time.Second)}, Node: witness, Input: "in-1", Action: "blink", Instance: "i-7",
		Performer: performer, Output: "led", Height: 12, Level: "high", Saw: saw,
		WatchedFrom: evTS(0), WatchedUntil: evTS(5 * time.Second),
	}
	if saw != "" {
		o.SeenAt = evTS(2 * time.Second)
	}
	if err := wire.SignObservation(evCluster, o, evKey(witness)); err != nil {
		t.Fatal(err)
	}
	return o
}

func evReadings(t *testing.T, node string, celsius float64) *wire.Readings {
	t.Helper()
	r := &wire.Readings{Header: wire.Header{TS: evTS(0)}, Node: node, Readings: []wire.Reading{{Sensor: "t1", Kind: "temperature", Value: celsius, Unit: "°C"}}}
	if err := wire.SignReadings(evCluster, r, evKey(node)); err != nil {
		t.Fatal(err)
	}
	return r
}

func evAccusation(t *testing.T, accuser, accused, reason, summary string, evidence any, key ed25519.PrivateKey) *wire.Accusation {
	t.Helper()
	a := &wire.Accusation{Header: wire.Header{TS: evTS(6 * time.Second)}, Node: accuser, Accused: accused, Reason: reason, Height: 40, Summary: summary}
	if evidence != nil {
		b, err := json.Marshal(evidence)
		if err != nil {
			t.Fatal(err)
		}
		a.Evidence = b
	}
	if err := wire.SignAccusation(evCluster, a, key); err != nil {
		t.Fatal(err)
	}
	return a
}

func accusedEvidence(t *testing.T, accusations ...*wire.Accusation) []byte {
	t.Helper()
	return agreed.NewAccusedEjection(accusations[0].Accused, accusations).Eject.Evidence
}

func outcomeEvidence(reason string, outcomes ...*wire.Outcome) []byte {
	return agreed.NewOutcomeEjection("node-4", reason, outcomes...).Eject.Evidence
}

// evReport is what an agent of a cluster of node-1..node-3 (node-4
// ejected) answers, with ejections to fill in.
func evReport(ejections map[string]agreed.Ejected) *agent.EjectionsReport {
	return &agent.EjectionsReport{
		Cluster: evCluster, Height: 60, Ejections: ejections,
		Validators: map[string]string{"node-1": evPub("node-1"), "node-2": evPub("node-2"), "node-3": evPub("node-3")},
	}
}

func explainOne(rep *agent.EjectionsReport, node string, genesis map[string]string) *ejectionExplanation {
	return explainEjection(rep.Cluster, node, rep.Ejections[node], newKeyring(rep, genesis))
}

func TestEvidenceExplain_Equivocation(t *testing.T) {
	k4 := evKey("node-4")
	cases := []struct {
		name      string
		evidence  []byte
		key       string
		verified  bool
		sigs      [2]bool
		inProblem string
	}{
		{"genuine", equivocationEvidence("node-4", k4, k4), evPub("node-4"), true, [2]bool{true, true}, ""},
		{"second vote forged", equivocationEvidence("node-4", k4, evKey("node-1")), evPub("node-4"), false, [2]bool{true, false}, "bad signature"},
		{"checked with another key", equivocationEvidence("node-4", k4, k4), evPub("node-2"), false, [2]bool{false, false}, "bad signature"},
		{"against someone else", equivocationEvidence("node-3", k4, k4), evPub("node-4"), false, [2]bool{false, false}, "signed as node-3 and node-3, not node-4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := evReport(map[string]agreed.Ejected{"node-4": {Height: 17, Reason: agreed.ReasonEquivocation, Evidence: c.evidence, Key: c.key}})
			x := explainOne(rep, "node-4", nil)
			if x.Verified != c.verified {
				t.Fatalf("verified = %v, want %v; problems %v", x.Verified, c.verified, x.Problems)
			}
			eq := x.Equivocation
			if eq == nil || eq.Type != "prevote" || eq.Height != 12 || eq.Round != 1 {
				t.Fatalf("equivocation = %+v", eq)
			}
			if !strings.HasPrefix(eq.Messages[0].BlockHash, "3f2a1b0c00") || eq.Messages[1].BlockHash != "nil" {
				t.Errorf("block hashes %q, %q", eq.Messages[0].BlockHash, eq.Messages[1].BlockHash)
			}
			if got := [2]bool{eq.Messages[0].SignatureOK, eq.Messages[1].SignatureOK}; got != c.sigs {
				t.Errorf("signatures ok = %v, want %v", got, c.sigs)
			}
			if c.inProblem != "" && !strings.Contains(strings.Join(x.Problems, "\n"), c.inProblem) {
				t.Errorf("problems %q lack %q", x.Problems, c.inProblem)
			}
			if !strings.Contains(x.Summary, "signed two prevotes for height 12 round 1: 3f2a1b0c vs nil") {
				t.Errorf("summary %q", x.Summary)
			}
		})
	}
}

func TestEvidenceExplain_Outcomes(t *testing.T) {
	k4 := evKey("node-4")
	okHigh := evOutcome(t, k4, "node-4", true, "high")
	failed := evOutcome(t, k4, "node-4", false, "low")
	forged := evOutcome(t, evKey("node-2"), "node-4", false, "low")
	cases := []struct {
		name      string
		reason    string
		evidence  []byte
		verified  bool
		summary   string
		inProblem string
	}{
		{"conflicting", agreed.ReasonConflictingOutcomes, outcomeEvidence(agreed.ReasonConflictingOutcomes, okHigh, failed), true,
			`signed two different outcomes for blink i-7 (height 12): ok, readback "high" vs failed "pin stuck", readback "low"`, ""},
		{"conflicting, one forged", agreed.ReasonConflictingOutcomes, outcomeEvidence(agreed.ReasonConflictingOutcomes, okHigh, forged), false,
			"signed two different outcomes", "outcome 2: bad signature"},
		{"the same outcome twice", agreed.ReasonConflictingOutcomes, outcomeEvidence(agreed.ReasonConflictingOutcomes, okHigh, okHigh), false,
			"signed two different outcomes", "the two outcomes say the same thing"},
		{"unassigned", agreed.ReasonUnassignedOutcome, outcomeEvidence(agreed.ReasonUnassignedOutcome, okHigh), true,
			`signed an outcome for blink i-7 (height 12) it was never assigned: ok, readback "high"`, ""},
		{"unassigned, forged", agreed.ReasonUnassignedOutcome, outcomeEvidence(agreed.ReasonUnassignedOutcome, forged), false,
			"never assigned", "outcome 1: bad signature"},
		{"unassigned with two", agreed.ReasonUnassignedOutcome, outcomeEvidence(agreed.ReasonUnassignedOutcome, okHigh, failed), false,
			"never assigned", "needs 1 outcomes, the evidence holds 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := evReport(map[string]agreed.Ejected{"node-4": {Height: 20, Reason: c.reason, Evidence: c.evidence, Key: evPub("node-4")}})
			x := explainOne(rep, "node-4", nil)
			if x.Verified != c.verified {
				t.Fatalf("verified = %v, want %v; problems %v", x.Verified, c.verified, x.Problems)
			}
			if !strings.Contains(x.Summary, c.summary) {
				t.Errorf("summary %q lacks %q", x.Summary, c.summary)
			}
			if c.inProblem != "" && !strings.Contains(strings.Join(x.Problems, "\n"), c.inProblem) {
				t.Errorf("problems %q lack %q", x.Problems, c.inProblem)
			}
			for _, o := range x.Outcomes {
				if o.Action != "blink" || o.Instance != "i-7" || o.Started == "" || o.Finished == "" {
					t.Errorf("outcome %+v", o.Outcome)
				}
			}
		})
	}
}

func TestEvidenceExplain_Accused(t *testing.T) {
	k1, k2, k3 := evKey("node-1"), evKey("node-2"), evKey("node-3")
	readings := []*wire.Readings{evReadings(t, "node-1", 21.0), evReadings(t, "node-2", 21.4), evReadings(t, "node-4", 35.2), evReadings(t, "node-4", 35.9)}
	readingsAcc := evAccusation(t, "node-1", "node-4", wire.AccuseReadings, "node-4's temperature was 14 °C above the median", readings, k1)
	// audit.Accusation's form: the readings under "evidence".
	auditAcc := evAccusation(t, "node-3", "node-4", wire.AccuseReadings, "node-4's temperature again", map[string]any{"node": "node-4", "kind": "temperature", "evidence": readings[2:]}, k3)
	witnessAcc := evAccusation(t, "node-2", "node-4", wire.AccuseWitness, "node-4 reported blink i-7 ok, but node-2's in-1 never saw it high",
		map[string]any{"outcome": evOutcome(t, evKey("node-4"), "node-4", true, "high"), "observation": evObservation(t, "node-2", "node-4", "")}, k2)
	rogueAcc := evAccusation(t, "node-3", "node-4", wire.AccuseRogue, "node-4's led went on with no assignment", evObservation(t, "node-3", "node-4", "high"), k3)
	effectAcc := evAccusation(t, "node-1", "node-4", wire.AccuseEffect, "node-4's last 3 ok outcomes of ventilate left the median unmoved",
		[]agent.EffectRun{{Outcome: evOutcome(t, evKey("node-4"), "node-4", true, "high"), Before: 28.1, After: 28.4, Nodes: 2, Readings: readings[:2]}}, k1)
	floodAcc := evAccusation(t, "node-3", "node-4", "flood", "node-4 sent 9000 frames in 10s", map[string]int{"frames": 9000}, k3)
	forgedAcc := evAccusation(t, "node-2", "node-4", wire.AccuseWitness, "node-4 is bad", nil, k1)
	strangerAcc := evAccusation(t, "node-9", "node-4", "flood", "node-4 floods", nil, evKey("node-9"))

	cases := []struct {
		name        string
		accusations []*wire.Accusation
		genesis     map[string]string
		verified    bool
		want        []string // in the evidence lines, in order of accuser
		inProblem   string
	}{
		{"readings and witness", []*wire.Accusation{readingsAcc, witnessAcc}, nil, true, []string{
			"4 signed readings (node-1 ×1, node-2 ×1, node-4 ×2); all 4 signatures verify",
			`node-4's outcome of blink i-7: ok, readback "high" (signature ok); node-2's in-1, wired to node-4/led, watched 2025-05-01T12:00:00.000Z to 2025-05-01T12:00:05.000Z and never saw it high (signature ok)`,
		}, ""},
		{"rogue drive", []*wire.Accusation{rogueAcc, witnessAcc}, nil, true, []string{
			"node-4's outcome of blink i-7",
			"node-3's in-1 saw node-4/led high at 2025-05-01T12:00:02.000Z with no assignment (signature ok)",
		}, ""},
		{"sensor contradiction", []*wire.Accusation{effectAcc, witnessAcc}, nil, true, []string{
			"blink i-7 ok, median 28.10 before, 28.40 after over 2 nodes; 1 signed outcomes and 2 signed readings: all 3 signatures verify",
			"node-4's outcome of blink i-7",
		}, ""},
		{"readings in audit's form", []*wire.Accusation{auditAcc, readingsAcc}, nil, true, []string{
			"4 signed readings", "2 signed readings (node-4 ×2); all 2 signatures verify",
		}, ""},
		{"flood counts are shown raw", []*wire.Accusation{floodAcc, readingsAcc}, nil, true, []string{
			"4 signed readings", `not signed payloads pact evidence can read: {"frames":9000}`,
		}, ""},
		{"a forged accusation", []*wire.Accusation{readingsAcc, forgedAcc}, nil, false, []string{
			"4 signed readings", "none attached: the accuser's word",
		}, "node-2's accusation: bad signature"},
		{"an accuser nobody knows", []*wire.Accusation{readingsAcc, strangerAcc}, nil, false, []string{
			"4 signed readings", "none attached",
		}, "node-9's key is unknown"},
		{"an accuser from the cluster file", []*wire.Accusation{readingsAcc, strangerAcc}, map[string]string{"node-9": evPub("node-9")}, true, []string{
			"4 signed readings", "none attached",
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := evReport(map[string]agreed.Ejected{"node-4": {Height: 41, Reason: agreed.ReasonAccused, Evidence: accusedEvidence(t, c.accusations...), Key: evPub("node-4")}})
			x := explainOne(rep, "node-4", c.genesis)
			if x.Verified != c.verified {
				t.Fatalf("verified = %v, want %v; problems %v", x.Verified, c.verified, x.Problems)
			}
			if len(x.Accusations) != len(c.want) {
				t.Fatalf("%d accusations explained, want %d", len(x.Accusations), len(c.want))
			}
			for i, a := range x.Accusations {
				if !strings.Contains(a.Evidence, c.want[i]) {
					t.Errorf("accusation by %s: evidence %q lacks %q", a.Accuser, a.Evidence, c.want[i])
				}
			}
			if c.inProblem != "" && !strings.Contains(strings.Join(x.Problems, "\n"), c.inProblem) {
				t.Errorf("problems %q lack %q", x.Problems, c.inProblem)
			}
			if !strings.HasPrefix(x.Summary, "accused by ") {
				t.Errorf("summary %q", x.Summary)
			}
		})
	}

	// A reading forged in the accused's name is shown as such; the
	// ejection stands on the accusers' signatures.
	bad := evReadings(t, "node-4", 35.0)
	bad.Readings[0].Value = 20
	acc := evAccusation(t, "node-1", "node-4", wire.AccuseReadings, "s", []*wire.Readings{readings[0], bad}, k1)
	rep := evReport(map[string]agreed.Ejected{"node-4": {Height: 41, Reason: agreed.ReasonAccused, Evidence: accusedEvidence(t, acc, witnessAcc), Key: evPub("node-4")}})
	x := explainOne(rep, "node-4", nil)
	if got := x.Accusations[0].Evidence; !strings.Contains(got, "1 of 2 signatures do NOT verify") {
		t.Errorf("evidence %q does not report the forged reading", got)
	}
	if r := x.Accusations[0].Readings[1]; r.SignatureOK || !strings.Contains(r.SignatureError, "bad signature") {
		t.Errorf("forged reading: %+v", r)
	}
}

// Whatever the bytes, the explanation is built: unreadable evidence is
// reported and shown raw, never a crash.
func TestEvidenceExplain_UnreadableEvidence(t *testing.T) {
	garbage := [][]byte{nil, {}, []byte("\x00\xff\x10garbage"), []byte(`{"outcomes":"no"}`), []byte(`{"accusations":[null]}`),
		[]byte(`{"outcomes":[null]}`), []byte(strings.Repeat("x", 5000)), []byte("\x1b[31mred\x1b[0m"), {0x05, 0x01, 0x02}}
	for _, reason := range []string{agreed.ReasonEquivocation, agreed.ReasonConflictingOutcomes, agreed.ReasonUnassignedOutcome, agreed.ReasonAccused, "telepathy"} {
		for i, g := range garbage {
			for _, key := range []string{evPub("node-4"), "", "not-a-key"} {
				rep := evReport(map[string]agreed.Ejected{"node-4": {Height: 3, Reason: reason, Evidence: g, Key: key}})
				x := explainOne(rep, "node-4", nil)
				if x.Verified || len(x.Problems) == 0 {
					t.Errorf("%s, garbage %d, key %q: verified %v, problems %v", reason, i, key, x.Verified, x.Problems)
				}
				var out strings.Builder
				printExplanation(&out, x)
				if strings.Contains(out.String(), "\x1b") || !strings.Contains(out.String(), "NOT VERIFIED") {
					t.Errorf("%s, garbage %d: output\n%s", reason, i, out.String())
				}
			}
		}
	}
	x := explainOne(evReport(map[string]agreed.Ejected{"node-4": {Reason: "telepathy", Evidence: []byte(strings.Repeat("y", 500))}}), "node-4", nil)
	if !strings.HasSuffix(x.Raw, "… (500 bytes)") || len(x.Raw) > 200 {
		t.Errorf("raw %q", x.Raw)
	}
	// No key recorded: the node's key is taken from the cluster file.
	k4 := evKey("node-4")
	rep := evReport(map[string]agreed.Ejected{"node-4": {Height: 17, Reason: agreed.ReasonEquivocation, Evidence: equivocationEvidence("node-4", k4, k4)}})
	x = explainOne(rep, "node-4", map[string]string{"node-4": evPub("node-4")})
	if !x.Verified || x.Key != evPub("node-4") || !strings.Contains(x.KeyFrom, "cluster file") {
		t.Errorf("verified %v, key %q from %q, problems %v", x.Verified, x.Key, x.KeyFrom, x.Problems)
	}
}

// cannedAgent serves rep on the admin API and writes an agent file that
// points at it.
func cannedAgent(t *testing.T, rep *agent.EjectionsReport) string {
	t.Helper()
	body, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+agent.AdminEjectionsPath, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return pointAgentFile(t, newTestnet(t, "--nodes", "4", "--cluster", evCluster), strings.TrimPrefix(srv.URL, "http://"))
}

// pointAgentFile makes node-1's agent file of testnet dir ask admin.
func pointAgentFile(t *testing.T, dir, admin string) string {
	t.Helper()
	file := filepath.Join(dir, "node-1", "pact.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b = regexp.MustCompile(`(?m)^admin: .*$`).ReplaceAll(b, []byte("admin: "+admin))
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestEvidence_CommandOnACannedAgent(t *testing.T) {
	k4, k5, k6 := evKey("node-4"), evKey("node-5"), evKey("node-6")
	readings := []*wire.Readings{evReadings(t, "node-1", 21.0), evReadings(t, "node-2", 21.4), evReadings(t, "node-7", 35.2)}
	witness := map[string]any{"outcome": evOutcome(t, evKey("node-7"), "node-7", true, "high"), "observation": evObservation(t, "node-2", "node-7", "")}
	rep := evReport(map[string]agreed.Ejected{
		"node-4": {Height: 17, Reason: agreed.ReasonEquivocation, Evidence: equivocationEvidence("node-4", k4, k4), Key: evPub("node-4")},
		"node-5": {Height: 23, Reason: agreed.ReasonConflictingOutcomes, Key: evPub("node-5"),
			Evidence: outcomeEvidence(agreed.ReasonConflictingOutcomes, evOutcome(t, k5, "node-5", true, "high"), evOutcome(t, evKey("node-1"), "node-5", false, "low"))},
		"node-6": {Height: 30, Reason: agreed.ReasonUnassignedOutcome, Key: evPub("node-6"),
			Evidence: outcomeEvidence(agreed.ReasonUnassignedOutcome, evOutcome(t, k6, "node-6", true, "high"))},
		"node-7": {Height: 41, Reason: agreed.ReasonAccused, Key: evPub("node-7"), Evidence: accusedEvidence(t,
			evAccusation(t, "node-1", "node-7", wire.AccuseReadings, "node-7's temperature in greenhouse was 14.0 °C above the median of 2 peers in 27 of 30 samples", readings, evKey("node-1")),
			evAccusation(t, "node-2", "node-7", wire.AccuseWitness, "node-7 reported blink i-7 ok (readback \"high\"), but node-2's in-1, wired to led, never saw it high", witness, evKey("node-2")))},
	})
	file := cannedAgent(t, rep)

	code, out, errOut := runCLI(t, "evidence", "--config", file)
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "node-4") || !strings.HasPrefix(lines[1], "node-5") ||
		!strings.Contains(lines[0], "equivocation           verified") || !strings.Contains(lines[1], "NOT VERIFIED") ||
		!strings.Contains(lines[3], "accused by node-1, node-2 (inconsistent-readings, witness-contradiction)") {
		t.Errorf("list:\n%s", out)
	}
	t.Logf("pact evidence:\n%s", out)

	for _, c := range []struct {
		node  string
		wants []string
	}{
		{"node-4", []string{
			"node-4 was ejected at height 17: equivocation",
			"verdict   verified",
			"node-4 signed two different prevotes for height 12, round 1:",
			"  A  block 3f2a1b0c00",
			"  B  block nil" + strings.Repeat(" ", 61) + "  signature ok",
		}},
		{"node-5", []string{
			"verdict   NOT VERIFIED:\n          - outcome 2: bad signature: outcome blink/i-7 from node-5",
			`  1  blink i-7 request r-1 at height 12: ok, readback "high"`,
			"     started 2025-05-01T12:00:01.000Z, finished 2025-05-01T12:00:03.000Z; signature ok",
			"; signature NOT OK",
		}},
		{"node-6", []string{"verdict   verified", "(height 12) it was never assigned", "  1  blink i-7 request r-1 at height 12"}},
		{"node-7", []string{
			"2 accusations, each signed by its accuser:",
			"  node-1 accused node-7 of inconsistent-readings at height 40 (2025-05-01T12:00:06.000Z); signature ok",
			"      evidence: 3 signed readings (node-1 ×1, node-2 ×1, node-7 ×1); all 3 signatures verify",
			"  node-2 accused node-7 of witness-contradiction",
			`      says: node-7 reported blink i-7 ok (readback "high"), but`,
			"and never saw it high (signature ok)",
		}},
	} {
		code, out, _ := runCLI(t, "evidence", c.node, "--config", file)
		for _, want := range c.wants {
			if code != exitOK || !strings.Contains(out, want) {
				t.Errorf("exit %d, output lacks %q:\n%s", code, want, out)
			}
		}
		t.Logf("pact evidence %s:\n%s", c.node, out)
	}

	code, out, _ = runCLI(t, "evidence", "--json", "--config", file, "node-5")
	var x ejectionExplanation
	if err := json.Unmarshal([]byte(out), &x); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if x.Verified || len(x.Outcomes) != 2 || !x.Outcomes[0].SignatureOK || x.Outcomes[1].SignatureOK {
		t.Errorf("node-5: %s", out)
	}

	code, out, _ = runCLI(t, "evidence", "--json", "--config", file)
	var all struct {
		Cluster   string
		Height    uint64
		Ejections []ejectionExplanation
	}
	if err := json.Unmarshal([]byte(out), &all); err != nil || code != exitOK || all.Cluster != evCluster || len(all.Ejections) != 4 {
		t.Errorf("exit %d, %v:\n%s", code, err, out)
	}

	code, out, errOut = runCLI(t, "evidence", "--config", file, "node-3")
	if code != exitFailure || out != "" || !strings.Contains(errOut, "pact evidence: node-3 has not been ejected (ejected: node-4, node-5, node-6, node-7, agreed height 60)") {
		t.Errorf("not ejected: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "evidence", "--config", file, "node-3", "node-4"); code != exitUsage || !strings.Contains(errOut, "name at most one node") {
		t.Errorf("two nodes: exit %d, %q", code, errOut)
	}
}

func TestEvidence_AgentMissingOrOld(t *testing.T) {
	dir := newTestnet(t, "--nodes", "4")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	file := pointAgentFile(t, dir, addr)
	code, _, errOut := runCLI(t, "evidence", "--config", file)
	if code != exitFailure || !strings.Contains(errOut, "pact evidence: no agent answers at "+addr) || !strings.Contains(errOut, "(is `pact agent --config "+file+"` running?)") {
		t.Errorf("no agent: exit %d, %q", code, errOut)
	}

	old := httptest.NewServer(http.NotFoundHandler())
	defer old.Close()
	file = pointAgentFile(t, dir, strings.TrimPrefix(old.URL, "http://"))
	code, _, errOut = runCLI(t, "evidence", "--config", file)
	if code != exitFailure || !strings.Contains(errOut, "does not serve /v1/ejections: it predates pact evidence; upgrade and restart it") {
		t.Errorf("old agent: exit %d, %q", code, errOut)
	}
	if strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr is not one line: %q", errOut)
	}
}

// The real endpoint: an in-process one-node agent answers GET
// /v1/ejections through its loop, and pact evidence reads it.
func TestEvidence_InProcessAgent(t *testing.T) {
	free := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	dir := newTestnet(t, "--nodes", "1", "--base-port", strconv.Itoa(free()))
	admin := "127.0.0.1:" + strconv.Itoa(free())
	file := pointAgentFile(t, dir, admin)
	acfg, cluster, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(acfg, cluster, agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the agent did not stop")
		}
	}()

	var out, errOut string
	code := -1
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if code, out, errOut = runCLI(t, "evidence", "--config", file); code == exitOK {
			break
		}
	}
	if code != exitOK || !strings.HasPrefix(out, "no node has been ejected from testnet (agreed height ") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "evidence", "--config", file, "node-3"); code != exitFailure || !strings.Contains(errOut, "node-3 has not been ejected (no node has been ejected") {
		t.Errorf("exit %d, %q", code, errOut)
	}

	client, base := agent.AdminClient(admin)
	resp, err := client.Get(base + agent.AdminEjectionsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %v", resp.Status, err)
	}
	for _, k := range []string{"cluster", "height", "ejections", "validators"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("the answer has no %q: %v", k, raw)
		}
	}
	var rep agent.EjectionsReport
	b, _ := json.Marshal(raw)
	_ = json.Unmarshal(b, &rep)
	if rep.Cluster != "testnet" || rep.Validators["node-1"] != cluster.Validators["node-1"] || rep.Ejections == nil {
		t.Errorf("report %+v", rep)
	}
}

// A frame node-4 signed, passing on a capability document it altered.
func TestEvidenceExplain_ForgedEntry(t *testing.T) {
	doc := &capability.Document{Cluster: evCluster, Node: "node-1", Key: evPub("node-1"), Zone: "greenhouse", Seq: 3}
	doc.Sign(evKey("node-1"))
	doc.Zone = "elsewhere" // after signing
	entry := (&agreed.Entry{Type: agreed.TypeAdvertise, Doc: doc}).Encode()
	sig := ed25519.Sign(evKey("node-4"), agreed.EntryFrameSignBytes(evCluster, entry))
	ev := agreed.NewForgedEntryEjection("node-4", sig, entry).Eject.Evidence
	rep := evReport(map[string]agreed.Ejected{"node-4": {Height: 9, Reason: agreed.ReasonForgedEntry, Evidence: ev, Key: evPub("node-4")}})
	x := explainOne(rep, "node-4", nil)
	if !x.Verified || x.Forged == nil || !x.Forged.FrameSignatureOK || !strings.Contains(x.Forged.Why, "node-1") {
		t.Fatalf("explanation %+v, forged %+v", x, x.Forged)
	}
	// The same frame claimed to be node-3's does not verify.
	rep.Ejections["node-3"] = agreed.Ejected{Height: 9, Reason: agreed.ReasonForgedEntry, Evidence: ev, Key: evPub("node-3")}
	if x := explainOne(rep, "node-3", nil); x.Verified {
		t.Error("a frame of node-4's verifies as node-3's")
	}
	var out bytes.Buffer
	printExplanation(&out, x)
	if !strings.Contains(out.String(), "signed a frame") {
		t.Errorf("output:\n%s", out.String())
	}
}
