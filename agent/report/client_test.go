package report

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// The birth carries the connection's bdseq; when the connection dies
// without a goodbye the broker publishes the will, "lost", with the same
// bdseq; the reconnection is born with the next one; a clean Close leaves
// "disconnected" retained; and the counter survives a restart.
func TestReporter_BirthAndWill(t *testing.T) {
	b := startBroker(t)
	p := newProxy(t, b.Addr())
	sub := subscribe(t, b.URL(), wire.Topics{Cluster: testCluster}.State(testNode))

	cfg := testConfig(t, p.URL())
	r := newReporter(t, cfg)
	sub.waitFor(10*time.Second, "ready with bdseq 0", func(m []received) bool { return hasState(t, m, wire.StateReady, 0) })

	p.Cut() // the TCP connection dies under paho; no DISCONNECT reaches the broker
	msgs := sub.waitFor(10*time.Second, "lost 0, then ready 1", func(m []received) bool {
		return hasState(t, m, wire.StateLost, 0) && hasState(t, m, wire.StateReady, 1)
	})
	// The death of connection 0 comes before the birth of connection 1.
	order := states(t, msgs)
	lostAt, readyAt := -1, -1
	for i, s := range order {
		if s.State == wire.StateLost && s.BDSeq == 0 {
			lostAt = i
		}
		if s.State == wire.StateReady && s.BDSeq == 1 {
			readyAt = i
		}
	}
	if lostAt > readyAt {
		t.Errorf("lost 0 arrived after ready 1: %+v", order)
	}
	if st := r.Stats(); st.Connects < 2 || st.ConnectionsLost < 1 || st.BDSeq != 1 {
		t.Errorf("stats after a cut: %+v", st)
	}
	// The new connection subscribed to requests again on its own.
	operator := subscribe(t, b.URL(), "unused/topic")
	if err := await(operator.client.Publish(wire.Topics{Cluster: testCluster}.Request("blink"), 1, false, mustJSON(t, signedRequest(t, "r-after-cut")))); err != nil {
		t.Fatal(err)
	}
	select {
	case in := <-r.Requests():
		if in.Request.ID != "r-after-cut" {
			t.Errorf("delivered %+v", in.Request)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no request delivered after the reconnection; stats %+v", r.Stats())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	// A new subscriber finds the goodbye retained, not the will.
	later := subscribe(t, b.URL(), wire.Topics{Cluster: testCluster}.State(testNode))
	got := later.waitFor(10*time.Second, "retained state", func(m []received) bool { return len(m) > 0 })
	if s := states(t, got)[0]; s.State != wire.StateDisconnected || s.BDSeq != 1 || !got[0].Retained {
		t.Errorf("retained state after Close = %+v (retained %v), want disconnected with bdseq 1", s, got[0].Retained)
	}

	// The next process continues the count from the file.
	r2 := newReporter(t, cfg)
	later.waitFor(10*time.Second, "ready with bdseq 2", func(m []received) bool { return hasState(t, m, wire.StateReady, 2) })
	_ = r2
}

// A subscriber that connects after the node finds its state and its signed
// capability document retained.
func TestReporter_RetainedStateAndCapabilities(t *testing.T) {
	b := startBroker(t)
	r := newReporter(t, testConfig(t, b.URL()))
	waitStats(t, r, 10*time.Second, "birth", func(s Stats) bool { return s.Published >= 1 })
	doc := &capability.Document{
		Cluster: testCluster, Node: testNode, Zone: "greenhouse",
		Outputs: []capability.Output{{Name: "led", Kind: "led"}},
		Sensors: []capability.Sensor{{Name: "air", Kind: "temperature", Unit: "°C"}},
		Seq:     3,
	}
	doc.Sign(key(testNode))
	if err := r.PublishCapabilities(doc); err != nil {
		t.Fatal(err)
	}
	waitStats(t, r, 10*time.Second, "capabilities published", func(s Stats) bool { return s.Published >= 2 })

	sub := subscribe(t, b.URL(), "pact/"+testCluster+"/nodes/"+testNode+"/+")
	got := sub.waitFor(10*time.Second, "retained state and capabilities", func(m []received) bool { return len(m) >= 2 })
	for _, m := range got {
		if !m.Retained {
			t.Errorf("%s arrived not retained", m.Topic)
		}
		switch m.Topic {
		case wire.Topics{Cluster: testCluster}.State(testNode):
			var s wire.State
			if err := wire.Unmarshal(m.Payload, &s); err != nil || s.State != wire.StateReady || s.Node != testNode {
				t.Errorf("state %s: %+v %v", m.Payload, s, err)
			}
		case wire.Topics{Cluster: testCluster}.Capabilities(testNode):
			var c wire.Capabilities
			if err := wire.Unmarshal(m.Payload, &c); err != nil {
				t.Fatalf("capabilities %s: %v", m.Payload, err)
			}
			if err := c.Document.Verify(testCluster); err != nil {
				t.Errorf("capability signature: %v", err)
			}
			if _, err := wire.ParseTime(c.TS); err != nil {
				t.Errorf("capabilities ts %q: %v", c.TS, err)
			}
		default:
			t.Errorf("unexpected topic %s", m.Topic)
		}
	}
}

// A decision goes through the outbox to a live subscriber at QoS 1, with
// its certificate.
func TestReporter_DecisionReachesSubscriber(t *testing.T) {
	b := startBroker(t)
	sub := subscribe(t, b.URL(), wire.Topics{Cluster: testCluster}.Decisions(testNode))
	st := openStore(t, filepath.Join(t.TempDir(), "pact.db"))
	defer st.Close()
	cfg := testConfig(t, b.URL())
	cfg.Outbox = st.Outbox()
	r := newReporter(t, cfg)
	commit := &consensus.Commit{Block: consensus.Block{Height: 9}, Round: 0, Votes: []consensus.CommitVote{{From: "gh-2", Signature: []byte{7}}}}
	if err := r.PublishDecision(&wire.Decision{Height: 9, Entries: []wire.DecisionEntry{{Type: wire.EntryAssign, Action: "blink", Instance: "i-1", RequestID: "r-1", Performer: "gh-3"}}, Certificate: wire.CertificateOf(commit)}); err != nil {
		t.Fatal(err)
	}
	got := sub.waitFor(10*time.Second, "the decision", func(m []received) bool { return len(m) == 1 })
	var d wire.Decision
	if err := wire.Unmarshal(got[0].Payload, &d); err != nil {
		t.Fatal(err)
	}
	if got[0].Retained || d.Node != testNode || d.Height != 9 || len(d.Entries) != 1 || d.Entries[0].Performer != "gh-3" || len(d.Certificate.Votes) != 1 {
		t.Errorf("decision %s (retained %v)", got[0].Payload, got[0].Retained)
	}
	waitStats(t, r, 10*time.Second, "acknowledged", func(s Stats) bool { return s.Delivered == 1 && s.Pending == 0 })
}

// Outcomes and ejections published while the broker is down wait in the
// outbox and reach the broker once it is back (on the same port, with its
// persistence); a subscriber finds them retained.
func TestReporter_OutboxSurvivesBrokerOutage(t *testing.T) {
	b := startBroker(t)
	st := openStore(t, filepath.Join(t.TempDir(), "pact.db"))
	defer st.Close()
	cfg := testConfig(t, b.URL())
	cfg.Outbox = st.Outbox()
	r := newReporter(t, cfg)
	waitStats(t, r, 10*time.Second, "connected", func(s Stats) bool { return s.Connected })

	b.Stop()
	waitStats(t, r, 10*time.Second, "disconnected", func(s Stats) bool { return !s.Connected })
	const n = 20
	for i := range n {
		if err := r.PublishOutcome(signedOutcome(t, i)); err != nil {
			t.Fatalf("publish while the broker is down: %v", err)
		}
	}
	if err := r.PublishEjection(&wire.Ejection{Node: "gh-4", Height: 77, Reason: "equivocation"}); err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Pending != n+1 || s.Queued != n+1 {
		t.Fatalf("while the broker is down: %+v, want %d pending", s, n+1)
	}

	b.Start()
	waitStats(t, r, 20*time.Second, "outbox drained", func(s Stats) bool { return s.Pending == 0 && s.Delivered == n+1 })
	sub := subscribe(t, b.URL(), "pact/"+testCluster+"/#")
	got := sub.waitFor(10*time.Second, "retained outcomes and ejection", func(m []received) bool {
		return distinctTopics(m, "/outcomes/") == n && hasTopic(m, wire.Topics{Cluster: testCluster}.Ejection("gh-4"))
	})
	if d := distinctOutcomes(t, got, 1); d != n {
		t.Errorf("%d distinct signed outcomes, want %d", d, n)
	}
	for _, m := range got {
		if strings.Contains(m.Topic, "/outcomes/") && !m.Retained {
			t.Errorf("outcome %s not retained", m.Topic)
		}
	}
}

// Outcomes queued by one reporter process while the broker is away are
// delivered by the next process on the same state file.
func TestReporter_OutboxSurvivesRestart(t *testing.T) {
	b := startBroker(t)
	b.Stop() // its port is where the agent's broker will be
	path := filepath.Join(t.TempDir(), "pact.db")
	cfg := testConfig(t, b.URL())

	st := openStore(t, path)
	cfg.Outbox = st.Outbox()
	r1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := range n {
		if err := r1.PublishOutcome(signedOutcome(t, i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r1.Close(ctx); err != nil {
		t.Fatalf("close without a broker: %v", err)
	}
	if s := r1.Stats(); s.Pending != n || s.Delivered != 0 {
		t.Fatalf("first process: %+v", s)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st2 := openStore(t, path)
	defer st2.Close()
	cfg.Outbox = st2.Outbox()
	r2 := newReporter(t, cfg)
	b.Start()
	waitStats(t, r2, 20*time.Second, "outbox drained", func(s Stats) bool { return s.Pending == 0 && s.Delivered == n })
	sub := subscribe(t, b.URL(), "pact/"+testCluster+"/outcomes/#")
	got := sub.waitFor(10*time.Second, "all outcomes", func(m []received) bool { return distinctTopics(m, "/outcomes/") == n })
	if d := distinctOutcomes(t, got, 1); d != n {
		t.Errorf("%d distinct signed outcomes, want %d", d, n)
	}
}

func hasTopic(msgs []received, topic string) bool {
	for _, m := range msgs {
		if m.Topic == topic {
			return true
		}
	}
	return false
}

// burstSize is the QoS 1 burst that lost 11.7% with mosquitto's default
// max_queued_messages (FIELD-NOTES.md); -short (the arm64 run under qemu)
// sends a tenth.
func burstSize() int {
	if testing.Short() {
		return 500
	}
	return 5000
}

// burstWorkers publish a burst together, as the agent's performers would,
// so the outbox's group commit shares fsyncs between them.
const burstWorkers = 16

// publishConcurrently signs and publishes outcomes 0..n-1 from workers
// goroutines, each taking every workers-th one.
func publishConcurrently(t testing.TB, r *Reporter, n, workers int) {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				o, err := makeOutcome(i)
				if err == nil {
					err = r.PublishOutcome(o)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// Every outcome of a burst reaches a live subscriber (none dropped by the
// broker's queue limit) and leaves the outbox.
func TestReporter_OutcomeBurst(t *testing.T) {
	b := startBroker(t)
	n := burstSize()
	sub := subscribe(t, b.URL(), "pact/"+testCluster+"/outcomes/#")
	st := openStore(t, filepath.Join(t.TempDir(), "pact.db"))
	defer st.Close()
	cfg := testConfig(t, b.URL())
	cfg.Outbox = st.Outbox()
	r := newReporter(t, cfg)

	start := time.Now()
	publishConcurrently(t, r, n, burstWorkers)
	queued := time.Since(start)
	got := sub.waitFor(60*time.Second, "every outcome", func(m []received) bool { return distinctTopics(m, "/outcomes/") == n })
	arrived := time.Since(start)
	if d := distinctOutcomes(t, got, 50); d != n {
		t.Errorf("%d distinct signed outcomes, want %d", d, n)
	}
	s := waitStats(t, r, 10*time.Second, "outbox drained", func(s Stats) bool { return s.Pending == 0 })
	t.Logf("%d outcomes: queued (fsynced) in %s, all at the subscriber after %s; stats %+v",
		n, queued.Round(time.Millisecond), arrived.Round(time.Millisecond), s)
	if s.Delivered != uint64(n) {
		t.Errorf("delivered %d, want %d", s.Delivered, n)
	}
}

// signedRequest is a blink request signed by operator alice.
func signedRequest(t testing.TB, id string) *wire.Request {
	t.Helper()
	req := &wire.Request{Header: wire.Header{TS: wire.Timestamp(t0)}, ID: id, Action: "blink", Params: map[string]string{"duration": "2s"}}
	if err := wire.SignRequest(testCluster, req, key("alice")); err != nil {
		t.Fatal(err)
	}
	return req
}

// Broken and forged requests are answered on errors and counted; the
// reporter keeps running and still delivers the good request that follows.
func TestReporter_BadRequestsAnsweredOnErrors(t *testing.T) {
	b := startBroker(t)
	r := newReporter(t, testConfig(t, b.URL()))
	waitStats(t, r, 10*time.Second, "birth", func(s Stats) bool { return s.Published >= 1 })
	errs := subscribe(t, b.URL(), wire.Topics{Cluster: testCluster}.Errors())
	operator := subscribe(t, b.URL(), "unused/topic") // a plain client that publishes requests
	send := func(action string, payload []byte) {
		t.Helper()
		if err := await(operator.client.Publish(wire.Topics{Cluster: testCluster}.Request(action), 1, false, payload)); err != nil {
			t.Fatal(err)
		}
	}

	forged := signedRequest(t, "r-forged")
	forged.Params["duration"] = "1h" // altered after signing
	cases := []struct {
		payload []byte
		id      string // request_id the reply must carry
		want    string // in the reply's error
	}{
		{[]byte(`{not json`), "", "malformed"},
		{[]byte(`{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:00Z","id":"r-extra","action":"blink","params":{},"colour":"red"}`), "r-extra", `unknown field "colour"`},
		{mustJSON(t, forged), "r-forged", "bad signature"},
	}
	for _, c := range cases {
		send("blink", c.payload)
	}
	got := errs.waitFor(10*time.Second, "three error reports", func(m []received) bool { return len(m) >= 3 })
	var replies []wire.ErrorReport
	for _, m := range got {
		var e wire.ErrorReport
		if err := wire.Unmarshal(m.Payload, &e); err != nil {
			t.Fatalf("error report %s: %v", m.Payload, err)
		}
		if e.Node != testNode || e.V != 1 || e.Cluster != testCluster || e.Topic != (wire.Topics{Cluster: testCluster}).Request("blink") {
			t.Errorf("error report %+v", e)
		}
		replies = append(replies, e)
	}
	// Requests are handled concurrently (SetOrderMatters(false)), so the
	// replies may come in any order.
	for i, c := range cases {
		found := false
		for _, e := range replies {
			found = found || (e.RequestID == c.id && strings.Contains(e.Error, c.want))
		}
		if !found {
			t.Errorf("no reply to case %d with request_id %q and an error with %q in %+v", i, c.id, c.want, replies)
		}
	}
	s := r.Stats()
	if s.RequestsMalformed != 2 || s.RequestsRefused != 1 || s.RequestsDelivered != 0 {
		t.Errorf("counters after bad requests: %+v", s)
	}

	good := signedRequest(t, "r-good")
	send("blink", mustJSON(t, good))
	select {
	case in := <-r.Requests():
		if in.Request.ID != "r-good" || in.Operator != "alice" || in.Request.Params["duration"] != "2s" {
			t.Errorf("delivered %+v", in)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the good request was not delivered; stats %+v", r.Stats())
	}
}

// The retained record of this node's ejection, published by the honest
// nodes, turns its own state to ejected: cut off from the cluster, it may
// never hear of the ejection otherwise.
func TestReporter_LearnsItsEjection(t *testing.T) {
	b := startBroker(t)
	r := newReporter(t, testConfig(t, b.URL()))
	waitStats(t, r, 10*time.Second, "birth", func(s Stats) bool { return s.Published >= 1 })
	other := newReporter(t, func() Config { c := testConfig(t, b.URL()); c.Node = "gh-2"; return c }())
	waitStats(t, other, 10*time.Second, "the other node's birth", func(s Stats) bool { return s.Published >= 1 })
	if err := other.PublishEjection(&wire.Ejection{Node: testNode, Height: 9, Reason: "equivocation", Evidence: []wire.Evidence{}}); err != nil {
		t.Fatal(err)
	}
	sub := subscribe(t, b.URL(), wire.Topics{Cluster: testCluster}.State(testNode))
	sub.waitFor(10*time.Second, "state ejected", func(m []received) bool {
		for _, s := range states(t, m) {
			if s.State == wire.StateEjected {
				return true
			}
		}
		return false
	})
}
