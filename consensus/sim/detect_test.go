package sim

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

var long = flag.Bool("long", false, "sweep ten times more seeds in the detection tests")

// seedCount is how many seeds a sweep takes: normal, ten times more with
// -long, a quarter under the race detector, three with -short.
func seedCount(normal int) int {
	switch {
	case *long:
		return 10 * normal
	case testing.Short():
		return 3
	case raceEnabled:
		return max(3, normal/4)
	}
	return normal
}

// mustDetect is mustRun for a run whose adversaries lie about the world:
// every one of them, and nobody else, is ejected by f+1 accusers, and no
// honest node accused another. It returns when the last was ejected.
func mustDetect(t *testing.T, cfg Config, grounds string) (*Result, time.Duration) {
	t.Helper()
	r := mustRun(t, cfg)
	if want := byzantineNames(cfg); !slices.Equal(r.Ejected, want) {
		t.Fatalf("seed %d: ejected %v, want %v\nreplay: %s", cfg.Seed, r.Ejected, want, replayLine(cfg))
	}
	if r.Reports.HonestAgainstHonest != 0 {
		t.Fatalf("seed %d: %d accusations of an honest node by an honest node\nreplay: %s", cfg.Seed, r.Reports.HonestAgainstHonest, replayLine(cfg))
	}
	var last time.Duration
	for _, e := range r.Ejections {
		if e.Reason != reasonAccused || !slices.Equal(e.Grounds, []string{grounds}) || len(e.Accusers) < 2 {
			t.Errorf("seed %d: ejection %+v, want one by f+1 accusers of %s\nreplay: %s", cfg.Seed, e, grounds, replayLine(cfg))
		}
		last = max(last, time.Duration(r.EjectedAtMS[e.Node])*time.Millisecond)
	}
	return r, last
}

// spread summarises ejection times for the log.
func spread(times []time.Duration) string {
	slices.Sort(times)
	return fmt.Sprintf("fastest %s, median %s, slowest %s", times[0], times[len(times)/2], times[len(times)-1])
}

var groundsOf = map[string]string{"lie-sensor": wire.AccuseReadings, "false-outcome": wire.AccuseWitness, "rogue-act": wire.AccuseRogue}

// TestRun_DetectsLiars is the done-when of the issue for the adversaries
// that lie about the world: with 7 nodes and 2 of them, or 4 and 1, every
// liar — and nobody else — is ejected, whatever the seed, although the
// liars also slander an honest node together.
func TestRun_DetectsLiars(t *testing.T) {
	for _, strategy := range []string{"lie-sensor", "false-outcome", "rogue-act"} {
		for _, size := range []struct{ n, f int }{{7, 2}, {4, 1}} {
			t.Run(fmt.Sprintf("%s/n=%d", strategy, size.n), func(t *testing.T) {
				t.Parallel()
				seeds := seedCount(30)
				var times []time.Duration
				for seed := range uint64(seeds) {
					cfg := DefaultConfig()
					cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Heights, cfg.Seed = size.n, size.f, strategy, 30, seed+1
					cfg.FakeSignatures = true
					_, last := mustDetect(t, cfg, groundsOf[strategy])
					times = append(times, last)
				}
				t.Logf("%d seeds: every liar ejected by %s of virtual time", seeds, spread(times))
			})
		}
	}
}

// TestRun_DetectsLiarsUnderFaults: loss, duplication, partitions that leave
// honest nodes alone with the liars, crashes of performers and witnesses —
// the liars are still ejected, and no honest node accuses another.
func TestRun_DetectsLiarsUnderFaults(t *testing.T) {
	cases := []struct {
		name         string
		n, f         int
		strategy     string
		drop, dup    float64
		partition    string
		crash        string
		faultsUntil  time.Duration
		maxVirtual   time.Duration
		heights      int
		entryEvery   time.Duration
		wantBlocked  bool
		wantRestarts bool
	}{
		{"liars the majority of what two honest nodes hear", 7, 2, "lie-sensor", 0.1, 0.05,
			"1,2,6,7|3-5@1s-25s", "3@2s-10s", 30 * time.Second, 2 * time.Minute, 30, 30 * time.Millisecond, true, true},
		{"an honest node cut off, another crashed", 4, 1, "lie-sensor", 0.1, 0.05,
			"1|2-4@5s-15s", "2@1s-8s", 30 * time.Second, 2 * time.Minute, 30, 30 * time.Millisecond, true, true},
		{"performers and witnesses crash", 7, 2, "false-outcome", 0.1, 0.05,
			"1,2,6,7|3-5@1s-3s", "3@200ms-3s;1@4s-6s;2@4500ms-5s", 8 * time.Second, 0, 60, 0, true, true},
		{"heavy loss", 4, 1, "false-outcome", 0.3, 0.1,
			"1|2-4@300ms-2s", "2@1s-3s", 5 * time.Second, 0, 60, 0, true, true},
		// Witnesses that fall behind see pins rise before they know why.
		{"rogue drives while witnesses lag", 7, 2, "rogue-act", 0.1, 0.05,
			"1,2|3-7@1s-9s;4|1-3,5-7@10s-14s", "3@2s-6s;5@7s-12s", 20 * time.Second, 0, 60, 30 * time.Millisecond, true, true},
		{"a rogue among four, performers crashing", 4, 1, "rogue-act", 0.2, 0.05,
			"1|2-4@500ms-4s", "2@1s-3s;3@5s-8s", 12 * time.Second, 0, 60, 0, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var times []time.Duration
			seeds := seedCount(6)
			for seed := range uint64(seeds) {
				cfg := DefaultConfig()
				cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Heights, cfg.Seed = tc.n, tc.f, tc.strategy, tc.heights, 100+seed
				cfg.Drop, cfg.Duplicate, cfg.Partition, cfg.Crash = tc.drop, tc.dup, tc.partition, tc.crash
				cfg.FaultsUntil, cfg.MaxVirtualTime, cfg.FakeSignatures = tc.faultsUntil, tc.maxVirtual, true
				if tc.entryEvery > 0 {
					cfg.EntryEvery = tc.entryEvery
				}
				r, last := mustDetect(t, cfg, groundsOf[tc.strategy])
				if tc.wantBlocked && r.Reports.Network.Blocked == 0 {
					t.Errorf("seed %d: the partition cut no report", cfg.Seed)
				}
				if tc.wantRestarts && r.Faults.Restarts == 0 {
					t.Errorf("seed %d: nobody restarted", cfg.Seed)
				}
				times = append(times, last)
			}
			t.Logf("%d seeds: every liar ejected by %s of virtual time", seeds, spread(times))
		})
	}
}

// TestRun_HonestWorldAccusesNobody: with no adversary, honest noise,
// calibration, loss, duplication, partitions and crashes (of performers
// mid-drive and of witnesses mid-watch among them) never lead one honest
// node to accuse another.
func TestRun_HonestWorldAccusesNobody(t *testing.T) {
	cases := []struct {
		name      string
		n         int
		drop, dup float64
		partition string
		crash     string
		faults    time.Duration
	}{
		{"seven nodes, long faults", 7, 0.1, 0.05, "1,2|3-7@1s-8s;1-3|4-7@10s-13s", "3@2s-6s;5@8s-9s;1@14s-16s", 25 * time.Second},
		{"four nodes, heavy loss", 4, 0.3, 0.1, "1|2-4@500ms-3s;2,3|1,4@12s-16s", "2@1s-4s;4@5s-20s", 25 * time.Second},
		{"ten nodes", 10, 0.1, 0, "1-5|6-10@2s-4s", "7@1s-12s", 15 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for seed := range uint64(seedCount(4)) {
				cfg := DefaultConfig()
				cfg.Nodes, cfg.Heights, cfg.Seed = tc.n, 20, 200+seed
				cfg.Drop, cfg.Duplicate, cfg.Partition, cfg.Crash, cfg.FaultsUntil = tc.drop, tc.dup, tc.partition, tc.crash, tc.faults
				cfg.EntryEvery, cfg.FakeSignatures = 50*time.Millisecond, true
				r := mustRun(t, cfg)
				if r.Reports.Accusations != 0 || len(r.Ejected) != 0 {
					t.Fatalf("seed %d: %d accusations, ejected %v\nreplay: %s", cfg.Seed, r.Reports.Accusations, r.Ejected, replayLine(cfg))
				}
				if r.Reports.Readings == 0 || r.Reports.Outcomes == 0 {
					t.Fatalf("seed %d: reports %+v: the world was not exercised", cfg.Seed, r.Reports)
				}
			}
		})
	}
}

// TestRun_SlanderBeyondTolerance shows where the f+1 rule ends: two
// colluding liars among four validators (f = 1) are f+1, and their slander
// ejects an honest node. The checker says so; the detection check does not
// apply beyond f.
func TestRun_SlanderBeyondTolerance(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Heights, cfg.Seed = 4, 2, "false-outcome", 10, 1
	cfg.FakeSignatures, cfg.MaxVirtualTime = true, 20*time.Second
	r, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.SafetyViolations == 0 || !slices.ContainsFunc(r.Violations, func(v string) bool { return strings.HasPrefix(v, "honest-ejected: honest node-1") }) {
		t.Fatalf("violations %v: want node-1's ejection flagged", r.Violations)
	}
	if !r.DetectionOK {
		t.Errorf("detection checked beyond f: %v", r.Violations)
	}
}

// TestRun_NarratesAccusations: accusations are told as they are made, and
// ejections say who accused.
func TestRun_NarratesAccusations(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Heights, cfg.Seed = 4, 1, "false-outcome", 20, 1
	cfg.FakeSignatures = true
	var accusations, ejections []string
	cfg.Events = func(e Event) {
		switch e.Kind {
		case "accusation":
			accusations = append(accusations, e.Text)
		case "ejection":
			ejections = append(ejections, e.Text)
		}
	}
	mustRun(t, cfg)
	if !slices.ContainsFunc(accusations, func(s string) bool {
		return strings.Contains(s, "accuses node-4: witness-contradiction") && strings.Contains(s, "it never rose")
	}) {
		t.Errorf("accusations told: %q", accusations)
	}
	if len(ejections) != 1 || !strings.Contains(ejections[0], "node-4 is ejected") || !strings.Contains(ejections[0], "accused by ") {
		t.Errorf("ejections told: %q", ejections)
	}
}

// The mixed adversary (equivocation, lying readings and false outcomes at
// once) is ejected, and nobody else, whatever the seed.
func TestRun_DetectsMixed(t *testing.T) {
	for seed := range uint64(seedCount(10)) {
		cfg := DefaultConfig()
		cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Heights, cfg.Seed = 7, 2, "mixed", 30, seed+1
		cfg.FakeSignatures = true
		res, err := Run(cfg)
		if err != nil {
			t.Fatalf("seed %d: %v", cfg.Seed, err)
		}
		if !res.OK() || fmt.Sprint(res.Ejected) != "[node-6 node-7]" {
			t.Fatalf("seed %d: ok %v, ejected %v, safety violations %d", cfg.Seed, res.OK(), res.Ejected, res.SafetyViolations)
		}
	}
}

// A flood of stale, validly signed messages does not stop the honest nodes.
func TestRun_FloodDoesNotStopDecisions(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Heights, cfg.Seed = 7, 2, "flood", 50, 1
	cfg.FakeSignatures = true
	res, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.DecidedHeights < 50 {
		t.Fatalf("ok %v, decided %d, safety violations %d", res.OK(), res.DecidedHeights, res.SafetyViolations)
	}
}
