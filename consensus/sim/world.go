package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// The world
//
// The nodes share one small physical world, which is what their reports
// are about and what lets the honest ones catch a liar:
//
//   - One zone (a greenhouse) whose air temperature follows a slow
//     sinusoid of the virtual time, 26 ± 1.5 °C over ten minutes. Every
//     node's sensor reads it with its own calibration offset (uniform in
//     ±0.3 °C, drawn once per run) and Gaussian noise (σ 0.2 °C, drawn per
//     sample). The zone is kept warm so that a sensor stuck at 21 °C is a lie
//     the audit can see; a stuck value that happens to be the truth is no
//     lie until the truth moves.
//   - One output pin per node. A performer drives its pin high for the
//     length of an action; the witnesses see the pin itself, not a report of
//     it, so a false outcome cannot hide. A node that crashes while driving
//     lets the pin fall.
//
// Everything in it is decided by the run's random source and virtual time.

// epoch is virtual time zero as a wall-clock instant, for the ts of signed
// payloads. It is a whole number of audit buckets since the Unix epoch, so
// buckets start at virtual multiples of the bucket length.
var epoch = time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)

const (
	// SampleEvery is how often every node reads its temperature sensor and
	// sends the signed reading to its peers: the audit's bucket.
	SampleEvery = 2 * time.Second
	// AuditEvery is how often an honest node asks its auditor for suspects
	// (and an adversary decides whom to slander).
	AuditEvery = time.Second

	zone        = "greenhouse"
	sensorName  = "bme280"
	truthMean   = 26.0 // °C
	truthSwing  = 1.5  // °C
	truthPeriod = 10 * time.Minute
	calibration = 0.3 // °C, the largest offset of an honest sensor
	noise       = 0.2 // °C, σ of one sample
)

// world is the shared physical state of a run.
type world struct {
	rng    *rand.Rand
	offset []float64 // node number → its sensor's calibration offset
	drives [][]drive // node number → recent intervals its pin was high
}

// drive is one interval [from, until) of virtual time a pin was high.
type drive struct{ from, until time.Duration }

// keepDrives is how long the world remembers a pin's past: longer than any
// witness watches.
const keepDrives = time.Minute

func newWorld(rng *rand.Rand, nodes int) *world {
	w := &world{rng: rng, offset: make([]float64, nodes+1), drives: make([][]drive, nodes+1)}
	for i := 1; i <= nodes; i++ {
		w.offset[i] = (2*rng.Float64() - 1) * calibration
	}
	return w
}

// truth is the zone's temperature at t.
func (w *world) truth(t time.Duration) float64 {
	return truthMean + truthSwing*math.Sin(2*math.Pi*float64(t)/float64(truthPeriod))
}

// sense is what node num's sensor reads at t, rounded to a hundredth.
func (w *world) sense(num int, t time.Duration) float64 {
	v := w.truth(t) + w.offset[num] + noise*w.rng.NormFloat64()
	return math.Round(v*100) / 100
}

// drive records that node num's pin is high during [from, until).
func (w *world) drive(num int, from, until time.Duration) {
	d := w.drives[num]
	i := 0
	for i < len(d) && d[i].until < from-keepDrives {
		i++
	}
	w.drives[num] = append(d[i:], drive{from, until})
}

// fall is a crash of node num at now: a drive under way ends, and drives
// it had planned never happen.
func (w *world) fall(num int, now time.Duration) {
	kept := w.drives[num][:0]
	for _, d := range w.drives[num] {
		if d.from >= now {
			continue
		}
		d.until = min(d.until, now)
		kept = append(kept, d)
	}
	w.drives[num] = kept
}

// moved reports whether node num's pin was high at any time in [from, until).
func (w *world) moved(num int, from, until time.Duration) bool {
	for _, d := range w.drives[num] {
		if d.from < until && from < d.until {
			return true
		}
	}
	return false
}
