package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

// A small simulated fleet: nodes sample a shared truth every two seconds
// with their own phase, clock error, calibration and noise, and their
// signed readings reach the auditor after a random delay. Everything comes
// from the seed.

const simCluster = "test"

// simStart is a fixed, arbitrary instant.
var simStart = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// lie is what a lying node reports instead of its temperature, from
// lieFrom on: since is the time it has been lying.
type lie func(since time.Duration, truth float64, rng *rand.Rand) float64

func offsetLie(d float64) lie {
	return func(_ time.Duration, truth float64, rng *rand.Rand) float64 { return truth + d + 0.2*rng.NormFloat64() }
}

func stuckLie(v float64) lie { return func(time.Duration, float64, *rand.Rand) float64 { return v } }

func randomLie(lo, hi float64) lie {
	return func(_ time.Duration, _ float64, rng *rand.Rand) float64 { return lo + (hi-lo)*rng.Float64() }
}

func driftLie(perSecond float64) lie {
	return func(since time.Duration, truth float64, rng *rand.Rand) float64 {
		return truth + perSecond*since.Seconds() + 0.2*rng.NormFloat64()
	}
}

// gap is a span (from the start) in which a node sends nothing.
type gap struct{ from, to time.Duration }

type simNode struct {
	name, zone string
	phase      time.Duration // when in the 2 s period it samples
	skew       time.Duration // its clock's error
	bias       float64       // its temperature sensor's calibration error
	noise      float64       // σ of its temperature noise
	lag        time.Duration // first-order time constant of its sensor (0: none)
	gaps       []gap
	rephase    time.Duration // added to phase after its first gap (a restart)
	lie        lie
	lieFrom    time.Duration
	spikes     map[int]float64 // sample index → added once
}

type simWorld struct {
	seed     uint64
	duration time.Duration
	truth    func(elapsed time.Duration) float64 // temperature, °C
	zoneBase map[string]float64                  // added to truth per zone
	nodes    []*simNode
	maxDelay time.Duration // deliveries take U(0, maxDelay)
	dupShare float64       // share of payloads delivered twice
	keys     map[string]ed25519.PrivateKey
}

// newWorld returns n honest nodes in zone "greenhouse" with σ=0.2 °C noise,
// calibration errors within ±0.3 °C and clocks within ±0.2 s, under a
// temperature that swings 3 °C around 25 °C every ten minutes.
func newWorld(seed uint64, n int, duration time.Duration) *simWorld {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	w := &simWorld{
		seed:     seed,
		duration: duration,
		truth: func(e time.Duration) float64 {
			return 25 + 3*math.Sin(2*math.Pi*e.Seconds()/600)
		},
		maxDelay: 300 * time.Millisecond,
	}
	for i := range n {
		w.nodes = append(w.nodes, &simNode{
			name:  fmt.Sprintf("node-%d", i+1),
			zone:  "greenhouse",
			phase: time.Duration(rng.Int64N(int64(2 * time.Second))),
			skew:  time.Duration(rng.Int64N(int64(400*time.Millisecond))) - 200*time.Millisecond,
			bias:  0.6*rng.Float64() - 0.3,
			noise: 0.2,
		})
	}
	return w
}

func (w *simWorld) node(name string) *simNode {
	for _, n := range w.nodes {
		if n.name == name {
			return n
		}
	}
	panic("no node " + name)
}

func (w *simWorld) zones() map[string]string {
	z := map[string]string{}
	for _, n := range w.nodes {
		z[n.name] = n.zone
	}
	return z
}

// sign makes the world sign its payloads with keys derived from the seed.
func (w *simWorld) sign() {
	w.keys = map[string]ed25519.PrivateKey{}
	for _, n := range w.nodes {
		s := sha256.Sum256(fmt.Appendf(nil, "%d/%s", w.seed, n.name))
		w.keys[n.name] = ed25519.NewKeyFromSeed(s[:])
	}
}

// verifier checks signatures with the world's keys.
func (w *simWorld) verifier() func(*wire.Readings) error {
	return func(r *wire.Readings) error {
		k, ok := w.keys[r.Node]
		if !ok {
			return fmt.Errorf("unknown node %s", r.Node)
		}
		return wire.VerifyReadings(simCluster, r, k.Public().(ed25519.PublicKey))
	}
}

type delivery struct {
	at   time.Time
	zone string
	r    *wire.Readings
	seq  int
}

func (n *simNode) silent(e time.Duration) bool {
	for _, g := range n.gaps {
		if e >= g.from && e < g.to {
			return true
		}
	}
	return false
}

// deliveries generates every node's payloads, sorted by arrival.
func (w *simWorld) deliveries() []delivery {
	var out []delivery
	seq := 0
	for idx, n := range w.nodes {
		rng := rand.New(rand.NewPCG(w.seed, uint64(idx)+1))
		netRng := rand.New(rand.NewPCG(w.seed, uint64(idx)+1001))
		humBias, presBias, soc := 4*rng.Float64()-2, rng.Float64()-0.5, 40+20*rng.Float64()
		lagged, lastAt := math.NaN(), time.Duration(0)
		for k := 0; ; k++ {
			phase := n.phase
			if len(n.gaps) > 0 && time.Duration(k)*2*time.Second+phase >= n.gaps[0].to {
				phase += n.rephase
			}
			e := phase + time.Duration(k)*2*time.Second + time.Duration(rng.Int64N(int64(60*time.Millisecond))) - 30*time.Millisecond
			if e > w.duration {
				break
			}
			if e < 0 || n.silent(e) {
				continue
			}
			truth := w.truth(e) + w.zoneBase[n.zone]
			sensed := truth
			if n.lag > 0 {
				if math.IsNaN(lagged) {
					lagged = truth
				} else {
					lagged += (truth - lagged) * (1 - math.Exp(-(e-lastAt).Seconds()/n.lag.Seconds()))
				}
				sensed = lagged
			}
			lastAt = e
			temp := sensed + n.bias + n.noise*rng.NormFloat64() + n.spikes[k]
			if n.lie != nil && e >= n.lieFrom {
				temp = n.lie(e-n.lieFrom, truth, rng)
			}
			at := simStart.Add(e)
			r := &wire.Readings{
				Header: wire.Header{V: wire.Version, Cluster: simCluster, TS: wire.Timestamp(at.Add(n.skew))},
				Node:   n.name,
				Readings: []wire.Reading{
					{Sensor: "bme280-t", Kind: "temperature", Value: round2(temp), Unit: "°C"},
					{Sensor: "bme280-h", Kind: "humidity", Value: round2(55 - (truth - 25) + humBias + rng.NormFloat64()), Unit: "%"},
					{Sensor: "bme280-p", Kind: "pressure", Value: round2(1013.25 + presBias + 0.3*rng.NormFloat64()), Unit: "hPa"},
					{Sensor: "soc", Kind: "soc_temperature", Value: round2(soc + 0.5*rng.NormFloat64()), Unit: "°C"},
				},
			}
			if w.keys != nil {
				if err := wire.SignReadings(simCluster, r, w.keys[n.name]); err != nil {
					panic(err)
				}
			} else {
				r.Sig = fmt.Sprintf("%s/%d", n.name, k)
			}
			delay := time.Duration(netRng.Int64N(int64(w.maxDelay) + 1))
			out = append(out, delivery{at: at.Add(delay), zone: n.zone, r: r, seq: seq})
			seq++
			if w.dupShare > 0 && netRng.Float64() < w.dupShare {
				again := time.Duration(netRng.Int64N(int64(w.maxDelay) + 1))
				out = append(out, delivery{at: at.Add(again), zone: n.zone, r: r, seq: seq})
				seq++
			}
		}
	}
	slices.SortFunc(out, func(a, b delivery) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	return out
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// runResult is what one run saw.
type runResult struct {
	first  map[string]time.Time    // node → when Suspects first accused it
	accs   map[string][]Accusation // node → every accusation against it
	ticks  int
	errors map[error]int // Add's refusals by sentinel
}

// run feeds the world's payloads to a fresh auditor as they arrive and
// calls Suspects every two seconds.
func (w *simWorld) run(t testing.TB, cfg Config) runResult {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("seed %d: New: %v", w.seed, err)
	}
	res := runResult{first: map[string]time.Time{}, accs: map[string][]Accusation{}, errors: map[error]int{}}
	ds := w.deliveries()
	i := 0
	for tick := simStart.Add(2 * time.Second); !tick.After(simStart.Add(w.duration)); tick = tick.Add(2 * time.Second) {
		for ; i < len(ds) && !ds[i].at.After(tick); i++ {
			if err := a.Add(ds[i].at, ds[i].zone, ds[i].r); err != nil {
				res.errors[sentinel(err)]++
			}
		}
		res.ticks++
		for _, acc := range a.Suspects(tick) {
			if _, ok := res.first[acc.Node]; !ok {
				res.first[acc.Node] = tick
			}
			res.accs[acc.Node] = append(res.accs[acc.Node], acc)
		}
	}
	return res
}

func sentinel(err error) error {
	for _, s := range []error{ErrMalformed, ErrStale, ErrFuture, ErrDuplicate, ErrFlood} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// accused lists the accused nodes, sorted.
func (r runResult) accused() []string {
	var out []string
	for n := range r.first {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
