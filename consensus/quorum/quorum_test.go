package quorum

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestThreshold_Table(t *testing.T) {
	for _, tc := range []struct{ n, f, q, weak int }{
		{1, 0, 1, 1}, {2, 0, 2, 1}, {3, 0, 3, 1}, {4, 1, 3, 2}, {5, 1, 4, 2}, {6, 1, 5, 2},
		{7, 2, 5, 3}, {10, 3, 7, 4}, {16, 5, 11, 6}, {100, 33, 67, 34},
	} {
		if got := Faulty(tc.n); got != tc.f {
			t.Errorf("Faulty(%d) = %d, want %d", tc.n, got, tc.f)
		}
		if got := Threshold(tc.n); got != tc.q {
			t.Errorf("Threshold(%d) = %d, want %d", tc.n, got, tc.q)
		}
		if got := Weak(tc.n); got != tc.weak {
			t.Errorf("Weak(%d) = %d, want %d", tc.n, got, tc.weak)
		}
	}
}

// Any two quorums of n intersect in at least f+1 voters, so in at least one
// honest voter: the property safety rests on.
func TestThreshold_QuorumsIntersectInAnHonestVoter(t *testing.T) {
	for n := 1; n <= 200; n++ {
		q, f := Threshold(n), Faulty(n)
		if 2*q-n < f+1 {
			t.Errorf("n=%d: two quorums of %d share only %d voters, need %d", n, q, 2*q-n, f+1)
		}
		if q > n-f {
			t.Errorf("n=%d: quorum %d needs more than the %d honest voters", n, q, n-f)
		}
	}
}

// naiveTally recounts from scratch on every question: slow and obviously
// right, the model the real Tally is checked against.
type naiveTally struct {
	voters map[string]bool
	votes  map[string]int
	n      int
}

func (t *naiveTally) add(voter string, v int) bool {
	if !t.voters[voter] {
		return false
	}
	if _, ok := t.votes[voter]; ok {
		return false
	}
	t.votes[voter] = v
	return true
}

func (t *naiveTally) count(v int) int {
	c := 0
	for _, got := range t.votes {
		if got == v {
			c++
		}
	}
	return c
}

func (t *naiveTally) hasQuorum(v int) bool { return 3*t.count(v) > 2*t.n }
func (t *naiveTally) quorumAny() bool      { return 3*len(t.votes) > 2*t.n }

func TestTally_MatchesNaiveCounting(t *testing.T) {
	for seed := uint64(1); seed <= 500; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		n := 1 + rng.IntN(20)
		var voters []string
		naive := &naiveTally{voters: map[string]bool{}, votes: map[string]int{}, n: n}
		for i := 0; i < n; i++ {
			v := fmt.Sprintf("v%d", i)
			voters = append(voters, v)
			naive.voters[v] = true
		}
		real := NewTally[int](voters)
		for step := 0; step < 3*n; step++ {
			voter := fmt.Sprintf("v%d", rng.IntN(n+3)) // some outside the set
			value := rng.IntN(3)
			if got, want := real.Add(voter, value), naive.add(voter, value); got != want {
				t.Fatalf("seed %d: Add(%s, %d) = %v, naive %v", seed, voter, value, got, want)
			}
			for v := 0; v < 3; v++ {
				if real.Count(v) != naive.count(v) || real.HasQuorum(v) != naive.hasQuorum(v) {
					t.Fatalf("seed %d: value %d: count %d/%d quorum %v/%v", seed, v, real.Count(v), naive.count(v), real.HasQuorum(v), naive.hasQuorum(v))
				}
			}
			if real.HasQuorumAny() != naive.quorumAny() || real.HasWeakAny() != (len(naive.votes) >= (n-1)/3+1) || real.Total() != len(naive.votes) {
				t.Fatalf("seed %d: any-quorum %v/%v total %d/%d", seed, real.HasQuorumAny(), naive.quorumAny(), real.Total(), len(naive.votes))
			}
			leader, ok := real.Leader()
			wantOK := false
			for v := 0; v < 3; v++ {
				if naive.hasQuorum(v) {
					wantOK = true
					if !ok || leader != v {
						t.Fatalf("seed %d: Leader() = %d,%v but %d has a quorum", seed, leader, ok, v)
					}
				}
			}
			if ok != wantOK {
				t.Fatalf("seed %d: Leader() reports a quorum that naive counting does not", seed)
			}
		}
	}
}

func TestTally_DuplicateVoterNamesCountOnce(t *testing.T) {
	tl := NewTally[string]([]string{"a", "a", "b", "c", "d"})
	if tl.Size() != 4 {
		t.Fatalf("Size() = %d, want 4", tl.Size())
	}
	tl.Add("a", "x")
	if tl.Add("a", "y") {
		t.Fatal("a second vote from one voter was accepted")
	}
	if v, _ := tl.Vote("a"); v != "x" {
		t.Fatalf("first vote replaced: %q", v)
	}
	if got := tl.Voters("x"); len(got) != 1 || got[0] != "a" {
		t.Fatalf("Voters(x) = %v", got)
	}
}
