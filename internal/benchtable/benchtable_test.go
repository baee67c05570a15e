package benchtable

import (
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/seed44533760/pact/bench
BenchmarkDecisionLatency/n=4/fsync/pact-2         	       1	2000000000 ns/op	         6.000 ms-p50	        9.000 ms-p99	         6.5 ms-mean	       200.0 decisions	         0 round-changes
BenchmarkDecisionLatency/n=4/fsync/pact-2         	       1	2000000000 ns/op	         4.000 ms-p50	        8.000 ms-p99	         6.5 ms-mean	       200.0 decisions	         0 round-changes
BenchmarkDecisionLatency/n=4/fsync/pact-2         	       1	2000000000 ns/op	         5.000 ms-p50	        7.000 ms-p99	         6.5 ms-mean	       200.0 decisions	         0 round-changes
BenchmarkDecisionLatency/n=4/fsync/raft-2         	       1	 400000000 ns/op	         2.000 ms-p50	        3.000 ms-p99
BenchmarkDecisionLatency/n=4/fsync/floor-2        	       1	         0 ns/op	         4.000 ms-p50	        6.000 ms-p99
BenchmarkThroughput/n=7/mem/pact-2                	       3	 400000000 ns/op	     25000 entries/s	        25.00 decisions/s
BenchmarkThroughput/n=7/mem/raft-2                	       3	 400000000 ns/op	    100000 entries/s	      1562.5 decisions/s
BenchmarkOutcomeDelivery/burst-2                  	       1	         0 ns/op	      5000 delivered	      5000 sent	      4321 outcomes/s
BenchmarkVerifyEd25519-2                          	   30000	     35000 ns/op
PASS
`

func TestParse_MedianOfRepeatedRuns(t *testing.T) {
	var echo strings.Builder
	r, err := Parse(strings.NewReader(sample), &echo)
	if err != nil {
		t.Fatal(err)
	}
	if echo.String() != sample {
		t.Error("echo is not the input")
	}
	got := r["DecisionLatency/n=4/fsync/pact"]
	if got["ms-p50"] != 5 || got["ms-p99"] != 8 {
		t.Errorf("pact = %v, want the medians 5 and 8", got)
	}
	if r["VerifyEd25519"]["ns/op"] != 35000 {
		t.Errorf("other benchmarks: %v", r["VerifyEd25519"])
	}
}

func TestWrite_RatiosAndGoals(t *testing.T) {
	r, err := Parse(strings.NewReader(sample), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if !Write(&out, r) {
		t.Fatal("nothing written")
	}
	for _, want := range []string{
		"| decision latency n=4 fsync | 5.00 ms (8.00) | 2.00 ms (3.00) | 2.50 (2.67) | 4.00 ms (6.00) | 1.25 | pact/raft ≤ 1.50 **not met**; pact/floor ≤ 1.50 **met** |",
		"| throughput n=7 mem | 25,000 (25) | 100,000 (1,563) | 0.25 | 1000, 64.0 |",
		"| burst: delivered/sent | 5000 of 5000 outcomes, 4,321 outcomes/s | — | 1.0000 | delivered/sent = 1.0 **met** |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing row\n%s\nin\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "n=7 fsync") {
		t.Errorf("a row without results:\n%s", out.String())
	}
}

func TestWrite_NothingKnown(t *testing.T) {
	r, _ := Parse(strings.NewReader("BenchmarkOther-2 10 5 ns/op\n"), nil)
	var out strings.Builder
	if Write(&out, r) || out.Len() != 0 {
		t.Errorf("wrote %q for results of other benchmarks", out.String())
	}
}
