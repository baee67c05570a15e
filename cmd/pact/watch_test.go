package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
	"github.com/seed44533760/pact/internal/testbroker"
)

// startMosquitto starts a mosquitto of the test's own on a free port of
// 127.0.0.1 and returns its URL; it is stopped when the test ends. Without
// mosquitto the test is skipped (scripts/need-mosquitto.sh installs it).
func startMosquitto(t *testing.T) string {
	t.Helper()
	return testbroker.Start(t, testbroker.Options{NoPersistence: true}).URL()
}

// testPublisher is a broker connection for a test to publish with.
func testPublisher(t *testing.T, url string) *report.Tool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cfg := report.DefaultToolConfig()
	cfg.URL = url
	tool, err := report.DialTool(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tool.Close)
	return tool
}

func testPublish(t *testing.T, tool *report.Tool, topic string, retained bool, payload []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := tool.Publish(ctx, topic, 1, retained, payload); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer a test reads while a command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitOutput waits until out holds every one of want, failing after limit
// (a bound for a broken run, not a speed expectation).
func waitOutput(t *testing.T, out *syncBuffer, limit time.Duration, want ...string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s, missing := out.String(), ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the output still lacks %q:\n%s", limit, missing, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testnetNodeKey is a testnet node's identity key.
func testnetNodeKey(t *testing.T, dir, node string) ed25519.PrivateKey {
	t.Helper()
	k, err := identity.Load(filepath.Join(dir, node, config.IdentityFileName))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A testnet's cluster on a real broker: retained states, capabilities and
// outcomes are there before the watch starts, decisions arrive live, and
// everything is checked with the cluster file's keys.
func TestWatch_EndToEndWithMosquitto(t *testing.T) {
	url := startMosquitto(t)
	dir := newTestnet(t, "--nodes", "3", "--mqtt", url)
	_, cluster, err := config.Load(filepath.Join(dir, "node-1", "pact.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tp := wire.Topics{Cluster: cluster.Name}
	pub := testPublisher(t, url)
	now := wire.Timestamp(time.Now())
	hdr := wire.Header{V: wire.Version, Cluster: cluster.Name, TS: now}

	testPublish(t, pub, tp.State("node-1"), true, mustJSONOf(t, wire.State{Header: hdr, Node: "node-1", State: wire.StateReady, BDSeq: 7}))
	doc := &capability.Document{Cluster: cluster.Name, Node: "node-2", Zone: "greenhouse", Seq: 3, Outputs: []capability.Output{{Name: "led", Kind: "led"}}}
	doc.Sign(testnetNodeKey(t, dir, "node-2"))
	testPublish(t, pub, tp.Capabilities("node-2"), true, mustJSONOf(t, wire.Capabilities{Document: *doc, TS: now}))
	o := &wire.Outcome{Action: "blink", Instance: "i-0123456789abcdef", RequestID: "r-1", Performer: "node-3", Height: 4, OK: true,
		Started: now, Finished: now, Readback: "high"}
	if err := wire.SignOutcome(cluster.Name, o, testnetNodeKey(t, dir, "node-3")); err != nil {
		t.Fatal(err)
	}
	testPublish(t, pub, tp.Outcome(o.Action, o.Instance), true, mustJSONOf(t, o))

	var out, errOut syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"watch", "--config", filepath.Join(dir, "node-1", "pact.yaml"), "--duration", "10m"}, &out, &errOut)
	}()
	waitOutput(t, &out, 20*time.Second,
		"watching pact/"+cluster.Name+"/# on "+url+"; checking signatures with "+cluster.File(),
		"node-1 ready (bdseq 7) (retained)",
		"node-2 capabilities seq 3: zone greenhouse; outputs led(led) ✓ signed (retained)",
		"outcome blink i-0123456789abcdef performed by node-3 at height 4: ok in 0s (readback high), request r-1 ✓ signed (retained)",
	)

	// Decisions are not retained: they come live, from every node.
	block := consensus.Block{Height: 5, Entries: []consensus.Entry{[]byte("x")}}
	h := block.Hash()
	msg := consensus.SignBytes(cluster.Name, &consensus.Message{Type: consensus.MsgPrecommit, Height: 5, Round: 0, BlockHash: h})
	commit := &consensus.Commit{Block: block}
	for _, n := range []string{"node-1", "node-2", "node-3"} {
		commit.Votes = append(commit.Votes, consensus.CommitVote{From: consensus.NodeID(n), Signature: ed25519.Sign(testnetNodeKey(t, dir, n), msg)})
	}
	for _, n := range []string{"node-1", "node-2", "node-3"} {
		d := wire.Decision{Header: hdr, Node: n, Height: 5, Entries: blinkAssign, Certificate: wire.CertificateOf(commit)}
		testPublish(t, pub, tp.Decisions(n), false, mustJSONOf(t, d))
	}
	testPublish(t, pub, tp.Errors(), false, []byte(`{"v":1}`))
	waitOutput(t, &out, 20*time.Second,
		"height 5 decided in round 0, block "+h.String()+", published by node-1 ✓ signed (3 valid votes)",
		"    assign blink i-1 → node-3 (request r-1)",
		"height 5 confirmed by all 3 validators",
		"malformed "+tp.Errors()+": ",
	)
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("exit %d after an interrupt, want 0; stderr: %s", c, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("pact watch did not return after its context ended")
	}
}

// --duration ends the watch by itself, with exit 0; --json prints only
// JSON.
func TestWatch_DurationEndsIt(t *testing.T) {
	url := startMosquitto(t)
	start := time.Now()
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"watch", "--mqtt", url, "--cluster", "lab", "--json", "--duration", "100ms"}, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, errOut.String())
	}
	if out.Len() != 0 || errOut.Len() != 0 {
		t.Errorf("a quiet broker in --json: stdout %q, stderr %q", out.String(), errOut.String())
	}
	if took := time.Since(start); took > time.Minute {
		t.Errorf("took %s", took)
	}
}

func TestWatch_UsageErrors(t *testing.T) {
	dir := newTestnet(t, "--nodes", "1")
	agentFile := filepath.Join(dir, "node-1", "pact.yaml")
	tests := []struct {
		name     string
		args     []string
		code     int
		mentions string
	}{
		{"no broker", []string{"--config", agentFile}, exitUsage, "has no mqtt.url; pass --mqtt URL"},
		{"two clusters", []string{"--config", agentFile, "--mqtt", "tcp://127.0.0.1:1", "--cluster", "other"}, exitUsage, "--cluster other, but"},
		{"bad cluster name", []string{"--mqtt", "tcp://127.0.0.1:1", "--cluster", "A/B"}, exitUsage, `--cluster "A/B"`},
		{"argument", []string{"--mqtt", "tcp://127.0.0.1:1", "extra"}, exitUsage, `unexpected argument "extra"`},
		{"negative duration", []string{"--mqtt", "tcp://127.0.0.1:1", "--duration", "-1s"}, exitUsage, "negative"},
		{"unreadable config", []string{"--config", filepath.Join(dir, "nope.yaml")}, exitUsage, "nope.yaml"},
		{"bad url", []string{"--mqtt", "http://x"}, exitUsage, "not a broker URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"watch"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q", stdout)
			}
			if !strings.HasPrefix(stderr, "pact watch") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.mentions) {
				t.Errorf("stderr = %q, want one line mentioning %q", stderr, tt.mentions)
			}
		})
	}
}
