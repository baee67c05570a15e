package audit

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// Honest nodes must never be accused: not for their noise, not for a slow
// sensor, a pause, a restart, a small zone or a disorderly network.

func TestSuspects_HonestNoise(t *testing.T) {
	seeds := 200
	if testing.Short() {
		seeds = 21
	}
	const minutes = 10
	cfg := DefaultConfig()
	// Seed s runs 5 + s%3 nodes; each node count is a parallel subtest.
	for n := 5; n <= 7; n++ {
		t.Run(fmt.Sprintf("nodes=%d", n), func(t *testing.T) {
			t.Parallel()
			runs := 0
			for seed := uint64(n - 5); seed < uint64(seeds); seed += 3 {
				w := newWorld(seed, n, minutes*time.Minute)
				res := w.run(t, cfg)
				if got := res.accused(); len(got) > 0 {
					t.Errorf("seed %d (%d nodes): honest nodes accused: %v; first: %s", seed, n, got, res.accs[got[0]][0].Summary)
				}
				for s, count := range res.errors {
					t.Errorf("seed %d: Add refused %d payloads: %v", seed, count, s)
				}
				runs++
			}
			t.Logf("%d seeds × %d nodes × %d minutes of σ=0.2 °C noise: 0 suspects", runs, n, minutes)
		})
	}
}

func TestSuspects_HonestFaults(t *testing.T) {
	ramp := func(e time.Duration) float64 { return 24 + e.Minutes() } // 1 °C/min
	for _, tc := range []struct {
		name  string
		nodes int
		setup func(w *simWorld)
	}{
		{"SlowSensor", 6, func(w *simWorld) {
			w.truth = ramp
			w.node("node-3").lag = 20 * time.Second
		}},
		{"SlowSensorFastRamp", 5, func(w *simWorld) {
			// 3 °C/min through a 20 s lag is 1 °C behind: still within the
			// tolerance.
			w.truth = func(e time.Duration) float64 { return 20 + 3*e.Minutes() }
			w.node("node-2").lag = 20 * time.Second
		}},
		{"Paused", 6, func(w *simWorld) {
			w.node("node-4").gaps = []gap{{3 * time.Minute, 3*time.Minute + 30*time.Second}}
		}},
		{"PausedWhileTruthMoves", 5, func(w *simWorld) {
			w.truth = ramp
			w.node("node-1").gaps = []gap{{time.Minute, time.Minute + 30*time.Second}, {4 * time.Minute, 5 * time.Minute}}
		}},
		{"Restart", 6, func(w *simWorld) {
			n := w.node("node-2")
			n.gaps = []gap{{2 * time.Minute, 2*time.Minute + 20*time.Second}}
			n.rephase = 1300 * time.Millisecond
		}},
		{"RestartSlowSensor", 5, func(w *simWorld) {
			w.truth = ramp
			n := w.node("node-5")
			n.lag = 20 * time.Second
			n.gaps = []gap{{2 * time.Minute, 2*time.Minute + 20*time.Second}}
			n.rephase = 700 * time.Millisecond
		}},
		{"EveryoneRestarts", 5, func(w *simWorld) {
			for _, n := range w.nodes {
				n.gaps = []gap{{3 * time.Minute, 3*time.Minute + 20*time.Second}}
			}
		}},
		{"ThreeNodeZone", 3, func(w *simWorld) {}},
		{"ThreeNodeZoneWithLiar", 3, func(w *simWorld) {
			// Two peers cannot outvote one: nobody is judged at all.
			w.node("node-3").lie = offsetLie(8)
		}},
		{"SmallZoneBesideBigOne", 7, func(w *simWorld) {
			w.zoneBase = map[string]float64{"shed": -10}
			for _, name := range []string{"node-5", "node-6", "node-7"} {
				w.node(name).zone = "shed"
			}
			w.node("node-6").lie = offsetLie(8)
		}},
		{"TwoZones", 8, func(w *simWorld) {
			w.zoneBase = map[string]float64{"shed": -10}
			for _, name := range []string{"node-5", "node-6", "node-7", "node-8"} {
				w.node(name).zone = "shed"
			}
		}},
		{"OutOfOrderAndTwice", 6, func(w *simWorld) {
			w.maxDelay = 7 * time.Second
			w.dupShare = 0.5
		}},
		{"OneNoisySample", 5, func(w *simWorld) {
			w.node("node-1").spikes = map[int]float64{40: 30, 90: -25}
			w.node("node-2").spikes = map[int]float64{41: 15}
		}},
		{"NoisySensor", 6, func(w *simWorld) {
			w.node("node-6").noise = 0.5 // a cheap sensor: still within 2 °C
		}},
		{"SkewedClocks", 6, func(w *simWorld) {
			for i, n := range w.nodes {
				n.skew = time.Duration(i-3) * 400 * time.Millisecond
			}
		}},
		{"CalibrationErrors", 7, func(w *simWorld) {
			// BME280s are good to ±1 °C.
			for i, n := range w.nodes {
				n.bias = float64(i-3) / 3
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for seed := range uint64(20) {
				w := newWorld(seed, tc.nodes, 10*time.Minute)
				tc.setup(w)
				res := w.run(t, DefaultConfig())
				if got := res.accused(); len(got) > 0 {
					t.Errorf("seed %d: honest nodes accused: %v; first: %s", seed, got, res.accs[got[0]][0].Summary)
				}
				for s, count := range res.errors {
					if s != ErrDuplicate || w.dupShare == 0 {
						t.Errorf("seed %d: Add refused %d payloads: %v", seed, count, s)
					}
				}
			}
		})
	}
}

// The lag case above is comfortable only because of the tolerance: make
// sure the simulated lag really lags.
func TestSim_LagLags(t *testing.T) {
	w := newWorld(1, 5, 5*time.Minute)
	w.truth = func(e time.Duration) float64 { return 24 + e.Minutes() }
	n := w.node("node-1")
	n.lag, n.noise, n.bias = 20*time.Second, 0, 0
	var last float64
	var lastTS time.Duration
	for _, d := range w.deliveries() {
		if d.r.Node == "node-1" {
			last = d.r.Readings[0].Value
			lastTS = d.at.Sub(simStart)
		}
	}
	behind := w.truth(lastTS) - last
	if math.Abs(behind-1.0/3) > 0.05 {
		t.Errorf("a 20 s lag behind 1 °C/min is %.3f °C behind, want about 0.333", behind)
	}
}
