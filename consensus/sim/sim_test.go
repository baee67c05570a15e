package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/consensus/quorum"
)

// replayLine is the `pact sim` command that repeats a run, printed with
// every failure so it can be replayed outside the test.
func replayLine(cfg Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pact sim --nodes %d --byzantine %d --heights %d --seed %d", cfg.Nodes, cfg.Byzantine, cfg.Heights, cfg.Seed)
	if cfg.Strategy != "" {
		fmt.Fprintf(&b, " --strategy %s", cfg.Strategy)
	}
	if cfg.Drop > 0 {
		fmt.Fprintf(&b, " --drop %g", cfg.Drop)
	}
	if cfg.Duplicate > 0 {
		fmt.Fprintf(&b, " --dup %g", cfg.Duplicate)
	}
	if cfg.Partition != "" {
		fmt.Fprintf(&b, " --partition '%s'", cfg.Partition)
	}
	if cfg.Crash != "" {
		fmt.Fprintf(&b, " --crash '%s'", cfg.Crash)
	}
	if cfg.FaultsUntil > 0 {
		fmt.Fprintf(&b, " --faults-until %s", cfg.FaultsUntil)
	}
	if cfg.FakeSignatures {
		b.WriteString(" --fake-sigs")
	}
	return b.String()
}

// mustRun runs cfg and fails the test, with the replay command, unless every
// check passed and every honest node decided cfg.Heights.
func mustRun(t *testing.T, cfg Config) *Result {
	t.Helper()
	r, err := Run(cfg)
	if err != nil {
		t.Fatalf("%v\nreplay: %s", err, replayLine(cfg))
	}
	if !r.OK() || r.DecidedHeights < uint64(cfg.Heights) {
		t.Fatalf("seed %d: %d safety violations, liveness ok %t, decided %d of %d:\n  %s\nreplay: %s",
			cfg.Seed, r.SafetyViolations, r.LivenessOK, r.DecidedHeights, cfg.Heights,
			strings.Join(r.Violations, "\n  "), replayLine(cfg))
	}
	byz := byzantineNames(cfg)
	for _, e := range r.Ejected {
		if !slices.Contains(byz, e) {
			t.Errorf("seed %d: honest %s ejected\nreplay: %s", cfg.Seed, e, replayLine(cfg))
		}
	}
	return r
}

// byzantineNames lists the adversaries sorted as Result.Ejected is.
func byzantineNames(cfg Config) []string {
	var out []string
	for i := cfg.Nodes - cfg.Byzantine + 1; i <= cfg.Nodes; i++ {
		out = append(out, string(NodeName(i)))
	}
	slices.Sort(out)
	return out
}

// TestRun_DoneWhen is the acceptance run of the issue: 7 nodes, 2
// equivocating, 10% loss, 500 heights (fake signatures here; `pact sim` runs
// it with Ed25519).
func TestRun_DoneWhen(t *testing.T) {
	if testing.Short() {
		t.Skip("500 heights: skipped with -short")
	}
	cfg := DefaultConfig()
	cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Heights, cfg.Seed, cfg.Drop = 7, 2, "equivocate", 500, 1, 0.1
	cfg.FakeSignatures = true
	r := mustRun(t, cfg)
	if r.DecidedHeights != 500 {
		t.Errorf("decided %d heights, want 500", r.DecidedHeights)
	}
	if !slices.Equal(r.Ejected, []string{"node-6", "node-7"}) {
		t.Errorf("ejected %v, want both equivocators", r.Ejected)
	}
}

// TestRun_StrategySweep runs every strategy with f = ⌊(n−1)/3⌋ adversaries
// for n = 4, 7 and 10 over a lossy, duplicating network, and checks that
// equivocators, twins and the liars of lie-sensor and false-outcome — and
// only they — are ejected.
func TestRun_StrategySweep(t *testing.T) {
	seeds := map[int][]uint64{4: {1, 2, 3, 4}, 7: {1, 2, 3}, 10: {1, 2}}
	heights := map[int]int{4: 100, 7: 100, 10: 60}
	if testing.Short() {
		seeds = map[int][]uint64{4: {1}, 7: {1}}
		heights = map[int]int{4: 30, 7: 30}
	}
	for _, n := range []int{4, 7, 10} {
		for _, strategy := range Strategies() {
			for i, seed := range seeds[n] {
				if strategy == "lie-sensor" && i > 0 {
					break // 20s of virtual time each; TestRun_DetectsLiars sweeps its seeds
				}
				f := quorum.Faulty(n)
				if strategy == "none" {
					f = 0
				}
				cfg := DefaultConfig()
				cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Heights, cfg.Seed = n, f, strategy, heights[n], seed
				cfg.Drop, cfg.Duplicate, cfg.FakeSignatures = 0.1, 0.05, true
				if cfg.Heights == 0 {
					continue
				}
				t.Run(fmt.Sprintf("n=%d/%s/seed=%d", n, strategy, seed), func(t *testing.T) {
					t.Parallel()
					r := mustRun(t, cfg)
					if strategy == "equivocate" || strategy == "twins" || strategy == "lie-sensor" || strategy == "false-outcome" {
						if want := byzantineNames(cfg); !slices.Equal(r.Ejected, want) {
							t.Errorf("ejected %v, want every adversary %v\nreplay: %s", r.Ejected, want, replayLine(cfg))
						}
					}
					if strategy == "forge" && r.Consensus.BadSignatures == 0 {
						t.Errorf("forgers sent no message with a bad signature that an honest node refused")
					}
				})
			}
		}
	}
}

// TestRun_Faults runs partitions, crashes and restarts with adversaries.
func TestRun_Faults(t *testing.T) {
	cases := []struct {
		name      string
		n, f      int
		strategy  string
		partition string
		crash     string
		drop      float64
	}{
		{"minority cut off", 7, 2, "equivocate", "1-2|3-7@1s-3s", "", 0.05},
		{"no side has a quorum", 7, 2, "twins", "1-3|4-7@500ms-2500ms", "", 0.05},
		{"two partitions in turn", 7, 2, "silent", "1|2-7@500ms-1500ms;1-3|4-7@2s-3s", "", 0},
		{"honest crash and restart", 7, 2, "silent", "", "1@1s-2s;2@1500ms-3s", 0.05},
		{"crash until heal", 4, 1, "equivocate", "", "2@700ms", 0.1},
		{"crash during a partition", 10, 3, "random", "1-5|6-10@1s-2s", "3@1200ms-2500ms;4@1500ms-3s", 0.05},
		{"everything at once", 7, 2, "forge", "1-4|5-7@800ms-1800ms", "1@300ms-1s;6@1s-2s", 0.15},
		{"lossy network", 4, 1, "replay", "", "", 0.2},
	}
	for i, tc := range cases {
		seeds := []uint64{1, 2}
		if testing.Short() {
			seeds = seeds[:1]
		}
		for _, seed := range seeds {
			cfg := DefaultConfig()
			cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Seed = tc.n, tc.f, tc.strategy, seed+uint64(10*i)
			cfg.Heights, cfg.Partition, cfg.Crash, cfg.Drop = 60, tc.partition, tc.crash, tc.drop
			cfg.FakeSignatures = true
			cfg.FaultsUntil = 4 * time.Second
			t.Run(fmt.Sprintf("%s/seed=%d", tc.name, cfg.Seed), func(t *testing.T) {
				t.Parallel()
				r := mustRun(t, cfg)
				if tc.crash != "" && (r.Faults.Crashes == 0 || r.Faults.Restarts < r.Faults.Crashes) {
					t.Errorf("faults %+v: want crashes, each followed by a restart", r.Faults)
				}
				if tc.partition != "" && r.Messages.Blocked == 0 {
					t.Errorf("no delivery was cut by the partition")
				}
			})
		}
	}
}

// TestRun_Ed25519 runs every strategy once with real signatures, so the
// cryptographic path (and Evidence.Verify with Ed25519 in eject entries) is
// covered too.
func TestRun_Ed25519(t *testing.T) {
	for _, strategy := range Strategies() {
		cfg := DefaultConfig()
		cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Heights, cfg.Seed, cfg.Drop = 4, 1, strategy, 20, 7, 0.1
		if strategy == "none" {
			cfg.Byzantine = 0
		}
		if testing.Short() {
			cfg.Heights = 8
		}
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			r := mustRun(t, cfg)
			if r.SignatureVerifications == 0 {
				t.Error("no signature was verified")
			}
		})
	}
}

// TestRun_Deterministic: a seed fixes the run bit for bit.
func TestRun_Deterministic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Nodes, cfg.Byzantine, cfg.Heights, cfg.Seed = 7, 2, 40, 42
	cfg.Drop, cfg.Duplicate, cfg.FakeSignatures = 0.1, 0.1, true
	cfg.Partition, cfg.Crash = "1-3|4-7@300ms-700ms", "2@200ms-900ms"
	encode := func(cfg Config) string {
		r, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r.WallMS = 0
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	strategies := []string{"random", "equivocate", "twins", "forge", "replay", "false-outcome", "lie-sensor"}
	if testing.Short() {
		strategies = strategies[:1]
	}
	for _, strategy := range strategies {
		cfg.Strategy = strategy
		if strategy == "lie-sensor" {
			// Its run lasts until the audit ejects the liars, 20s or more
			// of virtual time: a smaller cluster keeps it cheap.
			cfg.Nodes, cfg.Byzantine, cfg.Partition = 4, 1, "1-2|3-4@300ms-700ms"
		}
		a, b := encode(cfg), encode(cfg)
		if a != b {
			t.Errorf("%s: two runs of seed %d differ:\n%s\n%s", strategy, cfg.Seed, a, b)
		}
		other := cfg
		other.Seed++
		if encode(other) == a {
			t.Errorf("%s: seeds %d and %d gave identical runs", strategy, cfg.Seed, other.Seed)
		}
	}
}

// TestRun_AmnesiaIsCaught shows that the checker can fail: nodes restarted
// without their persisted SignState sign conflicting messages, and the run
// reports them (and the ejection of honest nodes that follows). The same run
// with the guard restored is clean.
func TestRun_AmnesiaIsCaught(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Nodes, cfg.Heights, cfg.Seed, cfg.FakeSignatures, cfg.Drop = 4, 40, 3, true, 0.2
	cfg.Crash = "1@300ms-400ms;2@500ms-600ms;3@700ms-800ms;1@900ms-1s;2@1100ms-1200ms"
	cfg.MaxVirtualTime = 30 * time.Second

	forgetful := cfg
	forgetful.amnesia = true
	r, err := Run(forgetful)
	if err != nil {
		t.Fatal(err)
	}
	if r.SafetyViolations == 0 || !slices.ContainsFunc(r.Violations, func(v string) bool { return strings.HasPrefix(v, "double-sign: ") }) {
		t.Fatalf("amnesia went unnoticed: %d safety violations %v\nreplay: %s", r.SafetyViolations, r.Violations, replayLine(cfg))
	}
	mustRun(t, cfg)
}

// TestRun_BeyondToleranceFailsLiveness: with more silent adversaries than
// the cluster tolerates, nothing decides, and the run says so.
func TestRun_BeyondToleranceFailsLiveness(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Heights, cfg.Seed = 4, 2, "silent", 10, 1
	cfg.FakeSignatures, cfg.MaxVirtualTime = true, 5*time.Second
	r, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.LivenessOK || r.OK() || r.SafetyViolations != 0 || len(r.Violations) != 1 || !strings.HasPrefix(r.Violations[0], "liveness: ") {
		t.Fatalf("want exactly one liveness violation, got ok=%t %v", r.OK(), r.Violations)
	}
	if r.Tolerated != 1 {
		t.Errorf("tolerated = %d, want 1", r.Tolerated)
	}
}

// TestRun_Narration: the events a narrated run reports.
func TestRun_Narration(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Heights, cfg.Seed = 7, 2, "equivocate", 30, 1
	cfg.FakeSignatures = true
	cfg.Partition, cfg.Crash, cfg.FaultsUntil = "1|2-7@100ms-300ms", "2@200ms-400ms", time.Second
	kinds := map[string]int{}
	var last time.Duration
	cfg.Events = func(e Event) {
		kinds[e.Kind]++
		if e.At < last {
			t.Errorf("event %q at %s after one at %s", e.Kind, e.At, last)
		}
		last = e.At
		if e.Text == "" {
			t.Errorf("event %q without text", e.Kind)
		}
	}
	mustRun(t, cfg)
	for _, k := range []string{"start", "evidence", "ejection", "partition", "partition-end", "crash", "restart", "heal", "progress", "done"} {
		if kinds[k] == 0 {
			t.Errorf("no %q event; got %v", k, kinds)
		}
	}
	if kinds["progress"] < cfg.Heights {
		t.Errorf("%d progress events, want one per height", kinds["progress"])
	}
}

// BenchmarkRun measures whole simulated heights: 7 nodes, 2 equivocators,
// 10% loss. It reports heights per second of wall time, with fake and with
// Ed25519 signatures.
func BenchmarkRun(b *testing.B) {
	for _, fake := range []bool{true, false} {
		name := "ed25519"
		if fake {
			name = "fake-sigs"
		}
		b.Run(name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Nodes, cfg.Byzantine, cfg.Strategy, cfg.Heights, cfg.Drop = 7, 2, "equivocate", 50, 0.1
			cfg.FakeSignatures = fake
			heights := 0
			for i := 0; b.Loop(); i++ {
				cfg.Seed = uint64(i)
				r, err := Run(cfg)
				if err != nil || !r.OK() {
					b.Fatalf("seed %d: %v %v", cfg.Seed, err, r)
				}
				heights += int(r.DecidedHeights)
			}
			b.ReportMetric(float64(heights)/b.Elapsed().Seconds(), "heights/s")
		})
	}
}
