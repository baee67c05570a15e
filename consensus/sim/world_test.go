package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// TestAssign_PicksFromAgreedState: the performer is a validator, the
// witnesses max(2, f+1) others, all distinct, the same for every caller;
// over many ops every validator performs and every pair is watched.
func TestAssign_PicksFromAgreedState(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7, 10} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			vals := newFixtureN(t, n).genesis
			want := min(max(2, vals.Faulty()+1), n-1)
			performed := map[consensus.NodeID]int{}
			watched := map[[2]consensus.NodeID]bool{}
			for i := range 2000 {
				op := OpEntry(fmt.Sprint(i))
				p, ws := assign(op, vals)
				p2, ws2 := assign(op, vals)
				if p != p2 || !slices.Equal(ws, ws2) {
					t.Fatalf("%s: two calls disagree", op)
				}
				if !vals.Has(p) || len(ws) != want || slices.Contains(ws, p) {
					t.Fatalf("%s: performer %s, witnesses %v (want %d others)", op, p, ws, want)
				}
				sorted := slices.Clone(ws)
				slices.Sort(sorted)
				if len(slices.Compact(sorted)) != len(ws) {
					t.Fatalf("%s: witnesses %v repeat", op, ws)
				}
				performed[p]++
				for _, w := range ws {
					watched[[2]consensus.NodeID{p, w}] = true
				}
			}
			if len(performed) != n {
				t.Errorf("only %d of %d validators ever performed", len(performed), n)
			}
			if len(watched) != n*(n-1) {
				t.Errorf("%d of %d (performer, witness) pairs ever occurred", len(watched), n*(n-1))
			}
		})
	}
}

func TestWorld_Pins(t *testing.T) {
	w := newWorld(rand.New(rand.NewPCG(1, 2)), 3)
	ms := time.Millisecond
	w.drive(1, 100*ms, 400*ms)
	w.drive(1, 1000*ms, 1300*ms)
	tests := []struct {
		num         int
		from, until time.Duration
		want        bool
	}{
		{1, 100 * ms, 400 * ms, true},
		{1, 399 * ms, 500 * ms, true},
		{1, 400 * ms, 1000 * ms, false}, // between two drives
		{1, 0, 100 * ms, false},
		{2, 100 * ms, 400 * ms, false}, // another node's pin
	}
	for _, tt := range tests {
		if got := w.moved(tt.num, tt.from, tt.until); got != tt.want {
			t.Errorf("moved(%d, %s, %s) = %t, want %t", tt.num, tt.from, tt.until, got, tt.want)
		}
	}
	// A crash at 1.1s: the drive under way ends there, a planned one never
	// happens.
	w.drive(1, 2000*ms, 2300*ms)
	w.fall(1, 1100*ms)
	if w.moved(1, 1100*ms, 3000*ms) || !w.moved(1, 1000*ms, 1100*ms) {
		t.Errorf("after the crash: drives %v", w.drives[1])
	}
}

// TestWorld_HonestSensorsAgree: an honest sensor's reading lies far
// within the audit's tolerance of the median of the other honest ones —
// the audit needs it beyond in 80% of ten samples or more before it
// accuses — which is what keeps honest nodes from accusing each other.
func TestWorld_HonestSensorsAgree(t *testing.T) {
	const nodes, samples = 7, 20000
	w := newWorld(rand.New(rand.NewPCG(7, 7)), nodes)
	tolerance := auditConfig(nodes).Kinds["temperature"].Tolerance
	worst, beyondHalf := 0.0, 0
	for k := range samples {
		at := time.Duration(k) * SampleEvery
		values := make([]float64, nodes+1)
		for i := 1; i <= nodes; i++ {
			values[i] = w.sense(i, at)
		}
		for i := 1; i <= nodes; i++ {
			var others []float64
			for j := 1; j <= nodes; j++ {
				if j != i {
					others = append(others, values[j])
				}
			}
			slices.Sort(others)
			median := (others[len(others)/2-1] + others[len(others)/2]) / 2
			d := math.Abs(values[i] - median)
			worst = max(worst, d)
			if d > tolerance/2 {
				beyondHalf++
			}
		}
	}
	if worst >= tolerance {
		t.Errorf("an honest reading lay %.2f °C from the others' median, the audit tolerates %.1f", worst, tolerance)
	}
	if share := float64(beyondHalf) / (nodes * samples); share > 0.001 {
		t.Errorf("%.3f%% of honest readings lay more than half the tolerance from the others' median", 100*share)
	}
	t.Logf("worst distance of an honest reading from the others' median: %.2f °C in %d samples", worst, nodes*samples)
}
