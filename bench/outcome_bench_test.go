package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
	"github.com/seed44533760/pact/internal/testbroker"
)

// outcomeBurst is how many outcomes the burst publishes at once: the size
// at which mosquitto's default max_queued_messages lost 12% (FIELD-NOTES).
const outcomeBurst = 5000

// burstPublishers publish the burst side by side, as performances that end
// together would.
const burstPublishers = 8

const outcomeNode = "node-1"

// BenchmarkOutcomeDelivery measures what an agent's outcome costs from the
// moment it is handed to agent/report's Reporter (PublishOutcome: signed
// payload written to the fsynced outbox, then published at QoS 1) to its
// arrival at a paho subscriber of a real mosquitto run with
// configs/mosquitto.conf, against a bare paho QoS 1 publish of a payload of
// the same size to the same broker and subscriber. Then a burst of 5,000
// outcomes through the Reporter, counting what the subscriber received.
func BenchmarkOutcomeDelivery(b *testing.B) {
	br := testbroker.Start(b, testbroker.Options{})
	b.Run("one-at-a-time/reporter", func(b *testing.B) {
		r := newReporter(b, br)
		sub := newSubscriber(b, br, (wire.Topics{Cluster: benchCluster}).Outcome("blink", "#"))
		var i int
		lat, _ := sampleLatencies(b, func() time.Duration {
			i++
			o := signedOutcome(b, i)
			topic := (wire.Topics{Cluster: benchCluster}).Outcome(o.Action, o.Instance)
			t0 := time.Now()
			if err := r.PublishOutcome(o); err != nil {
				b.Fatal(err)
			}
			return sub.await(b, topic).Sub(t0)
		}, nil)
		reportLatencies(b, lat, 0)
	})
	b.Run("one-at-a-time/paho", func(b *testing.B) {
		pub := connect(b, br, "bench-pub")
		sub := newSubscriber(b, br, "bench/raw/#")
		payload := make([]byte, outcomeSize(b))
		var i int
		lat, _ := sampleLatencies(b, func() time.Duration {
			i++
			topic := fmt.Sprintf("bench/raw/%d", i)
			t0 := time.Now()
			if err := await(pub.Publish(topic, 1, false, payload)); err != nil {
				b.Fatal(err)
			}
			return sub.await(b, topic).Sub(t0)
		}, nil)
		reportLatencies(b, lat, 0)
	})
	b.Run("burst", func(b *testing.B) {
		r := newReporter(b, br)
		sub := newSubscriber(b, br, (wire.Topics{Cluster: benchCluster}).Outcome("blink", "#"))
		outcomes := make([]*wire.Outcome, 0, outcomeBurst)
		base, sent, delivered := 1_000_000, 0, 0
		var took time.Duration
		for b.Loop() {
			b.StopTimer()
			outcomes = outcomes[:0]
			for i := range outcomeBurst {
				outcomes = append(outcomes, signedOutcome(b, base+i))
			}
			base += outcomeBurst
			before := sub.count()
			b.StartTimer()
			t0 := time.Now()
			publishAll(b, r, outcomes)
			got := sub.waitCount(before+outcomeBurst, 10*time.Second)
			took += time.Since(t0)
			sent += outcomeBurst
			delivered += got - before
		}
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(sent), "sent")
		b.ReportMetric(float64(delivered), "delivered")
		b.ReportMetric(float64(delivered)/took.Seconds(), "outcomes/s")
	})
}

// newReporter connects a Reporter with a durable outbox, as the agent runs
// it, and waits until it is connected.
func newReporter(b *testing.B, br *testbroker.Broker) *report.Reporter {
	b.Helper()
	dir := benchDir(b)
	st, err := store.Open(filepath.Join(dir, "outbox.db"), benchCluster, consensus.NodeID(outcomeNode), nil)
	if err != nil {
		b.Fatal(err)
	}
	cfg := report.DefaultConfig()
	cfg.URL, cfg.Cluster, cfg.Node = br.URL(), benchCluster, outcomeNode
	cfg.ClientID = fmt.Sprintf("bench-reporter-%d", time.Now().UnixNano())
	cfg.Outbox = st.Outbox()
	cfg.NextBDSeq = report.FileBDSeq(filepath.Join(dir, "mqtt.bdseq"))
	cfg.ConnectRetryInterval = 100 * time.Millisecond
	r, err := report.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Close(ctx)
		st.Close()
	})
	deadline := time.Now().Add(waitLimit)
	for !r.Stats().Connected {
		if time.Now().After(deadline) {
			b.Fatalf("reporter not connected after %s: %+v", waitLimit, r.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return r
}

// signedOutcome is outcome instance i of action blink, signed by node-1.
func signedOutcome(tb testing.TB, i int) *wire.Outcome {
	t := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	o := &wire.Outcome{
		Action:    "blink",
		Instance:  fmt.Sprintf("i-%07d", i),
		RequestID: fmt.Sprintf("r-%07d", i),
		Performer: outcomeNode,
		Height:    uint64(100 + i),
		OK:        true,
		Started:   wire.Timestamp(t),
		Finished:  wire.Timestamp(t.Add(time.Second)),
		Readback:  "high",
	}
	if err := wire.SignOutcome(benchCluster, o, nodeKey(0)); err != nil {
		tb.Fatal(err)
	}
	return o
}

// outcomeSize is the size of a signed outcome's JSON payload, for the bare
// paho baseline.
func outcomeSize(tb testing.TB) int {
	p, err := json.Marshal(signedOutcome(tb, 1))
	if err != nil {
		tb.Fatal(err)
	}
	return len(p)
}

// publishAll hands every outcome to the Reporter from burstPublishers
// goroutines.
func publishAll(b *testing.B, r *report.Reporter, outcomes []*wire.Outcome) {
	var wg sync.WaitGroup
	errs := make(chan error, burstPublishers)
	for w := range burstPublishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(outcomes); i += burstPublishers {
				if err := r.PublishOutcome(outcomes[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

func connect(tb testing.TB, br *testbroker.Broker, prefix string) mqtt.Client {
	tb.Helper()
	opts := mqtt.NewClientOptions().AddBroker(br.URL()).
		SetClientID(fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	c := mqtt.NewClient(opts)
	if err := await(c.Connect()); err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { c.Disconnect(50) })
	return c
}

// await waits for a paho token, a bound for a broken run only.
func await(tok mqtt.Token) error {
	if !tok.WaitTimeout(waitLimit) {
		return fmt.Errorf("mqtt: no answer within %s", waitLimit)
	}
	return tok.Error()
}

// subscriber is a plain paho client, as `pact watch` or a dashboard: it
// notes when each topic first arrived.
type subscriber struct {
	mu      sync.Mutex
	arrived map[string]time.Time
	notify  chan struct{}
}

func newSubscriber(tb testing.TB, br *testbroker.Broker, filter string) *subscriber {
	tb.Helper()
	s := &subscriber{arrived: map[string]time.Time{}, notify: make(chan struct{}, 1)}
	c := connect(tb, br, "bench-sub")
	if err := await(c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) {
		now := time.Now()
		s.mu.Lock()
		if _, ok := s.arrived[m.Topic()]; !ok {
			s.arrived[m.Topic()] = now
		}
		s.mu.Unlock()
		select {
		case s.notify <- struct{}{}:
		default:
		}
	})); err != nil {
		tb.Fatalf("subscribe %s: %v", filter, err)
	}
	return s
}

// await returns when topic first arrived.
func (s *subscriber) await(tb testing.TB, topic string) time.Time {
	tb.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		t, ok := s.arrived[topic]
		s.mu.Unlock()
		if ok {
			return t
		}
		select {
		case <-s.notify:
		case <-deadline.C:
			tb.Fatalf("%s not received within %s", topic, waitLimit)
		}
	}
}

func (s *subscriber) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrived)
}

// waitCount waits until want distinct topics have arrived, or until limit
// has passed since the last arrival, and returns how many did.
func (s *subscriber) waitCount(want int, limit time.Duration) int {
	idle := time.NewTimer(limit)
	defer idle.Stop()
	for {
		n := s.count()
		if n >= want {
			return n
		}
		select {
		case <-s.notify:
			idle.Reset(limit)
		case <-idle.C:
			return s.count()
		}
	}
}
