package consensus_test

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestBenchmarkTable turns the output of the benchmarks into the tables of
// docs/BENCHMARKS.md, taking the median of repeated runs:
//
//	go test -run '^$' -bench . -benchmem -count 3 ./consensus/ | tee /tmp/bench.txt
//	go test -run TestBenchmarkTable ./consensus/ -benchtable /tmp/bench.txt -v
//
// It is skipped without -benchtable, so it never depends on how fast the
// machine is.
var benchTableFile = flag.String("benchtable", "", "print docs/BENCHMARKS.md tables from this `go test -bench` output")

func TestBenchmarkTable(t *testing.T) {
	if *benchTableFile == "" {
		t.Skip("no -benchtable file")
	}
	f, err := os.Open(*benchTableFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := benchParse(f)
	if err != nil {
		t.Fatal(err)
	}
	table, err := benchTables(res)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + table)
}

// benchResults maps a benchmark name (without the -GOMAXPROCS suffix) and a
// unit to the values of every run.
type benchResults map[string]map[string][]float64

var benchProcsSuffix = regexp.MustCompile(`-\d+$`)

func benchParse(f io.Reader) (benchResults, error) {
	res := benchResults{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		name := benchProcsSuffix.ReplaceAllString(fields[0], "")
		if res[name] == nil {
			res[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", name, fields[i], err)
			}
			res[name][fields[i+1]] = append(res[name][fields[i+1]], v)
		}
	}
	return res, sc.Err()
}

// median returns the median of name's unit, and whether it was measured.
func (r benchResults) median(name, unit string) (float64, bool) {
	vs := slices.Clone(r[name][unit])
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2], true
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2, true
}

// benchTables prints one table of what a decision costs and one of the
// protocol's cost against the cryptography it must do. The protocol's own
// cost is the CPU time of a decision with fake signatures, minus what the
// fake signing and verifying themselves cost; the floor is the number of
// verifications times one Ed25519 verification.
func benchTables(r benchResults) (string, error) {
	var missing []string
	get := func(name, unit string) float64 {
		v, ok := r.median(name, unit)
		if !ok {
			missing = append(missing, name+" "+unit)
		}
		return v
	}
	// Per-operation CPU time in µs, on the same footing as us_cpu/decision
	// where the platform measures it.
	cpuPerOp := func(name string) float64 {
		if v, ok := r.median(name, "ns_cpu/op"); ok {
			return v / 1000
		}
		return get(name, "ns/op") / 1000
	}
	verifyEd := cpuPerOp("BenchmarkVerifyEd25519")
	signEd := cpuPerOp("BenchmarkSignEd25519")
	verifyFake := cpuPerOp("BenchmarkVerifyFake")
	signFake := cpuPerOp("BenchmarkSignFake")

	var cost, ratio strings.Builder
	fmt.Fprintf(&cost, "| n | f | heights/s ed25519 | heights/s fake | µs CPU/decision ed25519 | µs CPU/decision fake | verifies/decision | signs/decision | msgs/decision | KiB alloc/decision fake | allocs/decision fake |\n")
	fmt.Fprintf(&cost, "|---|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&ratio, "| n | verifies × %.1f µs | signs × %.1f µs | protocol µs (fake − fake crypto) | protocol / verifications | goal ≤ 0.5 | protocol / (verifications + signs) | ed25519 − fake, measured vs predicted |\n", verifyEd, signEd)
	fmt.Fprintf(&ratio, "|---|---|---|---|---|---|---|---|\n")
	for _, n := range benchSizes {
		ed := fmt.Sprintf("BenchmarkDecide/n=%d/ed25519", n)
		fk := fmt.Sprintf("BenchmarkDecide/n=%d/fake", n)
		verifies := get(fk, "verifies/decision")
		signs := get(fk, "signs/decision")
		if v := get(ed, "verifies/decision"); v != verifies {
			return "", fmt.Errorf("n=%d: %v verifies with ed25519, %v with fake: the runs did different work", n, v, verifies)
		}
		cpuEd, cpuFake := get(ed, "us_cpu/decision"), get(fk, "us_cpu/decision")
		fmt.Fprintf(&cost, "| %d | %d | %.1f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.1f | %.0f |\n",
			n, (n-1)/3, get(ed, "heights/s"), get(fk, "heights/s"), cpuEd, cpuFake,
			verifies, signs, get(fk, "msgs/decision"), get(fk, "B/op")/1024, get(fk, "allocs/op"))

		verifyCost, signCost := verifies*verifyEd, signs*signEd
		protocol := cpuFake - verifies*verifyFake - signs*signFake
		met := "met"
		if protocol > 0.5*verifyCost {
			met = "**not met**"
		}
		fmt.Fprintf(&ratio, "| %d | %.0f | %.0f | %.0f | %.3f | %s | %.3f | %.0f vs %.0f |\n",
			n, verifyCost, signCost, protocol, protocol/verifyCost, met, protocol/(verifyCost+signCost),
			cpuEd-cpuFake, verifyCost+signCost-verifies*verifyFake-signs*signFake)
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("benchmark output lacks: %s", strings.Join(missing, ", "))
	}
	return cost.String() + "\n" + ratio.String(), nil
}
