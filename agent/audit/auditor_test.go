package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

// payload is a temperature payload of node at t.
func payload(node string, t time.Time, values ...float64) *wire.Readings {
	r := &wire.Readings{
		Header: wire.Header{V: wire.Version, Cluster: simCluster, TS: wire.Timestamp(t)},
		Node:   node,
		Sig:    fmt.Sprintf("sig-%s-%d", node, t.UnixMilli()),
	}
	for i, v := range values {
		r.Readings = append(r.Readings, wire.Reading{Sensor: fmt.Sprintf("t%d", i), Kind: "temperature", Value: v, Unit: "°C"})
	}
	return r
}

func newAuditor(t testing.TB, cfg Config) *Auditor {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAdd_Refusals(t *testing.T) {
	cfg := DefaultConfig()
	now := simStart.Add(10 * time.Minute)
	for _, tc := range []struct {
		name string
		r    *wire.Readings
		want error
	}{
		{"Nil", nil, ErrMalformed},
		{"NoNode", payload("", now, 20), ErrMalformed},
		{"BadTS", func() *wire.Readings { r := payload("n", now, 20); r.TS = "yesterday"; return r }(), ErrMalformed},
		{"AncientTS", payload("n", time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), 20), ErrMalformed},
		{"FarFutureTS", func() *wire.Readings { r := payload("n", now, 20); r.TS = "9999-12-31T23:59:59Z"; return r }(), ErrMalformed},
		{"TooManyReadings", payload("n", now, make([]float64, cfg.MaxReadings+1)...), ErrMalformed},
		{"OlderThanTheWindow", payload("n", now.Add(-cfg.Window-cfg.Bucket), 20), ErrStale},
		{"FromTheFuture", payload("n", now.Add(cfg.MaxSkew+time.Millisecond), 20), ErrFuture},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAuditor(t, cfg)
			if err := a.Add(now, "z", tc.r); !errors.Is(err, tc.want) {
				t.Errorf("Add: %v, want %v", err, tc.want)
			}
			if a.Held() != 0 {
				t.Errorf("holds %d payloads", a.Held())
			}
		})
	}
}

func TestAdd_Accepts(t *testing.T) {
	cfg := DefaultConfig()
	now := simStart
	a := newAuditor(t, cfg)
	for _, r := range []*wire.Readings{
		payload("n", now.Add(-cfg.Window+cfg.Bucket), 20), // the window's oldest bucket
		payload("n", now.Add(cfg.MaxSkew), 20),            // a fast clock
		payload("n", now, 20),
	} {
		if err := a.Add(now, "z", r); err != nil {
			t.Errorf("Add(%s): %v", r.TS, err)
		}
	}
	if a.Held() != 3 {
		t.Errorf("holds %d, want 3", a.Held())
	}
	// Nothing to judge: no zone, or no kind the auditor compares.
	soc := payload("m", now, 20)
	soc.Readings[0].Kind = "soc_temperature"
	for _, add := range []struct {
		zone string
		r    *wire.Readings
	}{{"", payload("m", now, 20)}, {"z", soc}, {"z", payload("m", now.Add(time.Second))}} {
		if err := a.Add(now, add.zone, add.r); err != nil {
			t.Errorf("Add: %v", err)
		}
	}
	if a.Held() != 3 {
		t.Errorf("holds %d, want 3", a.Held())
	}
}

func TestAdd_Duplicates(t *testing.T) {
	now := simStart
	a := newAuditor(t, DefaultConfig())
	r := payload("n", now, 20)
	if err := a.Add(now, "z", r); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(now, "z", r); !errors.Is(err, ErrDuplicate) {
		t.Errorf("the same payload again: %v", err)
	}
	// A different payload with the same ts: the smaller signature stays,
	// whichever came first.
	big, small := payload("n", now, 30), payload("n", now, 40)
	big.Sig, small.Sig = "zzz", "aaa"
	for _, order := range [][]*wire.Readings{{big, small}, {small, big}} {
		a := newAuditor(t, DefaultConfig())
		for _, r := range order {
			_ = a.Add(now, "z", r)
		}
		if got := a.nodes["n"].held[0].r; got != small || a.Held() != 1 {
			t.Errorf("kept %s of %d, want the smaller signature", got.Sig, a.Held())
		}
	}
}

func TestAdd_FloodIsCapped(t *testing.T) {
	cfg := DefaultConfig()
	a := newAuditor(t, cfg)
	now := simStart
	refused := 0
	// A node sends a payload every 10 ms for three minutes.
	for ms := 0; ms < 3*60*1000; ms += 10 {
		at := now.Add(time.Duration(ms) * time.Millisecond)
		if err := a.Add(at, "z", payload("flood", at, 20)); errors.Is(err, ErrFlood) {
			refused++
		}
	}
	bound := int(cfg.windowBuckets()+int64(cfg.MaxSkew/cfg.Bucket)+2) * cfg.MaxPerBucket
	if a.Held() > bound {
		t.Errorf("holds %d payloads of one node, bound %d", a.Held(), bound)
	}
	if refused == 0 {
		t.Error("nothing refused")
	}
	// Payloads from ahead of the clock fill at most the skew's buckets.
	for ms := range 10000 {
		_ = a.Add(now, "z", payload("ahead", now.Add(time.Duration(ms)*time.Millisecond), 20))
	}
	if got := len(a.nodes["ahead"].held); got > int(cfg.MaxSkew/cfg.Bucket+2)*cfg.MaxPerBucket {
		t.Errorf("holds %d payloads from ahead of the clock", got)
	}
}

func TestSuspects_DropsTheOld(t *testing.T) {
	cfg := DefaultConfig()
	w := newWorld(1, 25, 3*time.Minute)
	a := newAuditor(t, cfg)
	for _, d := range w.deliveries() {
		if err := a.Add(d.at, d.zone, d.r); err != nil {
			t.Fatal(err)
		}
		if got := a.Suspects(d.at); len(got) != 0 {
			t.Fatalf("accused %+v", got)
		}
	}
	// 25 nodes, one payload every 2 s each, in a 60 s window: 30 buckets
	// and the current one.
	if got, want := a.Held(), 25*int(cfg.windowBuckets()+1); got > want {
		t.Errorf("holds %d payloads, want at most %d", got, want)
	}
	if got := len(a.zones["greenhouse"].judged); got > int(cfg.windowBuckets()+1) {
		t.Errorf("holds %d judged buckets", got)
	}
	a.Suspects(simStart.Add(time.Hour))
	if a.Held() != 0 || len(a.nodes) != 0 || len(a.zones) != 0 {
		t.Errorf("an hour later it still holds %d payloads, %d nodes, %d zones", a.Held(), len(a.nodes), len(a.zones))
	}
}

// The same payloads give the same accusations, whatever order they come
// in and however often.
func TestSuspects_Deterministic(t *testing.T) {
	cfg := DefaultConfig()
	for seed := range uint64(10) {
		w := newWorld(seed, 7, 4*time.Minute)
		w.node("node-3").lie, w.node("node-3").lieFrom = randomLie(0, 50), lieFrom
		w.node("node-5").lie, w.node("node-5").lieFrom = offsetLie(8), lieFrom
		ds := w.deliveries()
		end := simStart.Add(w.duration)
		var want []byte
		for round := range 5 {
			a := newAuditor(t, cfg)
			order := slices.Clone(ds)
			rng := rand.New(rand.NewPCG(seed, uint64(round)))
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			if round > 0 {
				order = append(order, order[:len(order)/3]...)
			}
			for _, d := range order {
				_ = a.Add(end, d.zone, d.r)
			}
			got, err := json.Marshal(a.Suspects(end))
			if err != nil {
				t.Fatal(err)
			}
			if round == 0 {
				want = got
				if !strings.Contains(string(got), `"node":"node-3"`) || !strings.Contains(string(got), `"node":"node-5"`) {
					t.Fatalf("seed %d: liars not accused: %s", seed, got)
				}
				continue
			}
			if string(got) != string(want) {
				t.Fatalf("seed %d, order %d: different accusations:\n%s\nwant\n%s", seed, round, got, want)
			}
		}
	}
}

func TestSuspects_ForgetAndZoneChange(t *testing.T) {
	cfg := DefaultConfig()
	w := newWorld(5, 6, 4*time.Minute)
	w.node("node-2").lie = offsetLie(8)
	end := simStart.Add(w.duration)
	fill := func(a *Auditor, zoneOf func(string) string) {
		for _, d := range w.deliveries() {
			_ = a.Add(end, zoneOf(d.r.Node), d.r)
		}
	}
	a := newAuditor(t, cfg)
	fill(a, func(string) string { return "greenhouse" })
	if got := a.Suspects(end); len(got) != 1 || got[0].Node != "node-2" {
		t.Fatalf("accused %+v", got)
	}
	a.Forget("node-2")
	if got := a.Suspects(end); len(got) != 0 {
		t.Errorf("after Forget: %+v", got)
	}
	// node-2 moves to the shed: what it said in the greenhouse is gone,
	// and it has no peers there.
	a = newAuditor(t, cfg)
	fill(a, func(string) string { return "greenhouse" })
	last := w.deliveries()
	for i := len(last) - 1; i >= 0; i-- {
		if last[i].r.Node == "node-2" {
			if err := a.Add(end, "shed", last[i].r); !errors.Is(err, ErrDuplicate) && err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if got := a.Suspects(end); len(got) != 0 {
		t.Errorf("after the zone change: %+v", got)
	}
	if a.nodes["node-2"].zone != "shed" || len(a.nodes["node-2"].held) != 1 {
		t.Errorf("node-2 holds %+v", a.nodes["node-2"])
	}
}

// A node with two sensors of a kind contributes one value, their median;
// so does a node with two payloads in one bucket.
func TestSuspects_SeveralSensorsOneValue(t *testing.T) {
	cfg := DefaultConfig()
	a := newAuditor(t, cfg)
	start := simStart.Truncate(cfg.Bucket)
	var end time.Time
	for k := range 30 {
		at := start.Add(time.Duration(k) * cfg.Bucket)
		end = at
		for i := 1; i <= 4; i++ {
			_ = a.Add(at, "z", payload(fmt.Sprintf("n%d", i), at, 20+0.1*float64(i)))
		}
		// n5's three sensors: one broken, two right.
		_ = a.Add(at, "z", payload("n5", at, 20, 20.2, 85))
		// n6 sends twice per bucket; the second one is off.
		_ = a.Add(at, "z", payload("n6", at, 20.1))
		_ = a.Add(at, "z", payload("n6", at.Add(cfg.Bucket/2), 20.3, 20.2))
	}
	if got := a.Suspects(end); len(got) != 0 {
		t.Errorf("accused: %+v", got)
	}
}

func TestJudge_LeaveOneOut(t *testing.T) {
	cfg := DefaultConfig()
	rule := cfg.Kinds["temperature"]
	values := []nodeValue{{"a", 20.0}, {"b", 20.1}, {"c", 20.2}, {"d", 28}, {"e", 19.9}}
	got := judge(values, rule, &cfg)
	if len(got) != 5 {
		t.Fatalf("%d verdicts", len(got))
	}
	for _, v := range got {
		if want := v.node == "d"; v.outlier != want {
			t.Errorf("%s: outlier %v (median %.2f, limit %.2f)", v.node, v.outlier, v.median, v.limit)
		}
	}
	// d is judged against a, b, c, e: median 20.05.
	if d := got[3]; math.Abs(d.median-20.05) > 1e-9 || d.peers != 4 || math.Abs(d.deviation-7.95) > 1e-9 {
		t.Errorf("d: %+v", d)
	}
	// a is judged against b, c, d, e: median (20.1+20.2)/2; MAD from
	// deviations 0.05, 0.05, 0.25, 7.85 is 0.15, scaled 0.22: the floor
	// (0.5) and the tolerance (2) rule.
	if a := got[0]; math.Abs(a.median-20.15) > 1e-9 || a.limit != 2 {
		t.Errorf("a: %+v", a)
	}
	// With too few values nobody is judged.
	if got := judge(values[:3], rule, &cfg); got != nil {
		t.Errorf("three values judged: %+v", got)
	}
	// A wide spread widens the limit: K × 1.4826 × MAD.
	wide := []nodeValue{{"a", 10}, {"b", 15}, {"c", 20}, {"d", 25}, {"e", 30}}
	v := judge(wide, rule, &cfg)[0]
	if want := 4 * madScale * 5; math.Abs(v.limit-want) > 1e-9 || v.outlier {
		t.Errorf("wide: %+v, want limit %.3f", v, want)
	}
}

func TestBucketOf(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(1, 999999999), 0},
		{time.Unix(2, 0), 1},
		{time.Unix(-1, 0), -1},
		{time.Unix(-2, 0), -1},
		{time.Unix(-2, -1), -2},
	} {
		if got := bucketOf(tc.t, 2*time.Second); got != tc.want {
			t.Errorf("bucketOf(%v) = %d, want %d", tc.t, got, tc.want)
		}
	}
}

func TestConfig_Validate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		fields []string
	}{
		{"Zero", func(c *Config) { *c = Config{} }, []string{"Bucket", "Window", "MinPeers", "MinSamples", "OutlierShare", "K", "MaxPerBucket", "MaxReadings"}},
		{"WindowNotWholeBuckets", func(c *Config) { c.Window = 61 * time.Second }, []string{"Window"}},
		{"WindowTooShort", func(c *Config) { c.Window = 10 * time.Second }, []string{"Window"}},
		{"TwoPeers", func(c *Config) { c.MinPeers = 2 }, []string{"MinPeers"}},
		{"OneSample", func(c *Config) { c.MinSamples = 1 }, []string{"MinSamples"}},
		{"HalfShare", func(c *Config) { c.OutlierShare = 0.5 }, []string{"OutlierShare"}},
		{"NaNK", func(c *Config) { c.K = math.NaN() }, []string{"K"}},
		{"NegativeSkew", func(c *Config) { c.MaxSkew = -time.Second }, []string{"MaxSkew"}},
		{"BadRule", func(c *Config) {
			c.Kinds = map[string]Rule{"temperature": {Floor: -1, Tolerance: 0}, "": {Tolerance: 1}}
		}, []string{"Kinds[temperature].Floor", "Kinds[temperature].Tolerance", "Kinds"}},
		{"LittleEvidence", func(c *Config) { c.MaxEvidence = 7 }, []string{"MaxEvidence"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			err := c.Validate()
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("Validate: %v", err)
			}
			for _, f := range tc.fields {
				if !strings.Contains(err.Error(), "audit: "+f+": ") {
					t.Errorf("%v does not name %s", err, f)
				}
			}
			if _, err := New(c); !errors.Is(err, ErrConfig) {
				t.Errorf("New: %v", err)
			}
		})
	}
}
