package report

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

// BenchmarkOutcomeBurst publishes a burst of signed outcomes (burstSize,
// 5,000) through the durable outbox to a real mosquitto and waits until a
// subscriber has every one of them: msgs/s is the end-to-end rate, fsyncs
// included. burstWorkers goroutines publish, as in TestReporter_OutcomeBurst.
func BenchmarkOutcomeBurst(b *testing.B) {
	br := startBroker(b)
	st := openStore(b, filepath.Join(b.TempDir(), "pact.db"))
	defer st.Close()
	cfg := testConfig(b, br.URL())
	cfg.Outbox = st.Outbox()
	r := newReporter(b, cfg)
	waitStats(b, r, 10*time.Second, "connected", func(s Stats) bool { return s.Connected })
	n := burstSize()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		sub := subscribe(b, br.URL(), "pact/"+testCluster+"/outcomes/#")
		base := i * n // new instances every round: retained ones from the last round do not count
		b.StartTimer()
		publishBurst(b, r, base, n)
		sub.waitFor(2*time.Minute, "every outcome", func(m []received) bool {
			return countFrom(m, base, n) == n
		})
		b.StopTimer()
		sub.client.Disconnect(0)
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(0, "ns/op")
}

// publishBurst is publishConcurrently for instances base..base+n-1.
func publishBurst(b *testing.B, r *Reporter, base, n int) {
	errs := make(chan error, burstWorkers)
	done := make(chan struct{})
	for w := range burstWorkers {
		go func() {
			for i := w; i < n; i += burstWorkers {
				o, err := makeOutcome(base + i)
				if err == nil {
					err = r.PublishOutcome(o)
				}
				if err != nil {
					errs <- err
					break
				}
			}
			done <- struct{}{}
		}()
	}
	for range burstWorkers {
		<-done
	}
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// countFrom counts the distinct outcome topics of instances base..base+n-1.
func countFrom(msgs []received, base, n int) int {
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m.Topic] = true
	}
	count := 0
	tp := wire.Topics{Cluster: testCluster}
	for i := base; i < base+n; i++ {
		if seen[tp.Outcome("blink", instanceName(i))] {
			count++
		}
	}
	return count
}

// BenchmarkPublishOutcome is what one PublishOutcome costs its caller
// alone: the outbox write and its fsync (the sender publishes meanwhile).
func BenchmarkPublishOutcome(b *testing.B) {
	br := startBroker(b)
	st := openStore(b, filepath.Join(b.TempDir(), "pact.db"))
	defer st.Close()
	cfg := testConfig(b, br.URL())
	cfg.Outbox = st.Outbox()
	r := newReporter(b, cfg)
	outcomes := make([]*wire.Outcome, 0, 1024)
	for i := range cap(outcomes) {
		outcomes = append(outcomes, signedOutcome(b, i))
	}
	i := 0
	for b.Loop() {
		if err := r.PublishOutcome(outcomes[i%len(outcomes)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
