package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/agent/wire"
)

// requestNet is a testnet whose agent files point at a test broker.
type requestNet struct {
	url, dir, agentFile string
	cluster             *config.Cluster
}

func newRequestNet(t *testing.T) *requestNet {
	t.Helper()
	url := startMosquitto(t)
	dir := newTestnet(t, "--nodes", "3", "--mqtt", url)
	agentFile := filepath.Join(dir, "node-1", "pact.yaml")
	_, cluster, err := config.Load(agentFile)
	if err != nil {
		t.Fatal(err)
	}
	return &requestNet{url: url, dir: dir, agentFile: agentFile, cluster: cluster}
}

// clusterReply is one message a fake cluster publishes in answer to a request.
type clusterReply struct {
	topic   string
	payload []byte
}

// fakeCluster answers every request on the broker with what answer
// returns, as the agents would: checked against the operators' keys, the
// outcome on outcomes/<action>/<instance>. It records the requests.
func (n *requestNet) fakeCluster(t *testing.T, answer func(req *wire.Request) []clusterReply) <-chan *wire.Request {
	t.Helper()
	tool := testPublisher(t, n.url)
	in := make(chan []byte, 16)
	seen := make(chan *wire.Request, 16)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := tool.Subscribe(ctx, wire.Topics{Cluster: n.cluster.Name}.Requests(), 1, func(_ string, p []byte, _ bool) { in <- p }); err != nil {
		t.Fatal(err)
	}
	go func() {
		for p := range in {
			req, err := wire.DecodeRequest(p)
			if err != nil {
				t.Errorf("the request does not decode: %v", err)
				continue
			}
			if err := wire.VerifyRequest(n.cluster.Name, req, n.cluster.OperatorKeys(), n.cluster.AllowUnsignedRequests); err != nil {
				t.Errorf("the request does not verify: %v", err)
			}
			seen <- req
			for _, r := range answer(req) {
				pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if err := tool.Publish(pctx, r.topic, 1, true, r.payload); err != nil {
					t.Errorf("publish %s: %v", r.topic, err)
				}
				cancel()
			}
		}
	}()
	return seen
}

// outcome is the outcome of req by performer, signed with signer's key.
func (n *requestNet) outcome(t *testing.T, req *wire.Request, performer string, signer ed25519.PrivateKey, ok bool) clusterReply {
	t.Helper()
	started := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	o := &wire.Outcome{
		Action: req.Action, Instance: agreed.InstanceID(n.cluster.Name, req.ID), RequestID: req.ID, Performer: performer, Height: 12, OK: ok,
		Started: wire.Timestamp(started), Finished: wire.Timestamp(started.Add(1020 * time.Millisecond)), Readback: "high",
	}
	if !ok {
		o.Error, o.Readback = "the led did not read back high", "low"
	}
	if err := wire.SignOutcome(n.cluster.Name, o, signer); err != nil {
		t.Fatal(err)
	}
	return clusterReply{wire.Topics{Cluster: n.cluster.Name}.Outcome(o.Action, o.Instance), mustJSONOf(t, o)}
}

func TestRequest_WaitPrintsASignedOutcome(t *testing.T) {
	n := newRequestNet(t)
	seen := n.fakeCluster(t, func(req *wire.Request) []clusterReply {
		return []clusterReply{n.outcome(t, req, "node-2", testnetNodeKey(t, n.dir, "node-2"), true)}
	})
	code, stdout, stderr := runCLI(t, "request", "--config", n.agentFile, "blink", "--param", "duration=2s", "--id", "r-42", "--wait", "30s")
	if code != exitOK {
		t.Fatalf("exit %d; stdout %s; stderr %s", code, stdout, stderr)
	}
	inst := agreed.InstanceID(n.cluster.Name, "r-42")
	want := "request r-42 for blink (instance " + inst + ") signed by operator operator, published to pact/" + n.cluster.Name + "/requests/blink\n" +
		"blink " + inst + " performed by node-2 at height 12: ok in 1.02s (readback high)\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	req := <-seen
	if req.ID != "r-42" || req.Params["duration"] != "2s" || req.Key == "" {
		t.Errorf("request on the broker = %+v", req)
	}
}

// ok=false exits 1 with its error; --json prints the outcome as published.
func TestRequest_FailedOutcomeExits1(t *testing.T) {
	n := newRequestNet(t)
	n.fakeCluster(t, func(req *wire.Request) []clusterReply {
		return []clusterReply{n.outcome(t, req, "node-3", testnetNodeKey(t, n.dir, "node-3"), false)}
	})
	code, stdout, stderr := runCLI(t, "request", "--config", n.agentFile, "--json", "blink", "--wait", "30s")
	if code != exitFailure {
		t.Fatalf("exit %d, want 1; stdout %s; stderr %s", code, stdout, stderr)
	}
	var o wire.Outcome
	if err := wire.Unmarshal([]byte(strings.TrimSpace(stdout)), &o); err != nil || o.OK || o.Performer != "node-3" {
		t.Errorf("stdout is not the outcome: %q (%v)", stdout, err)
	}
	if !strings.Contains(stderr, "failed on node-3: the led did not read back high") {
		t.Errorf("stderr = %q", stderr)
	}
}

// A forged outcome (the broker is open to anyone) is set aside; the
// performer's own follows and decides.
func TestRequest_ForgedOutcomeIsIgnored(t *testing.T) {
	n := newRequestNet(t)
	_, mallory, _ := ed25519.GenerateKey(nil)
	n.fakeCluster(t, func(req *wire.Request) []clusterReply {
		forged := n.outcome(t, req, "node-2", mallory, true)
		forged.topic = wire.Topics{Cluster: n.cluster.Name}.Outcome(req.Action, "i-forged")
		return []clusterReply{forged, n.outcome(t, req, "node-2", testnetNodeKey(t, n.dir, "node-2"), false)}
	})
	code, stdout, stderr := runCLI(t, "request", "--config", n.agentFile, "blink", "--wait", "30s")
	if code != exitFailure || !strings.Contains(stdout, "FAILED after 1.02s: the led did not read back high (readback low)") {
		t.Errorf("exit %d, stdout %q: want the genuine failed outcome", code, stdout)
	}
	if !strings.Contains(stderr, "ignoring an outcome of") || !strings.Contains(stderr, "bad signature") {
		t.Errorf("stderr = %q, want the forged outcome named", stderr)
	}
}

// An outcome by a node the cluster file does not list cannot be checked,
// and the line says so.
func TestRequest_PerformerNotInTheClusterFile(t *testing.T) {
	n := newRequestNet(t)
	_, stranger, _ := ed25519.GenerateKey(nil)
	n.fakeCluster(t, func(req *wire.Request) []clusterReply {
		return []clusterReply{n.outcome(t, req, "node-9", stranger, true)}
	})
	code, stdout, stderr := runCLI(t, "request", "--config", n.agentFile, "blink", "--wait", "30s")
	if code != exitOK || !strings.Contains(stdout, "performed by node-9 at height 12: ok in 1.02s (readback high); signature not checked (performer not in the cluster file)") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// A node that refuses the request says so on errors: exit 1.
func TestRequest_RefusalOnErrorsExits1(t *testing.T) {
	n := newRequestNet(t)
	n.fakeCluster(t, func(req *wire.Request) []clusterReply {
		other := wire.ErrorReport{Header: wire.Header{V: 1, Cluster: n.cluster.Name, TS: wire.Timestamp(time.Now())}, RequestID: "r-other", Node: "node-1", Error: "not this one"}
		mine := other
		mine.RequestID, mine.Error = req.ID, "request id already taken"
		return []clusterReply{{wire.Topics{Cluster: n.cluster.Name}.Errors(), mustJSONOf(t, other)}, {wire.Topics{Cluster: n.cluster.Name}.Errors(), mustJSONOf(t, mine)}}
	})
	code, _, stderr := runCLI(t, "request", "--config", n.agentFile, "blink", "--id", "r-7", "--wait", "30s")
	if code != exitFailure || stderr != "pact request: node-1 refused request r-7: request id already taken\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// A node that was catching up refuses the broker's late copy of a request
// the cluster already decided. With an id of its own making, the command
// knows that refusal is no answer and waits for the outcome; with --id it
// may be a reused id, and the refusal is the answer.
func TestRequest_LateCopyRefusalIsNoAnswer(t *testing.T) {
	n := newRequestNet(t)
	n.fakeCluster(t, func(req *wire.Request) []clusterReply {
		late := wire.ErrorReport{Header: wire.Header{V: 1, Cluster: n.cluster.Name, TS: wire.Timestamp(time.Now())}, RequestID: req.ID, Node: "node-3",
			Error: "request id " + req.ID + " was already used (decided at height 12): a replayed request is never run again"}
		return []clusterReply{{wire.Topics{Cluster: n.cluster.Name}.Errors(), mustJSONOf(t, late)}, n.outcome(t, req, "node-2", testnetNodeKey(t, n.dir, "node-2"), true)}
	})
	code, stdout, stderr := runCLI(t, "request", "--config", n.agentFile, "blink", "--wait", "30s")
	if code != exitOK || !strings.Contains(stdout, "performed by node-2") {
		t.Errorf("fresh id: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, "request", "--config", n.agentFile, "blink", "--id", "r-reused", "--wait", "30s")
	if code != exitFailure || !strings.Contains(stderr, "node-3 refused request r-reused") {
		t.Errorf("--id: exit %d, stderr %q", code, stderr)
	}
}

func TestRequest_TimeoutExits1(t *testing.T) {
	n := newRequestNet(t)
	code, _, stderr := runCLI(t, "request", "--config", n.agentFile, "blink", "--id", "r-8", "--wait", "200ms")
	if code != exitFailure || stderr != "pact request: no outcome for request r-8 within 200ms (is the cluster up? see pact watch)\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// Without --wait the request is published and printed (--json: as it
// went out), and the command does not wait.
func TestRequest_NoWaitJSONPrintsTheRequest(t *testing.T) {
	n := newRequestNet(t)
	seen := n.fakeCluster(t, func(*wire.Request) []clusterReply { return nil })
	code, stdout, stderr := runCLI(t, "request", "--json", "blink", "--config", n.agentFile)
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	req, err := wire.DecodeRequest([]byte(strings.TrimSpace(stdout)))
	if err != nil || !strings.HasPrefix(req.ID, "r-") || len(req.ID) != 18 {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	select {
	case got := <-seen:
		if got.ID != req.ID || got.Sig != req.Sig {
			t.Errorf("published %+v, printed %+v", got, req)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the request never reached the broker")
	}
}

// With allow_unsigned_requests and no operator key, the request goes
// unsigned.
func TestRequest_UnsignedWhenTheClusterAllowsIt(t *testing.T) {
	n := newRequestNet(t)
	f, err := os.OpenFile(filepath.Join(n.dir, "cluster.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("allow_unsigned_requests: true\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Remove(filepath.Join(n.dir, "operator.key")); err != nil {
		t.Fatal(err)
	}
	n.cluster.AllowUnsignedRequests = true
	seen := n.fakeCluster(t, func(*wire.Request) []clusterReply { return nil })
	code, stdout, stderr := runCLI(t, "request", "--config", n.agentFile, "blink")
	if code != exitOK || !strings.Contains(stdout, "unsigned (the cluster allows unsigned requests)") {
		t.Fatalf("exit %d; stdout %s; stderr %s", code, stdout, stderr)
	}
	if got := <-seen; got.Key != "" || got.Sig != "" {
		t.Errorf("request carries key %q sig %q", got.Key, got.Sig)
	}
}

// Mistakes are found before the broker is contacted: exit 2, one line
// naming the problem.
func TestRequest_UsageErrors(t *testing.T) {
	dir := newTestnet(t, "--nodes", "1", "--mqtt", "tcp://127.0.0.1:1")
	agentFile := filepath.Join(dir, "node-1", "pact.yaml")
	noMQTT := newTestnet(t, "--nodes", "1")
	_, stranger, _ := ed25519.GenerateKey(nil)
	strangerKey := filepath.Join(t.TempDir(), "stranger.key")
	if err := identity.Save(strangerKey, stranger); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		mentions string
	}{
		{"no action", []string{"--config", agentFile}, "name exactly one action"},
		{"negative wait", []string{"--config", agentFile, "blink", "--wait", "-1s"}, "--wait -1s is negative"},
		{"unknown action", []string{"--config", agentFile, "dance"}, `defines no action "dance"; its actions are: blink, ventilate`},
		{"unknown param", []string{"--config", agentFile, "blink", "--param", "speed=2"}, `blink has no parameter "speed" (it takes duration)`},
		{"not a duration", []string{"--config", agentFile, "blink", "--param", "duration=soon"}, "--param duration=soon is not a duration"},
		{"too long", []string{"--config", agentFile, "blink", "--param", "duration=1h"}, "above the maximum 5s of blink"},
		{"too short", []string{"--config", agentFile, "blink", "--param", "duration=1ms"}, "below the minimum 100ms of blink"},
		{"param twice", []string{"--config", agentFile, "blink", "--param", "duration=1s", "--param", "duration=2s"}, "duration given twice"},
		{"param without value", []string{"--config", agentFile, "blink", "--param", "duration"}, `"duration" is not name=value`},
		{"bad id", []string{"--config", agentFile, "blink", "--id", "a/b"}, `--id "a/b"`},
		{"no mqtt url", []string{"--config", filepath.Join(noMQTT, "node-1", "pact.yaml"), "blink"}, "the agent file has no mqtt.url: pact request publishes to the broker"},
		{"stranger's key", []string{"--config", agentFile, "--operator-key", strangerKey, "blink"}, "is not the key of any operator"},
		{"missing key", []string{"--config", agentFile, "--operator-key", filepath.Join(dir, "none.key"), "blink"}, "pass --operator-key FILE"},
		{"unreadable config", []string{"--config", filepath.Join(dir, "none.yaml"), "blink"}, "none.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"request"}, tt.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q", stdout)
			}
			if !strings.HasPrefix(stderr, "pact request") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.mentions) {
				t.Errorf("stderr = %q, want one line mentioning %q", stderr, tt.mentions)
			}
		})
	}
}

// A broker that is not there is a failure (exit 1) naming it.
func TestRequest_UnreachableBroker(t *testing.T) {
	dir := newTestnet(t, "--nodes", "1", "--mqtt", "tcp://127.0.0.1:1")
	code, _, stderr := runCLI(t, "request", "--config", filepath.Join(dir, "node-1", "pact.yaml"), "blink")
	if code != exitFailure || !strings.Contains(stderr, "tcp://127.0.0.1:1") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestRequest_ReorderFlagsKnowsBooleans(t *testing.T) {
	fs := newFlagSet("request", "")
	fs.Bool("json", false, "")
	fs.Duration("wait", 0, "")
	fs.Var(paramFlag{}, "param", "")
	tests := []struct{ in, want []string }{
		{[]string{"--json", "blink", "--wait", "5s"}, []string{"--json", "--wait", "5s", "--", "blink"}},
		{[]string{"blink", "--param", "duration=2s", "--json"}, []string{"--param", "duration=2s", "--json", "--", "blink"}},
		{[]string{"--wait=5s", "blink"}, []string{"--wait=5s", "--", "blink"}},
		{[]string{"--json"}, []string{"--json"}},
		{[]string{"--", "-odd"}, []string{"--", "-odd"}},
	}
	for _, tt := range tests {
		if got := reorderFlagsOf(fs, tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("reorderFlagsOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRequest_InstanceIDFormula(t *testing.T) {
	// "i-" + the first 16 hex digits of SHA-256("greenhouse\nr-1").
	if got := agreed.InstanceID("greenhouse", "r-1"); len(got) != 18 || !strings.HasPrefix(got, "i-") || !wire.ValidID(got) {
		t.Errorf("agreed.InstanceID = %q", got)
	}
	if agreed.InstanceID("greenhouse", "r-1") == agreed.InstanceID("lab", "r-1") {
		t.Error("the instance id does not depend on the cluster")
	}
	b, _ := json.Marshal(agreed.InstanceID("greenhouse", "r-1"))
	if string(b) != `"i-`+sha256Hex16("greenhouse\nr-1")+`"` {
		t.Errorf("agreed.InstanceID = %s", b)
	}
}

func sha256Hex16(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:16]
}
