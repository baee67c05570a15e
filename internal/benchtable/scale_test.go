package benchtable

import (
	"strings"
	"testing"
)

// scaleSample is BenchmarkScale output: sim/n=4 and memberlist/n=100 as
// measured, memberlist-lan/n=100 run three times, once without converging.
const scaleSample = `goos: linux
pkg: github.com/seed44533760/pact/bench
BenchmarkScale
BenchmarkScale/sim/n=4
BenchmarkScale/sim/n=4-2         	       1	 113203913 ns/op	         3.294 cpu-ms/decision	         0.8235 cpu-ms/decision/node	        32.47 decisions/s	         0 later-rounds	        33.17 msgs/decision	         3.333 report-msgs/decision	         6.467 verifies/decision/node
BenchmarkScale/sim/n=64-2        	       1	18456519324 ns/op	       610.3 cpu-ms/decision	         9.536 cpu-ms/decision/node	        26.71 decisions/s	         0 later-rounds	     13841 msgs/decision	       119.2 report-msgs/decision	       107.1 verifies/decision/node
BenchmarkScale/memberlist/n=100-2         	       1	11790602729 ns/op	       418.1 bytes/s/node	      1648 ms-converge	         4.000 packets/s/node	      3063 pushpull-bytes	        45.00 s-pushpull	       350.0 udp-bytes/s/node	         0 unconverged
BenchmarkScale/memberlist-lan/n=100-2     	       1	12260685126 ns/op	       208.3 bytes/s/node	      2116 ms-converge	         2.000 packets/s/node	      2995 pushpull-bytes	        90.00 s-pushpull	       175.0 udp-bytes/s/node	         0 unconverged
BenchmarkScale/memberlist-lan/n=100-2     	       1	72260685126 ns/op	       209.0 bytes/s/node	     60012 ms-converge	         2.000 packets/s/node	      3010 pushpull-bytes	        90.00 s-pushpull	       175.0 udp-bytes/s/node	         1 unconverged
BenchmarkScale/memberlist-lan/n=100-2     	       1	12460685126 ns/op	       207.9 bytes/s/node	      2893 ms-converge	         2.000 packets/s/node	      2962 pushpull-bytes	        90.00 s-pushpull	       175.0 udp-bytes/s/node	         0 unconverged
PASS
`

func TestScaleRows_SimulatorThenMemberlist(t *testing.T) {
	r, err := Parse(strings.NewReader(scaleSample), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"| sim n=4 | 32.5 | 3.29 (0.824) | 33 (+3.33) | 6.47 | — | — |",
		"| sim n=64 | 26.7 | 610 (9.54) | 13,841 (+119) | 107 | — | — |",
		"| memberlist pi n=100 | — | — | — | — | 1.65 s | 418 (350) |",
		"| memberlist lan n=100 | — | — | — | — | 2.89 s | 208 (175) |",
	}
	got := scaleRows(r)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestScaleRows_Unconverged(t *testing.T) {
	r, err := Parse(strings.NewReader(
		"BenchmarkScale/memberlist/n=50-2 1 9 ns/op 30004 ms-converge 1 unconverged 416 bytes/s/node 350 udp-bytes/s/node\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := scaleRows(r)
	if want := "| memberlist pi n=50 | — | — | — | — | not within 30.0 s | 416 (350) |"; len(got) != 1 || got[0] != want {
		t.Errorf("rows = %q, want [%q]", got, want)
	}
}

func TestScaleRows_MatchTheHeader(t *testing.T) {
	r, err := Parse(strings.NewReader(scaleSample), nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(scaleHeader, "\n")
	if len(lines) != 5 || lines[0] != "" || lines[2] != "" {
		t.Fatalf("header is not blank, title, blank, columns, separator: %q", lines)
	}
	columns := strings.Count(lines[3], "|")
	if strings.Count(lines[4], "|") != columns {
		t.Errorf("separator has %d bars, columns %d", strings.Count(lines[4], "|"), columns)
	}
	for _, row := range scaleRows(r) {
		if strings.Count(row, "|") != columns {
			t.Errorf("row has %d bars, header %d: %s", strings.Count(row, "|"), columns, row)
		}
	}
}

func TestScaleRows_NothingKnown(t *testing.T) {
	r, _ := Parse(strings.NewReader(sample), nil)
	if rows := scaleRows(r); len(rows) != 0 {
		t.Errorf("rows %q from results of other benchmarks", rows)
	}
}
