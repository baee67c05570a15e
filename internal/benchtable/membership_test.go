package benchtable

import (
	"strings"
	"testing"
)

// membershipSample is BenchmarkWire and BenchmarkCrashDetection output as
// `go test -bench -v` prints it (lines of one run on a 2-core machine).
const membershipSample = `BenchmarkWire
BenchmarkWire/n=4/memberlist
BenchmarkWire/n=4/memberlist-2         	       1	       382.4 bytes/s/node	         4.100 pkts/s/node	       382.4 recv-bytes/s/node	        36.00 tcp-bytes/s/node	         0.06666 tcp-conns/s/node	       346.4 udp-bytes/s/node
BenchmarkWire/n=4/pact-idle
BenchmarkWire/n=4/pact-idle-2          	       1	       985.8 bytes/s/node	       155.2 mqtt-bytes/s/node	         6.200 pkts/s/node	       985.8 recv-bytes/s/node	        78.93 tcp-bytes/s/node	         0.06666 tcp-conns/s/node	       906.9 udp-bytes/s/node
BenchmarkWire/n=4/pact-load
BenchmarkWire/n=4/pact-load-2          	       1	     24776 bytes/s/node	      9775 mqtt-bytes/s/node	       149.0 performed	        63.73 pkts/s/node	     24773 recv-bytes/s/node	       149.0 requests	     13968 tcp-bytes/s/node	        28.08 tcp-conns/s/node	     10808 udp-bytes/s/node
BenchmarkCrashDetection/pi-2         	       1	         0 false-suspicions	         5.000 kills	      3269 ms-detect-max	      2691 ms-detect-min	      2933 ms-detect-p50	      2865 ms-first-p50	      2907 ms-paused-dead
BenchmarkCrashDetection/lan-2        	       1	         0 false-suspicions	         5.000 kills	      6604 ms-detect-max	      5715 ms-detect-min	      5780 ms-detect-p50	      5752 ms-first-p50	      5777 ms-paused-dead
PASS
`

func TestWireRows_RatioToMemberlist(t *testing.T) {
	r, err := Parse(strings.NewReader(membershipSample), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"| memberlist alone (pact's config), n=4 | 382 (4.10) | 382 | 346, 36 | 0.067 | — | — |",
		"| pact, idle, n=4 | 986 (6.20) | 986 | 907, 79 | 0.067 | 2.58 (+603) | 155 |",
		"| pact, load, n=4 (149 requests, 149 performed) | 24,776 (63.7) | 24,773 | 10,808, 13,968 | 28.1 | 64.79 (+24,394) | 9,775 |",
	}
	got := wireRows(r)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := strings.Count(wireColumns, "\n"); n != 1 || strings.Count(wireColumns, "|") != 2*8 {
		t.Errorf("wireColumns is not a header row and a separator row of 7 columns:\n%s", wireColumns)
	}
}

func TestCrashRows_GoalsOnPi(t *testing.T) {
	r, err := Parse(strings.NewReader(membershipSample), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"| pi | 2.93 s (3.27) over 5 kills | 2.87 s | 2.91 s | 0 | 0.51 | pi/lan ≤ 0.50 **not met**; false suspicions = 0 **met** |",
		"| lan | 5.78 s (6.60) over 5 kills | 5.75 s | 5.78 s | 0 | — | baseline |",
	}
	got := crashRows(r)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCrashRows_FalseSuspicionsMissed(t *testing.T) {
	r, _ := Parse(strings.NewReader(
		"BenchmarkCrashDetection/pi-2 1 2 false-suspicions 5 kills 2000 ms-detect-p50 2500 ms-detect-max 1900 ms-first-p50 0 ms-paused-dead\n"+
			"BenchmarkCrashDetection/lan-2 1 0 false-suspicions 5 kills 6000 ms-detect-p50 7000 ms-detect-max 5900 ms-first-p50 6000 ms-paused-dead\n"), nil)
	rows := crashRows(r)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	for _, want := range []string{"not within 10 s", "pi/lan ≤ 0.50 **met**", "false suspicions = 0 **not met**"} {
		if !strings.Contains(rows[0], want) {
			t.Errorf("pi row %q lacks %q", rows[0], want)
		}
	}
}

func TestMembershipRows_NothingKnown(t *testing.T) {
	r, _ := Parse(strings.NewReader("BenchmarkOther-2 10 5 ns/op\n"), nil)
	if rows := append(wireRows(r), crashRows(r)...); len(rows) != 0 {
		t.Errorf("rows for results of other benchmarks: %q", rows)
	}
}
