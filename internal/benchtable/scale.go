package benchtable

import "fmt"

// The "Scale" table of docs/BENCHMARKS.md: how one cluster's cost grows
// with n (bench/scale_bench_test.go, BenchmarkScale). One table holds both
// kinds of row, the simulator's and memberlist's; each fills its own
// columns and leaves the others at "—".

// scaleHeader is printed before scaleRows' rows, with one Fprintln: a
// blank line, the title, a blank line, the column names and the separator.
const scaleHeader = "\nScale of one cluster. Simulator: n honest nodes, Ed25519, 1–20 ms delays; decisions/s in virtual time, " +
	"CPU on the benchmark machine with every node on one core (per node: divided by n). " +
	"memberlist: n instances in one process on loopback, pact's pi profile and DefaultLANConfig; " +
	"gossip = bytes sent per node per second once idle, UDP probes plus push/pull.\n" +
	"\n" +
	"| what | decisions/s (virtual) | CPU ms/decision, cluster (per node) | msgs/decision (+ reports) | verifies/decision/node | converge | gossip B/s/node (UDP) |\n" +
	"|---|---|---|---|---|---|---|"

var (
	scaleSimSizes    = []string{"4", "7", "10", "16", "25", "32", "48", "64"}
	scaleGossipSizes = []string{"10", "50", "100"}
	// scaleProfiles maps BenchmarkScale's sub-benchmark name to the name
	// the table gives the profile.
	scaleProfiles = []struct{ bench, name string }{
		{"memberlist", "pi"},
		{"memberlist-lan", "lan"},
	}
)

// scaleRows returns the table's rows for whatever BenchmarkScale results r
// holds, simulator sizes first, then memberlist by profile and size.
func scaleRows(r Results) []string {
	var rows []string
	for _, n := range scaleSimSizes {
		m := r["Scale/sim/n="+n]
		if m == nil {
			continue
		}
		rows = append(rows, fmt.Sprintf("| sim n=%s | %s | %s (%s) | %s (+%s) | %s | — | — |",
			n, num(m["decisions/s"]), num(m["cpu-ms/decision"]), num(m["cpu-ms/decision/node"]),
			thousands(m["msgs/decision"]), num(m["report-msgs/decision"]), num(m["verifies/decision/node"])))
	}
	for _, p := range scaleProfiles {
		for _, n := range scaleGossipSizes {
			m := r["Scale/"+p.bench+"/n="+n]
			if m == nil {
				continue
			}
			rows = append(rows, fmt.Sprintf("| memberlist %s n=%s | — | — | — | — | %s | %s (%s) |",
				p.name, n, convergence(m), thousands(m["bytes/s/node"]), thousands(m["udp-bytes/s/node"])))
		}
	}
	return rows
}

// convergence is the time to converge or, when the run (the median run,
// with -count) gave up, how long it waited.
func convergence(m map[string]float64) string {
	if m["unconverged"] > 0 {
		return "not within " + num(m["ms-converge"]/1e3) + " s"
	}
	return num(m["ms-converge"]/1e3) + " s"
}
