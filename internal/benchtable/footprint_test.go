package benchtable

import (
	"strings"
	"testing"
)

func TestFootprintRows(t *testing.T) {
	out := `BenchmarkFootprint/binary 1 15990946 bytes-arm64 16953506 bytes-host
BenchmarkFootprint/agent 1 23.9 MB-idle-rss 9.5 MB-idle-anon 1.03 %cpu-idle 35.5 MB-rss 17.2 MB-anon 38.6 MB-peak 10.69 %cpu-load 600 s-load 9.80 req/s
BenchmarkFootprint/agent 1 22.9 MB-idle-rss 8.3 MB-idle-anon 1.07 %cpu-idle 19.5 MB-rss 18.2 MB-anon 38.6 MB-peak 10.66 %cpu-load 600 s-load 9.80 req/s
BenchmarkFootprint/agent 1 23.0 MB-idle-rss 8.6 MB-idle-anon 1.00 %cpu-idle 19.7 MB-rss 18.3 MB-anon 38.3 MB-peak 10.64 %cpu-load 600 s-load 9.80 req/s
`
	r, err := Parse(strings.NewReader(out), nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Join(footprintRows(r), "\n")
	for _, want := range []string{
		"| binary, linux/arm64, stripped | 16.0 MB |",
		"| idle: RSS (anon) | 23.0 MB (8.60 MB) |",
		"| after 600 s at 9.80 requests/s: RSS (anon), peak RSS | 19.7 MB (18.2 MB), 38.6 MB | RSS ≤ 20 MB after 600 s at 10/s **met** |",
	} {
		if !strings.Contains(rows, want) {
			t.Errorf("rows lack %q:\n%s", want, rows)
		}
	}
	// A short run cannot meet the goal, whatever its RSS.
	r["Footprint/agent"]["s-load"] = 180
	if rows := strings.Join(footprintRows(r), "\n"); !strings.Contains(rows, "**not met**") {
		t.Errorf("a 180 s run met the goal:\n%s", rows)
	}
}
