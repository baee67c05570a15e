package report

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

const (
	testCluster = "greenhouse"
	testNode    = "gh-1"
)

var keys sync.Map // name → ed25519.PrivateKey

// key returns a deterministic Ed25519 key for a name.
func key(name string) ed25519.PrivateKey {
	if k, ok := keys.Load(name); ok {
		return k.(ed25519.PrivateKey)
	}
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, name)
	k := ed25519.NewKeyFromSeed(seed)
	keys.Store(name, k)
	return k
}

func pub(name string) ed25519.PublicKey { return key(name).Public().(ed25519.PublicKey) }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// signedOutcome is outcome instance i of blink, performed by testNode.
func signedOutcome(t testing.TB, i int) *wire.Outcome {
	t.Helper()
	o, err := makeOutcome(i)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func instanceName(i int) string { return fmt.Sprintf("i-%05d", i) }

// makeOutcome is signedOutcome for goroutines other than the test's.
func makeOutcome(i int) (*wire.Outcome, error) {
	o := &wire.Outcome{
		Action:    "blink",
		Instance:  instanceName(i),
		RequestID: fmt.Sprintf("r-%05d", i),
		Performer: testNode,
		Height:    uint64(100 + i),
		OK:        true,
		Started:   wire.Timestamp(t0),
		Finished:  wire.Timestamp(t0.Add(time.Second)),
		Readback:  "high",
	}
	return o, wire.SignOutcome(testCluster, o, key(testNode))
}

// testConfig is a Reporter config for a test broker: fast retries, short
// timeouts (bounds, not speed assumptions).
func testConfig(t testing.TB, url string) Config {
	c := DefaultConfig()
	c.URL, c.Cluster, c.Node = url, testCluster, testNode
	c.ConnectRetryInterval = 100 * time.Millisecond
	c.MaxReconnectInterval = 200 * time.Millisecond
	c.ConnectTimeout = 2 * time.Second
	c.KeepAlive = 2 * time.Second
	c.PublishTimeout = 5 * time.Second
	c.Operators = map[string]ed25519.PublicKey{"alice": pub("alice")}
	c.NextBDSeq = FileBDSeq(filepath.Join(t.TempDir(), "mqtt.bdseq"))
	return c
}

// openStore opens (or reopens) a node's state file.
func openStore(t testing.TB, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path, testCluster, consensus.NodeID(testNode), nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newReporter(t testing.TB, cfg Config) *Reporter {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.Close(ctx)
	})
	return r
}

// received is one message a subscriber got.
type received struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// subscriber is a plain paho client watching a topic filter, as `pact
// watch` or a dashboard would.
type subscriber struct {
	t      testing.TB
	client mqtt.Client
	mu     sync.Mutex
	msgs   []received
	notify chan struct{}
}

func subscribe(t testing.TB, url, filter string) *subscriber {
	t.Helper()
	s := &subscriber{t: t, notify: make(chan struct{}, 1)}
	opts := mqtt.NewClientOptions().AddBroker(url).
		SetClientID(fmt.Sprintf("test-sub-%d", time.Now().UnixNano())).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	s.client = mqtt.NewClient(opts)
	if err := await(s.client.Connect()); err != nil {
		t.Fatalf("subscriber connect: %v", err)
	}
	if err := await(s.client.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) {
		s.mu.Lock()
		s.msgs = append(s.msgs, received{m.Topic(), append([]byte(nil), m.Payload()...), m.Retained()})
		s.mu.Unlock()
		select {
		case s.notify <- struct{}{}:
		default:
		}
	})); err != nil {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
	t.Cleanup(func() { s.client.Disconnect(50) })
	return s
}

// await waits for a test client's token, at most ten seconds.
func await(tok mqtt.Token) error {
	if !tok.WaitTimeout(10 * time.Second) {
		return fmt.Errorf("timed out")
	}
	return tok.Error()
}

func (s *subscriber) snapshot() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// waitFor waits until cond holds over everything received, or fails the
// test after limit (a bound for a broken run, not a speed expectation).
func (s *subscriber) waitFor(limit time.Duration, what string, cond func([]received) bool) []received {
	s.t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		msgs := s.snapshot()
		if cond(msgs) {
			return msgs
		}
		select {
		case <-s.notify:
		case <-deadline.C:
			s.t.Fatalf("after %s still waiting for %s; got %d messages", limit, what, len(msgs))
		}
	}
}

// states decodes the state messages received.
func states(t testing.TB, msgs []received) []wire.State {
	t.Helper()
	var out []wire.State
	for _, m := range msgs {
		if !strings.HasSuffix(m.Topic, "/state") {
			continue
		}
		var s wire.State
		if err := wire.Unmarshal(m.Payload, &s); err != nil {
			t.Fatalf("state payload %s: %v", m.Payload, err)
		}
		out = append(out, s)
	}
	return out
}

// hasState reports whether a state with that value and bdseq arrived.
func hasState(t testing.TB, msgs []received, st wire.NodeState, bdseq uint64) bool {
	for _, s := range states(t, msgs) {
		if s.State == st && s.BDSeq == bdseq {
			return true
		}
	}
	return false
}

// distinctOutcomes counts outcomes by (action, instance), as a subscriber
// deduplicates them, decoding each and verifying the signature of every
// verifyEvery-th (signatures have their own tests; under -race a
// verification costs over a millisecond).
func distinctOutcomes(t testing.TB, msgs []received, verifyEvery int) int {
	t.Helper()
	d := wire.NewDedup(1 << 20)
	for i, m := range msgs {
		if !strings.Contains(m.Topic, "/outcomes/") {
			continue
		}
		o, err := wire.DecodeOutcome(m.Payload)
		if err != nil {
			t.Fatalf("outcome %s: %v", m.Topic, err)
		}
		if i%verifyEvery == 0 {
			if err := wire.VerifyOutcome(testCluster, o, pub(testNode)); err != nil {
				t.Fatalf("outcome %s: %v", m.Topic, err)
			}
		}
		if m.Topic != (wire.Topics{Cluster: testCluster}).Outcome(o.Action, o.Instance) {
			t.Fatalf("outcome %s/%s on topic %s", o.Action, o.Instance, m.Topic)
		}
		d.First(o.Action, o.Instance)
	}
	return d.Len()
}

// distinctTopics counts the distinct topics received that contain part;
// cheap enough to run on every message, unlike distinctOutcomes.
func distinctTopics(msgs []received, part string) int {
	seen := map[string]bool{}
	for _, m := range msgs {
		if strings.Contains(m.Topic, part) {
			seen[m.Topic] = true
		}
	}
	return len(seen)
}

// waitStats waits until cond holds over the reporter's Stats.
func waitStats(t testing.TB, r *Reporter, limit time.Duration, what string, cond func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s := r.Stats()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s still waiting for %s; stats %+v", limit, what, s)
		}
		<-tick.C
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
