package agent

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/consensus"
)

// Benchmarks of whole agents in one process, talking over real memberlist
// sockets on loopback. They measure wall time, so they belong here and not
// in tests; docs/BENCHMARKS.md reports them. Run them with a fixed count:
//
//	go test -run '^$' -bench CapabilityView -benchtime 3x -timeout 90m -v ./agent/
//	go test -run '^$' -bench DecisionLatency -benchtime 300x -v ./agent/
//
// Every cluster has its own /24 on loopback (127.0.20–27.x), apart from the
// tests' own, so a benchmark never meets another cluster's agents.

// benchTimings are the two cluster files the benchmarks run with: the
// tests' (tick 50 ms, propose 500 ms, prevote and precommit 250 ms, round
// increase 250 ms, rebroadcast 500 ms, status 1 s; see newTestCluster) and
// config.DefaultTimings (tick 100 ms, propose 1 s, prevote and precommit
// 500 ms, round increase 500 ms, rebroadcast 1 s, status 5 s).
var benchTimings = []struct {
	name     string
	defaults bool
}{{"test", false}, {"default", true}}

// BenchmarkCapabilityView measures the time from starting N agents to the
// moment every one of them holds the same committed capability documents of
// all N validators at the same height: the full, agreed view. One iteration
// is one fresh cluster (new keys, new data directories, agents started one
// after the other as fast as New returns); the clock starts before the
// first agent's New and stops when the last Status agrees.
func BenchmarkCapabilityView(b *testing.B) {
	for i, n := range []int{5, 10, 25} {
		for j, tm := range benchTimings {
			ipBase := fmt.Sprintf("127.0.%d.", 20+5*j+i)
			b.Run(fmt.Sprintf("agents=%d/timings=%s", n, tm.name), func(b *testing.B) {
				benchCapabilityView(b, n, ipBase, tm.defaults)
			})
		}
	}
}

func benchCapabilityView(b *testing.B, n int, ipBase string, defaults bool) {
	var views []time.Duration
	var heights, roundChanges, drops, busy float64
	for b.Loop() {
		b.StopTimer()
		cl := newTestCluster(b, ipBase, n)
		if defaults {
			useDefaultTimings(b, cl)
		}
		paths := make([]string, n)
		for i := range paths {
			paths[i] = cl.addNode(b, i+1, "../cluster.yaml")
		}
		decided := make(chan struct{}, 1)
		hook := func(a *Agent) {
			a.onDecided = func(*consensus.Commit) {
				select {
				case decided <- struct{}{}:
				default:
				}
			}
		}
		cpu := readCPU()
		slowestStatus.Store(0)
		b.StartTimer()

		start := time.Now()
		agents := make([]*running, n)
		for i, p := range paths {
			agents[i] = startAgent(b, p, hook)
		}
		last := waitAgreedView(b, agents, decided, 10*time.Minute)
		views = append(views, time.Since(start))

		b.StopTimer()
		load := readCPU().busySince(cpu)
		slowest := time.Duration(slowestStatus.Load())
		busy += load
		heights += float64(last.Height)
		var busyQ, full, limited uint64
		for _, r := range agents {
			c := benchStatus(b, r).Counters
			busyQ += c["transport_busy"]
			full += c["transport_inbound_full"]
			limited += c["transport_rate_limited"]
			roundChanges += float64(c["consensus_round_changes"]) / float64(n)
		}
		drops += float64(busyQ + full + limited)
		stopAll(agents)
		b.Logf("agents=%d: agreed view after %.2f s at height %d; CPU %.0f%% busy; frames dropped on receipt: %d verifier busy, %d inbound full, %d rate-limited; slowest status answer %.2f s",
			n, views[len(views)-1].Seconds(), last.Height, 100*load, busyQ, full, limited, slowest.Seconds())
		b.StartTimer()
	}
	k := float64(len(views))
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(mean(views).Seconds(), "s/view")
	b.ReportMetric(slices.Min(views).Seconds(), "s/view-min")
	b.ReportMetric(slices.Max(views).Seconds(), "s/view-max")
	b.ReportMetric(heights/k, "heights")
	b.ReportMetric(roundChanges/k, "round-changes")
	b.ReportMetric(busy/k, "cpu-busy")
	b.ReportMetric(drops/k, "drops")
}

// cpuSample is the Go runtime's own estimate of CPU time available to and
// idle in this process (runtime/metrics), portable where getrusage is not.
type cpuSample struct{ total, idle float64 }

func readCPU() cpuSample {
	m := []metrics.Sample{{Name: "/cpu/classes/total:cpu-seconds"}, {Name: "/cpu/classes/idle:cpu-seconds"}}
	metrics.Read(m)
	return cpuSample{total: m[0].Value.Float64(), idle: m[1].Value.Float64()}
}

// busySince is the share of GOMAXPROCS the process kept busy since s.
func (c cpuSample) busySince(s cpuSample) float64 {
	if c.total <= s.total {
		return 0
	}
	return 1 - (c.idle-s.idle)/(c.total-s.total)
}

// waitAgreedView returns the last agent's Status once every agent holds the
// same documents of all validators at the same height. The view changes
// only when a node decides, so each decision (any node's) prompts a check;
// a slow poll covers a missed prompt, or all prompts if decided is nil.
func waitAgreedView(b *testing.B, agents []*running, decided <-chan struct{}, within time.Duration) Status {
	b.Helper()
	start := time.Now()
	deadline := time.After(within)
	progress := time.NewTicker(30 * time.Second)
	defer progress.Stop()
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	detail := "no decision yet"
	for {
		select {
		case <-decided:
		case <-poll.C:
		case <-deadline:
			b.Fatalf("no agreed view within %s; last: %s", within, detail)
		case <-progress.C:
			b.Logf("%.0f s: %s", time.Since(start).Seconds(), detail)
		}
		s, ok, why := agreedView(b, agents)
		if ok {
			return s
		}
		detail = why
	}
}

func agreedView(b *testing.B, agents []*running) (Status, bool, string) {
	var want string
	var s Status
	for i, r := range agents {
		s = benchStatus(b, r)
		if len(s.Validators) != len(agents) || len(s.Capabilities) != len(agents) {
			return s, false, fmt.Sprintf("%s: %d validators, %d documents, height %d", s.Node, len(s.Validators), len(s.Capabilities), s.Height)
		}
		var view strings.Builder
		fmt.Fprintf(&view, "height %d:", s.Height)
		for _, name := range s.Validators {
			d := s.Capabilities[name]
			if d == nil {
				return s, false, fmt.Sprintf("%s has no document of %s", s.Node, name)
			}
			fmt.Fprintf(&view, " %s:%x", name, d.Digest())
		}
		if i == 0 {
			want = view.String()
		} else if view.String() != want {
			return s, false, fmt.Sprintf("%s and %s differ", s.Node, agents[0].a.name)
		}
	}
	return s, true, ""
}

// benchStatus is running.status with more patience: 25 agents on two
// cores can keep a loop from answering for seconds, which is slow, not
// wrong. The slowest answer is kept in slowestStatus.
func benchStatus(b *testing.B, r *running) Status {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t0 := time.Now()
	s, err := r.a.Status(ctx)
	if err != nil {
		b.Fatalf("status of %s: %v", r.a.name, err)
	}
	if d := time.Since(t0); d > time.Duration(slowestStatus.Load()) {
		slowestStatus.Store(int64(d))
	}
	return s
}

var slowestStatus atomic.Int64 // nanoseconds

// stopAll stops every agent at once (each leave takes its own time).
func stopAll(agents []*running) {
	for _, r := range agents {
		r.cancel()
	}
	for _, r := range agents {
		r.stop()
	}
}

// BenchmarkDecisionLatency measures, on a cluster of four agents that agree,
// the time from handing one entry to node-1 (Agent.Submit) to node-1 having
// decided, persisted and applied it. One iteration is one decision; the
// clock is stopped between them while every node reaches the same height,
// then for a random fraction of a tick, so entries do not arrive in step
// with the tick.
//
// The entry is node-1's own capability document signed again with the next
// sequence number and the same content: always valid, and it leaves the
// validator set alone (admitting made-up nodes would grow the quorum with
// nodes that never vote). node-1 adopts the committed copy as its own
// document, since the content matches its configuration.
//
// Two cluster files: the tests' timings (tick 50 ms) and the defaults (tick
// 100 ms). On the happy path no timeout fires, so the two should not differ.
func BenchmarkDecisionLatency(b *testing.B) {
	for _, c := range []struct {
		name     string
		ipBase   string
		defaults bool
	}{{"timings=test", "127.0.23.", false}, {"timings=default", "127.0.24.", true}} {
		b.Run("agents=4/"+c.name, func(b *testing.B) {
			cl := newTestCluster(b, c.ipBase, 4)
			if c.defaults {
				useDefaultTimings(b, cl)
			}
			watchers := make([]*decisionWatcher, 4)
			agents := make([]*running, 4)
			for i := range agents {
				w := &decisionWatcher{hit: make(chan time.Time, 1)}
				watchers[i] = w
				agents[i] = startAgent(b, cl.addNode(b, i+1, "../cluster.yaml"), func(a *Agent) { a.onDecided = w.observe })
			}
			start := waitAgreedView(b, agents, nil, 60*time.Second)
			node1 := agents[0]
			tick := node1.a.tick
			// A copy that shares no slice with the loop's committed document:
			// Sign sorts the lists in place.
			doc := *start.Capabilities["node-1"]
			doc.Sensors, doc.Outputs, doc.Inputs = slices.Clone(doc.Sensors), slices.Clone(doc.Outputs), slices.Clone(doc.Inputs)
			roundsBefore := node1.status(b).Counters["consensus_round_changes"]

			var lat []time.Duration
			late := 0 // decided in a round after 0
			ctx := context.Background()
			for b.Loop() {
				doc.Seq++
				doc.Sign(node1.a.key)
				raw := (&agreed.Entry{Type: agreed.TypeAdvertise, Doc: &doc}).Encode()
				w := watchers[0]
				key := string(raw)
				w.target.Store(&key)

				t0 := time.Now()
				if err := node1.a.Submit(ctx, raw); err != nil {
					b.Fatalf("submit seq %d: %v", doc.Seq, err)
				}
				var t1 time.Time
				select {
				case t1 = <-w.hit:
				case <-time.After(30 * time.Second):
					b.Fatalf("seq %d not decided within 30 s", doc.Seq)
				}
				lat = append(lat, t1.Sub(t0))

				b.StopTimer()
				if w.round.Load() > 0 {
					late++
				}
				h := w.height.Load()
				for _, o := range watchers[1:] {
					for o.height.Load() < h {
						time.Sleep(time.Millisecond)
					}
				}
				time.Sleep(time.Duration(rand.Int64N(int64(tick))))
				b.StartTimer()
			}
			b.StopTimer()
			roundsAfter := node1.status(b).Counters["consensus_round_changes"]
			slices.Sort(lat)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(ms(percentile(lat, 50)), "ms-p50")
			b.ReportMetric(ms(percentile(lat, 99)), "ms-p99")
			b.ReportMetric(ms(lat[len(lat)-1]), "ms-max")
			b.ReportMetric(ms(mean(lat)), "ms-mean")
			b.ReportMetric(float64(late), "late-rounds")
			b.ReportMetric(float64(roundsAfter-roundsBefore), "round-changes")
			b.Logf("%s: %d decisions, tick %s: min %.2f p50 %.2f p90 %.2f p99 %.2f max %.2f ms; %d decided after round 0",
				c.name, len(lat), tick, ms(lat[0]), ms(percentile(lat, 50)), ms(percentile(lat, 90)), ms(percentile(lat, 99)), ms(lat[len(lat)-1]), late)
			stopAll(agents)
		})
	}
}

// decisionWatcher is a node's onDecided hook: it records the height, and
// when the decided block holds target, the time and round.
type decisionWatcher struct {
	target atomic.Pointer[string]
	height atomic.Uint64
	round  atomic.Int32
	hit    chan time.Time
}

func (w *decisionWatcher) observe(c *consensus.Commit) {
	now := time.Now()
	w.height.Store(c.Block.Height)
	t := w.target.Load()
	if t == nil {
		return
	}
	for _, e := range c.Block.Entries {
		if string(e) == *t {
			w.round.Store(c.Round)
			select {
			case w.hit <- now:
			default:
			}
			return
		}
	}
}

// useDefaultTimings drops the tests' timings from the cluster file, so the
// agents run with config.DefaultTimings.
func useDefaultTimings(tb testing.TB, cl *testCluster) {
	tb.Helper()
	path := filepath.Join(cl.dir, "cluster.yaml")
	s := mustRead(tb, path)
	i := strings.Index(s, "\ntimings:")
	if i < 0 {
		tb.Fatal("cluster file has no timings block")
	}
	if err := os.WriteFile(path, []byte(s[:i+1]), 0o644); err != nil {
		tb.Fatal(err)
	}
	if _, cluster, err := config.Load(cl.addNode(tb, 1, "../cluster.yaml")); err != nil || cluster.Timings != config.DefaultTimings() {
		tb.Fatalf("default timings not in effect: %v", err)
	}
}

// percentile of sorted samples, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}
