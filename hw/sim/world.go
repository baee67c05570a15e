package sim

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/seed44533760/pact/hw"
)

// World is the environment simulated boards live in: zones with a
// temperature, humidity and air pressure, and the wires between boards.
// Safe for concurrent use.
//
// A zone's temperature is its ambient, a pure function of (seed, zone,
// time), less the cooling of the fans running in it on boards of this
// World. The ambient follows a heat cycle of period HeatCycle: for HeatOn
// the zone warms from Start towards Peak with time constant HeatTau, then
// cools back towards Start; a slow per-zone sinusoid (Wobble) and a fixed
// per-zone offset (ZoneSpread) lie on top.
type World struct {
	seed  uint64
	opts  WorldOptions
	clock hw.Clock

	mu      sync.Mutex
	zones   map[string]*zone
	boards  map[string]*Board // open boards by node name
	running map[*output]bool  // fans whose pin is at its active level
	faults  map[string]*fault // by "node/device"
}

// zone is what the World keeps per zone: the fixed draws from the seed, and
// the state of fan cooling, which is the only thing that depends on what
// happened (every other quantity is a function of the time).
type zone struct {
	offset       float64 // °C
	wobblePhase  float64 // radians
	humidityBias float64 // %RH
	pressureBias float64 // hPa
	pressurePh   float64 // radians

	cooling float64   // °C the fans take off, as of coolAt
	coolAt  time.Time // when cooling was last brought up to date
	fans    int       // fans running now
}

// Periods of the slow sinusoids.
const (
	wobblePeriod   = 7 * time.Minute
	pressurePeriod = time.Hour
	socPeriod      = 5 * time.Minute
)

// NewWorld returns a world whose every draw comes from seed: two Worlds
// with the same seed, options and epoch agree on every zone's ambient at
// every instant, and their sensors of the same node and name read the same
// noise.
func NewWorld(seed uint64, opts WorldOptions) *World {
	opts = opts.withDefaults()
	return &World{
		seed:    seed,
		opts:    opts,
		clock:   opts.Clock,
		zones:   map[string]*zone{},
		boards:  map[string]*Board{},
		running: map[*output]bool{},
		faults:  map[string]*fault{},
	}
}

// sharedEpoch aligns the heat cycles of SharedWorld to the Unix epoch: with
// the default cycle, every zone starts warming at each fourth minute of the
// hour, on every machine whose clock is right.
var sharedEpoch = time.Unix(0, 0)

var shared = struct {
	sync.Mutex
	worlds map[string]*World
}{worlds: map[string]*World{}}

// SharedWorld returns this process's World for cluster, made on first use:
// seeded from a hash of the cluster's name, driven by the wall clock, its
// heat cycles aligned to the Unix epoch. Separate processes of one cluster
// therefore compute the same ambient for a zone at the same time, and their
// honest sensors agree within noise (and clock skew).
//
// What does not cross process boundaries: fans cool only for the boards of
// the process that runs them, and a witness input sees an output only when
// both boards are in the same process. Agents that must see each other's
// fans and wires run in one process and share a World (pact demo does).
func SharedWorld(cluster string) *World {
	shared.Lock()
	defer shared.Unlock()
	if w, ok := shared.worlds[cluster]; ok {
		return w
	}
	w := newSharedWorld(cluster, hw.SystemClock{})
	shared.worlds[cluster] = w
	return w
}

// newSharedWorld is SharedWorld without the memo: a test makes two, as
// two processes would, and compares them.
func newSharedWorld(cluster string, clock hw.Clock) *World {
	return NewWorld(ClusterSeed(cluster), WorldOptions{Clock: clock, Epoch: sharedEpoch})
}

// ClusterSeed is the seed SharedWorld uses for cluster: FNV-1a of its name.
func ClusterSeed(cluster string) uint64 {
	return hash("pact/sim/cluster", cluster)
}

// hash is FNV-1a over the parts, each terminated, so ("ab","c") and
// ("a","bc") differ.
func hash(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// rng returns a generator for one identity ("zone", name) of this world;
// the same seed and identity give the same stream in any process.
func (w *World) rng(parts ...string) *rand.Rand {
	return rand.New(rand.NewPCG(w.seed, hash(parts...)))
}

// Clock is the clock the world runs on.
func (w *World) Clock() hw.Clock { return w.clock }

// Seed is the world's seed.
func (w *World) Seed() uint64 { return w.seed }

// Temperature is the zone's air temperature now (°C), without sensor
// noise.
func (w *World) Temperature(zone string) float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.temperature(zone, w.clock.Now())
}

// Humidity is the zone's relative humidity now (%), without sensor noise.
func (w *World) Humidity(zone string) float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.humidity(zone, w.clock.Now())
}

// Pressure is the zone's air pressure now (hPa), without sensor noise.
func (w *World) Pressure(zone string) float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pressure(zone, w.clock.Now())
}

// Fans is how many fans run in the zone now, on boards of this World.
func (w *World) Fans(zone string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.zone(zone).fans
}

// zone returns the zone's state, drawing its constants on first use. Called
// with w.mu held.
func (w *World) zone(name string) *zone {
	if z, ok := w.zones[name]; ok {
		return z
	}
	r := w.rng("zone", name)
	z := &zone{
		offset:       (2*r.Float64() - 1) * w.opts.ZoneSpread,
		wobblePhase:  2 * math.Pi * r.Float64(),
		humidityBias: (2*r.Float64() - 1) * 2,
		pressureBias: (2*r.Float64() - 1) * 2,
		pressurePh:   2 * math.Pi * r.Float64(),
		coolAt:       w.clock.Now(),
	}
	w.zones[name] = z
	return z
}

// ambient is the zone's temperature at t without fans: a pure function of
// the seed, the options, the zone and t. Called with w.mu held.
func (w *World) ambient(name string, t time.Time) float64 {
	z := w.zone(name)
	o := &w.opts
	since := t.Sub(o.Epoch)
	s := since % o.HeatCycle
	if s < 0 {
		s += o.HeatCycle
	}
	tau := o.HeatTau.Seconds()
	var heat float64 // fraction of the way from Start to Peak
	if s < o.HeatOn {
		heat = 1 - math.Exp(-s.Seconds()/tau)
	} else {
		top := 1 - math.Exp(-o.HeatOn.Seconds()/tau)
		heat = top * math.Exp(-(s-o.HeatOn).Seconds()/tau)
	}
	wobble := o.Wobble * math.Sin(2*math.Pi*since.Seconds()/wobblePeriod.Seconds()+z.wobblePhase)
	return o.Start + (o.Peak-o.Start)*heat + z.offset + wobble
}

// cooling is how much the zone's fans take off its ambient at t, brought up
// to date. Called with w.mu held.
func (w *World) cooling(name string, t time.Time) float64 {
	z := w.zone(name)
	if t.After(z.coolAt) {
		target := fanCooling(w.opts.FanCooling, z.fans)
		decay := math.Exp(-t.Sub(z.coolAt).Seconds() / w.opts.FanTau.Seconds())
		z.cooling = target + (z.cooling-target)*decay
		z.coolAt = t
	}
	return z.cooling
}

// fanCooling is the cooling n fans settle at: per each further fan half
// the one before.
func fanCooling(perFan float64, n int) float64 {
	if n <= 0 {
		return 0
	}
	return perFan * (2 - math.Pow(2, float64(1-n)))
}

// fanChanged counts a fan in or out of its zone at t, after bringing the
// zone's cooling up to date with the old count. Called with w.mu held.
func (w *World) fanChanged(name string, t time.Time, running bool) {
	w.cooling(name, t)
	z := w.zone(name)
	if running {
		z.fans++
	} else {
		z.fans--
	}
}

// temperature is the zone's temperature at t. Called with w.mu held.
func (w *World) temperature(name string, t time.Time) float64 {
	return w.ambient(name, t) - w.cooling(name, t)
}

// humidity falls as the air warms, around a per-zone bias. Called with
// w.mu held.
func (w *World) humidity(name string, t time.Time) float64 {
	z := w.zone(name)
	rh := w.opts.Humidity + z.humidityBias - w.opts.HumidityPerDegree*(w.temperature(name, t)-w.opts.Start)
	return clamp(rh, 5, 95)
}

// pressure drifts slowly around a per-zone bias. Called with w.mu held.
func (w *World) pressure(name string, t time.Time) float64 {
	z := w.zone(name)
	since := t.Sub(w.opts.Epoch).Seconds()
	return w.opts.Pressure + z.pressureBias + 0.4*math.Sin(2*math.Pi*since/pressurePeriod.Seconds()+z.pressurePh)
}

// soc is a board's processor temperature: steady, with a slow swing of its
// own. Called with w.mu held.
func (w *World) soc(node string, t time.Time) float64 {
	phase := 2 * math.Pi * w.rng("soc", node).Float64()
	since := t.Sub(w.opts.Epoch).Seconds()
	return w.opts.SoC + 1.5*math.Sin(2*math.Pi*since/socPeriod.Seconds()+phase)
}
