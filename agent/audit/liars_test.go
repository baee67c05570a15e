package audit

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// lieFrom is when the liars of these tests start lying: after two minutes
// of honest history, so the window first fills with honest buckets and the
// detection time is the slow case (OutlierShare of a full window).
const lieFrom = 2 * time.Minute

// detectionBound is how long after it starts lying a liar must be
// accused: the window, plus a few buckets for the outliers it needs to
// outweigh its honest past and for a random liar's lucky draws.
func detectionBound(cfg Config) time.Duration { return cfg.Window + 5*cfg.Bucket }

type liarCase struct {
	name  string
	liars map[string]lie
	setup func(w *simWorld)
}

func liarCases() []liarCase {
	return []liarCase{
		{name: "Offset", liars: map[string]lie{"node-2": offsetLie(8)}},
		{name: "NegativeOffset", liars: map[string]lie{"node-1": offsetLie(-5)}},
		{name: "Stuck", liars: map[string]lie{"node-3": stuckLie(21)}, setup: func(w *simWorld) {
			// The truth moves 24 → 30 over the run.
			d := w.duration
			w.truth = func(e time.Duration) float64 { return 24 + 6*e.Seconds()/d.Seconds() }
		}},
		{name: "Random", liars: map[string]lie{"node-4": randomLie(0, 50)}},
		{name: "Drift", liars: map[string]lie{"node-5": driftLie(0.5)}},
		{name: "AdversaryCycle", liars: map[string]lie{"node-3": cycleLie()}},
		{name: "TwoLiarsSameOffset", liars: map[string]lie{"node-2": offsetLie(8), "node-6": offsetLie(8)}},
		{name: "TwoLiarsMixed", liars: map[string]lie{"node-1": randomLie(0, 50), "node-7": stuckLie(21)}},
	}
}

func TestSuspects_Liars(t *testing.T) {
	seeds := 100
	if testing.Short() {
		seeds = 10
	}
	cfg := DefaultConfig()
	bound := detectionBound(cfg)
	for _, tc := range liarCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var times []time.Duration
			for seed := range uint64(seeds) {
				n := 5 + int(seed%3)
				if len(tc.liars) > 1 {
					n = 7
				}
				w := newWorld(seed, n, lieFrom+bound+time.Minute)
				if tc.setup != nil {
					tc.setup(w)
				}
				for name, l := range tc.liars {
					w.node(name).lie, w.node(name).lieFrom = l, lieFrom
				}
				res := w.run(t, cfg)
				for _, name := range res.accused() {
					if tc.liars[name] == nil {
						t.Errorf("seed %d (%d nodes): honest %s accused: %s", seed, n, name, res.accs[name][0].Summary)
					}
				}
				for _, name := range slices.Sorted(maps.Keys(tc.liars)) {
					at, ok := res.first[name]
					if !ok {
						t.Errorf("seed %d (%d nodes): liar %s never accused", seed, n, name)
						continue
					}
					took := at.Sub(simStart.Add(lieFrom))
					times = append(times, took)
					if took > bound {
						t.Errorf("seed %d (%d nodes): liar %s accused %v after it started lying, later than %v", seed, n, name, took, bound)
					}
					for _, acc := range res.accs[name] {
						if acc.Kind != "temperature" || acc.Zone != "greenhouse" || acc.Reason != ReasonSensor {
							t.Errorf("seed %d: accusation %+v", seed, acc)
						}
					}
				}
			}
			if len(times) > 0 {
				slices.Sort(times)
				t.Logf("%s: %d detections over %d seeds: min %v, median %v, max %v (bound %v); first summary: %s",
					tc.name, len(times), seeds, times[0], times[len(times)/2], times[len(times)-1], bound, firstSummary(t, tc, cfg))
			}
		})
	}
}

// firstSummary is the first accusation's summary of seed 0, for the log.
func firstSummary(t *testing.T, tc liarCase, cfg Config) string {
	w := newWorld(0, 7, lieFrom+detectionBound(cfg))
	if tc.setup != nil {
		tc.setup(w)
	}
	for name, l := range tc.liars {
		w.node(name).lie, w.node(name).lieFrom = l, lieFrom
	}
	res := w.run(t, cfg)
	for _, name := range res.accused() {
		return res.accs[name][len(res.accs[name])-1].Summary
	}
	return "(none)"
}

// cycleLie is what the agent's lie-sensor adversary does: offset +8 °C,
// stuck at 21 °C, random in [0, 50) °C, 30 s each, round and round.
func cycleLie() lie {
	offset, stuck, random := offsetLie(8), stuckLie(21), randomLie(0, 50)
	return func(since time.Duration, truth float64, rng *rand.Rand) float64 {
		switch (since / (30 * time.Second)) % 3 {
		case 0:
			return offset(since, truth, rng)
		case 1:
			return stuck(since, truth, rng)
		}
		return random(since, truth, rng)
	}
}

// A liar among nodes that have only just started, or a new liar with no
// honest past, is caught as soon as MinSamples of its buckets were judged.
func TestSuspects_LiarFromTheStart(t *testing.T) {
	cfg := DefaultConfig()
	for seed := range uint64(20) {
		w := newWorld(seed, 5, 2*time.Minute)
		w.node("node-1").lie = offsetLie(8)
		res := w.run(t, cfg)
		at, ok := res.first["node-1"]
		if !ok {
			t.Fatalf("seed %d: liar never accused", seed)
		}
		if took := at.Sub(simStart); took > time.Duration(cfg.MinSamples+2)*cfg.Bucket {
			t.Errorf("seed %d: accused after %v, want about MinSamples (%d) buckets", seed, took, cfg.MinSamples)
		}
		if got := res.accused(); len(got) != 1 {
			t.Errorf("seed %d: accused %v", seed, got)
		}
	}
}

// A liar that lies about humidity only is accused of humidity only.
func TestSuspects_KindOfTheLie(t *testing.T) {
	w := newWorld(3, 6, 4*time.Minute)
	res := runWith(t, w, func(node string, values []float64) {
		if node == "node-4" {
			values[1] += 25 // humidity
		}
	})
	if got := res.accused(); !slices.Equal(got, []string{"node-4"}) {
		t.Fatalf("accused %v", got)
	}
	if k := res.accs["node-4"][0].Kind; k != "humidity" {
		t.Errorf("accused of %s, want humidity", k)
	}
}

// runWith runs w with tamper changing each payload's values before it is
// added.
func runWith(t *testing.T, w *simWorld, tamper func(node string, values []float64)) runResult {
	t.Helper()
	a, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	res := runResult{first: map[string]time.Time{}, accs: map[string][]Accusation{}}
	ds := w.deliveries()
	i := 0
	for tick := simStart.Add(2 * time.Second); !tick.After(simStart.Add(w.duration)); tick = tick.Add(2 * time.Second) {
		for ; i < len(ds) && !ds[i].at.After(tick); i++ {
			r := ds[i].r
			values := make([]float64, len(r.Readings))
			for j, x := range r.Readings {
				values[j] = x.Value
			}
			tamper(r.Node, values)
			for j := range r.Readings {
				r.Readings[j].Value = values[j]
			}
			if err := a.Add(ds[i].at, ds[i].zone, r); err != nil {
				t.Fatalf("Add: %v", err)
			}
		}
		for _, acc := range a.Suspects(tick) {
			if _, ok := res.first[acc.Node]; !ok {
				res.first[acc.Node] = tick
			}
			res.accs[acc.Node] = append(res.accs[acc.Node], acc)
		}
	}
	return res
}
