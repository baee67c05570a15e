package sim

import (
	"math"
	"testing"
	"time"

	"github.com/seed44533760/pact/hw/hwtest"
)

// firstAbove steps the clock until the zone passes threshold, and returns
// how long that took (or limit).
func firstAbove(w *World, clock *hwtest.Clock, zone string, threshold float64, limit time.Duration) time.Duration {
	const step = 100 * time.Millisecond
	for d := time.Duration(0); d <= limit; d += step {
		if w.Temperature(zone) > threshold {
			return d
		}
		clock.Advance(step)
	}
	return limit
}

// A fresh world warms past the ventilate trigger (28 °C) between 20 and
// 40 seconds in, in every zone, whatever the seed.
func TestWorld_UnventilatedZoneCrossesTheThreshold(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		for _, zone := range []string{"greenhouse", "shed", ""} {
			w, clock := newTestWorld(t, seed, WorldOptions{})
			start := w.Temperature(zone)
			if start < 23 || start > 25 {
				t.Errorf("seed %d zone %q starts at %.2f °C, want about 24", seed, zone, start)
			}
			if d := firstAbove(w, clock, zone, 28, time.Minute); d < 20*time.Second || d > 40*time.Second {
				t.Errorf("seed %d zone %q: above 28 °C after %v, want 20–40 s", seed, zone, d)
			}
		}
	}
}

// The heat cycle: near Peak at the end of the heating, back near Start at
// the end of the cycle, and periodic.
func TestWorld_HeatCycle(t *testing.T) {
	w, _ := newTestWorld(t, 7, WorldOptions{Wobble: -1, ZoneSpread: -1})
	at := func(d time.Duration) float64 {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.ambient("z", epoch.Add(d))
	}
	if got := at(0); got != 24 {
		t.Errorf("start %.3f, want 24", got)
	}
	if got := at(2 * time.Minute); got < 31.5 || got > 32 {
		t.Errorf("end of heating %.3f, want near 32", got)
	}
	if got := at(4*time.Minute - time.Millisecond); got < 24 || got > 24.5 {
		t.Errorf("end of cycle %.3f, want just above 24", got)
	}
	for _, d := range []time.Duration{17 * time.Second, 95 * time.Second, 200 * time.Second} {
		if a, b := at(d), at(d+3*4*time.Minute); math.Abs(a-b) > 1e-9 {
			t.Errorf("+%v: %.6f, three cycles later %.6f", d, a, b)
		}
	}
}

// A fan running in a zone cools it below the re-arm threshold (26 °C)
// within about 15 s; a zone without one keeps warming; the cooling wears
// off after the fan stops; another zone is untouched.
func TestWorld_FanCoolsItsZone(t *testing.T) {
	const seed = 42
	fanned, clock := newTestWorld(t, seed, WorldOptions{})
	still, stillClock := newTestWorld(t, seed, WorldOptions{})
	b := open(t, fanned, spec("node-1", "greenhouse", true, ""))
	open(t, fanned, spec("node-2", "shed", false, ""))
	fan := mustOutput(t, b, "fan")

	advance := func(d time.Duration) {
		clock.Advance(d)
		stillClock.Advance(d)
	}
	advance(30 * time.Second)
	if a, b := fanned.Temperature("greenhouse"), still.Temperature("greenhouse"); a != b || a < 28 {
		t.Fatalf("before the fan: %.3f and %.3f, want equal and above 28", a, b)
	}
	if err := fan.Set(true); err != nil {
		t.Fatal(err)
	}
	if n := fanned.Fans("greenhouse"); n != 1 {
		t.Fatalf("%d fans running, want 1", n)
	}
	var below time.Duration
	for below = 0; below < time.Minute && fanned.Temperature("greenhouse") >= 26; below += time.Second {
		advance(time.Second)
	}
	if below < 5*time.Second || below > 25*time.Second {
		t.Errorf("below 26 °C %v after the fan started, want 5–25 s", below)
	}
	if still.Temperature("greenhouse") < 28 {
		t.Errorf("the unventilated twin is at %.2f, want still above 28", still.Temperature("greenhouse"))
	}
	if a, b := fanned.Temperature("shed"), still.Temperature("shed"); a != b {
		t.Errorf("the fan cooled another zone: %.3f vs %.3f", a, b)
	}
	if err := fan.Set(false); err != nil {
		t.Fatal(err)
	}
	if n := fanned.Fans("greenhouse"); n != 0 {
		t.Fatalf("%d fans running after off, want 0", n)
	}
	advance(20 * time.Second)
	if fanned.Temperature("greenhouse") < 28 {
		t.Errorf("20 s after the fan stopped the zone is at %.2f, want back above 28", fanned.Temperature("greenhouse"))
	}
	advance(2 * time.Minute)
	if d := still.Temperature("greenhouse") - fanned.Temperature("greenhouse"); d > 0.05 {
		t.Errorf("cooling has not worn off: %.3f °C left", d)
	}
}

func TestFanCooling_Diminishes(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want float64
	}{{0, 0}, {1, 8}, {2, 12}, {3, 14}, {-1, 0}} {
		if got := fanCooling(8, tc.n); got != tc.want {
			t.Errorf("%d fans: %.2f, want %.2f", tc.n, got, tc.want)
		}
	}
}

// Two worlds of one seed, made at different times as two processes would
// be, agree on every value at every instant; another seed does not.
func TestWorld_SameSeedSameTimeSameValues(t *testing.T) {
	opts := WorldOptions{Epoch: epoch}
	a := NewWorld(9, WorldOptions{Epoch: epoch, Clock: hwtest.NewClock(epoch)})
	lateClock := hwtest.NewClock(epoch.Add(time.Hour))
	opts.Clock = lateClock
	b := NewWorld(9, opts)
	other := NewWorld(10, opts)
	aClock := a.clock.(*hwtest.Clock)
	aClock.Advance(time.Hour)
	for i := range 50 {
		for _, zone := range []string{"greenhouse", "shed"} {
			if a.Temperature(zone) != b.Temperature(zone) || a.Humidity(zone) != b.Humidity(zone) || a.Pressure(zone) != b.Pressure(zone) {
				t.Fatalf("step %d zone %s: (%v %v %v) vs (%v %v %v)", i, zone,
					a.Temperature(zone), a.Humidity(zone), a.Pressure(zone), b.Temperature(zone), b.Humidity(zone), b.Pressure(zone))
			}
		}
		if other.Temperature("greenhouse") == a.Temperature("greenhouse") {
			t.Fatalf("step %d: seed 10 gives seed 9's temperature", i)
		}
		aClock.Advance(1700 * time.Millisecond)
		lateClock.Advance(1700 * time.Millisecond)
	}

	// Their sensors of one node and name read the same noise too.
	ba := open(t, a, spec("node-1", "greenhouse", false, ""))
	bb := open(t, b, spec("node-1", "greenhouse", false, ""))
	for i := range 5 {
		if x, y := sense(t, ba, "temp"), sense(t, bb, "temp"); x != y {
			t.Fatalf("reading %d: %.3f vs %.3f", i, x, y)
		}
	}
}

// SharedWorld's model is a function of the wall-clock time alone: two
// processes (here, two instances) started hours apart compute the same
// zone temperatures, and honest sensors on boards in each agree within
// their noise.
func TestSharedWorld_ProcessesAgree(t *testing.T) {
	now := time.Date(2026, 5, 17, 9, 41, 13, 0, time.UTC)
	early, late := hwtest.NewClock(now), hwtest.NewClock(now.Add(3*time.Hour+17*time.Minute))
	p1 := newSharedWorld("testnet", early)
	early.Advance(3*time.Hour + 17*time.Minute)
	p2 := newSharedWorld("testnet", late)
	b1 := open(t, p1, spec("node-1", "greenhouse", false, ""))
	b2 := open(t, p2, spec("node-2", "greenhouse", false, ""))
	for i := range 40 {
		if x, y := p1.Temperature("greenhouse"), p2.Temperature("greenhouse"); x != y {
			t.Fatalf("step %d: %.4f vs %.4f", i, x, y)
		}
		if x, y := sense(t, b1, "temp"), sense(t, b2, "temp"); math.Abs(x-y) > 0.5 {
			t.Fatalf("step %d: node-1 reads %.2f, node-2 %.2f", i, x, y)
		}
		early.Advance(7 * time.Second)
		late.Advance(7 * time.Second)
	}
	if ClusterSeed("testnet") == ClusterSeed("other") {
		t.Error("two clusters share a seed")
	}
	first, again, other := SharedWorld("a"), SharedWorld("a"), SharedWorld("b")
	if first != again || first == other {
		t.Error("SharedWorld is not one world per cluster")
	}
}

// Zones sit apart by their offsets, but within the configured spread.
func TestWorld_ZonesDiffer(t *testing.T) {
	w, _ := newTestWorld(t, 3, WorldOptions{})
	a, b := w.Temperature("north"), w.Temperature("south")
	if a == b {
		t.Error("two zones share a temperature")
	}
	if math.Abs(a-b) > 2*(0.25+0.2) {
		t.Errorf("zones %.3f and %.3f differ by more than spread and wobble allow", a, b)
	}
}

// Humidity and pressure are plausible and move slowly.
func TestWorld_HumidityAndPressurePlausible(t *testing.T) {
	w, clock := newTestWorld(t, 5, WorldOptions{})
	prevH, prevP := w.Humidity("z"), w.Pressure("z")
	for range 240 {
		clock.Advance(time.Second)
		h, p := w.Humidity("z"), w.Pressure("z")
		if h < 40 || h > 65 || p < 1008 || p > 1019 {
			t.Fatalf("humidity %.2f %%, pressure %.2f hPa: implausible", h, p)
		}
		if math.Abs(h-prevH) > 0.5 || math.Abs(p-prevP) > 0.05 {
			t.Fatalf("jump in a second: humidity %.2f → %.2f, pressure %.3f → %.3f", prevH, h, prevP, p)
		}
		prevH, prevP = h, p
	}
}

func TestWorldOptions_Defaults(t *testing.T) {
	o := WorldOptions{Clock: hwtest.NewClock(epoch), Wobble: -1, Quiet: true, HeatOn: time.Hour}.withDefaults()
	d := DefaultWorldOptions()
	if o.Start != d.Start || o.Peak != d.Peak || o.HeatTau != d.HeatTau || !o.Epoch.Equal(epoch) {
		t.Errorf("defaults not filled: %+v", o)
	}
	if o.Wobble != 0 || o.TemperatureNoise != 0 || o.SoCNoise != 0 {
		t.Errorf("negative wobble or Quiet not honoured: %+v", o)
	}
	if o.HeatOn != o.HeatCycle {
		t.Errorf("HeatOn %v longer than the cycle %v", o.HeatOn, o.HeatCycle)
	}
}
