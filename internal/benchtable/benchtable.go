// Package benchtable reads `go test -bench` output and prints the table of
// pact against raft, and against the floor, that docs/BENCHMARKS.md
// reports: the figures come from the custom metrics the benchmarks in
// bench/ report (ms-p50, ms-p99, entries/s, ...), the ratios and the goals
// are computed here. It knows the names of those benchmarks and nothing
// else; lines of other benchmarks pass through untouched.
package benchtable

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Results maps a benchmark's name, without "Benchmark" and the -GOMAXPROCS
// suffix, to its metrics by unit. A benchmark run more than once (-count)
// keeps the median of each metric.
type Results map[string]map[string]float64

var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// Parse reads benchmark output, copying every line to echo when it is not
// nil, and returns the results.
func Parse(r io.Reader, echo io.Writer) (Results, error) {
	samples := map[string]map[string][]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if echo != nil {
			fmt.Fprintln(echo, line)
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		if samples[m[1]] == nil {
			samples[m[1]] = map[string][]float64{}
		}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			samples[m[1]][f[i+1]] = append(samples[m[1]][f[i+1]], v)
		}
	}
	out := Results{}
	for name, units := range samples {
		out[name] = map[string]float64{}
		for unit, vs := range units {
			slices.Sort(vs)
			out[name][unit] = vs[len(vs)/2]
		}
	}
	return out, sc.Err()
}

// Goals, from the issue.
const (
	goalPactOverRaft  = 1.5 // decision latency with fsync, medians
	goalPactOverFloor = 1.5
)

// Write prints the tables for whatever the results hold, as Markdown, and
// reports whether it printed anything.
func Write(w io.Writer, r Results) bool {
	printed := false
	for _, sec := range []struct {
		header string
		rows   func(Results) []string
	}{
		{"\n" + latencyTitle + "\n\n" + latencyColumns, latencyRows},
		{"\n" + throughputTitle + "\n\n" + throughputColumns, throughputRows},
		{"\n" + deliveryTitle + "\n\n" + deliveryColumns, deliveryRows},
		{"\n" + crashTitle + "\n\n" + crashColumns, crashRows},
		{"\n" + wireTitle + "\n\n" + wireColumns, wireRows},
		{"\n" + footprintTitle + "\n\n" + footprintColumns, footprintRows},
		{scaleHeader, scaleRows},
	} {
		if rows := sec.rows(r); len(rows) > 0 {
			fmt.Fprintln(w, sec.header)
			for _, row := range rows {
				fmt.Fprintln(w, row)
			}
			printed = true
		}
	}
	return printed
}

const (
	latencyTitle = "Decision latency, one entry at a time (medians; p99 in brackets). " +
		"Floor = 3 one-way delays + (1 + 2(2f+1)) Ed25519 verifications [+ 1 fsync]."
	latencyColumns = "| what | pact p50 (p99) | raft p50 (p99) | pact/raft p50 (p99) | floor p50 (p99) | pact/floor p50 | goals |\n" +
		"|---|---|---|---|---|---|---|"
	throughputTitle   = "Throughput, entries handed over at once (decisions: pact's blocks, raft's leader batches)."
	throughputColumns = "| what | pact entries/s (decisions/s) | raft entries/s (decisions/s) | pact/raft entries/s | entries per decision: pact, raft |\n" +
		"|---|---|---|---|---|"
	deliveryTitle   = "Outcome delivery through mosquitto (QoS 1, configs/mosquitto.conf)."
	deliveryColumns = "| what | pact | baseline | ratio | goal |\n|---|---|---|---|---|"
)

var (
	sizes        = []string{"4", "7"}
	durabilities = []string{"mem", "fsync"}
)

func latencyRows(r Results) []string {
	var rows []string
	for _, n := range sizes {
		for _, d := range durabilities {
			base := "DecisionLatency/n=" + n + "/" + d + "/"
			pact, raft, floor := r[base+"pact"], r[base+"raft"], r[base+"floor"]
			if pact == nil && raft == nil {
				continue
			}
			var goals []string
			vsRaft, vsFloor := "—", "—"
			if pact != nil && raft != nil {
				q, q99 := pact["ms-p50"]/raft["ms-p50"], pact["ms-p99"]/raft["ms-p99"]
				vsRaft = fmt.Sprintf("%s (%s)", ratio(q), ratio(q99))
				if d == "fsync" {
					goals = append(goals, "pact/raft ≤ "+ratio(goalPactOverRaft)+" "+met(q <= goalPactOverRaft))
				}
			}
			if pact != nil && floor != nil {
				q := pact["ms-p50"] / floor["ms-p50"]
				vsFloor = ratio(q)
				goals = append(goals, "pact/floor ≤ "+ratio(goalPactOverFloor)+" "+met(q <= goalPactOverFloor))
			}
			rows = append(rows, fmt.Sprintf("| decision latency n=%s %s | %s | %s | %s | %s | %s | %s |",
				n, d, latency(pact), latency(raft), vsRaft, latency(floor), vsFloor, orDash(strings.Join(goals, "; "))))
		}
	}
	return rows
}

func throughputRows(r Results) []string {
	var rows []string
	for _, n := range sizes {
		for _, d := range durabilities {
			base := "Throughput/n=" + n + "/" + d + "/"
			pact, raft := r[base+"pact"], r[base+"raft"]
			if pact == nil && raft == nil {
				continue
			}
			q := "—"
			if pact != nil && raft != nil {
				q = ratio(pact["entries/s"] / raft["entries/s"])
			}
			rows = append(rows, fmt.Sprintf("| throughput n=%s %s | %s | %s | %s | %s, %s |",
				n, d, rate(pact), rate(raft), q, perDecision(pact), perDecision(raft)))
		}
	}
	return rows
}

func deliveryRows(r Results) []string {
	var rows []string
	pact, raw := r["OutcomeDelivery/one-at-a-time/reporter"], r["OutcomeDelivery/one-at-a-time/paho"]
	if pact != nil || raw != nil {
		q := "—"
		if pact != nil && raw != nil {
			q = fmt.Sprintf("%s (%s)", ratio(pact["ms-p50"]/raw["ms-p50"]), ratio(pact["ms-p99"]/raw["ms-p99"]))
		}
		rows = append(rows, fmt.Sprintf("| outcome published → received, one at a time | Reporter %s | bare paho QoS 1 %s | %s | none set |",
			latency(pact), latency(raw), q))
	}
	if burst := r["OutcomeDelivery/burst"]; burst != nil {
		sent, got := burst["sent"], burst["delivered"]
		q := math.NaN()
		if sent > 0 {
			q = got / sent
		}
		rows = append(rows, fmt.Sprintf("| burst: delivered/sent | %.0f of %.0f outcomes, %s outcomes/s | — | %.4f | delivered/sent = 1.0 %s |",
			got, sent, thousands(burst["outcomes/s"]), q, met(q == 1)))
	}
	return rows
}

func latency(m map[string]float64) string {
	if m == nil {
		return "—"
	}
	return fmt.Sprintf("%s ms (%s)", num(m["ms-p50"]), num(m["ms-p99"]))
}

func rate(m map[string]float64) string {
	if m == nil {
		return "—"
	}
	return fmt.Sprintf("%s (%s)", thousands(m["entries/s"]), thousands(m["decisions/s"]))
}

func perDecision(m map[string]float64) string {
	if m == nil || m["decisions/s"] == 0 {
		return "—"
	}
	return num(m["entries/s"] / m["decisions/s"])
}

func met(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}

func ratio(q float64) string {
	if math.IsNaN(q) || math.IsInf(q, 0) {
		return "—"
	}
	return strconv.FormatFloat(q, 'f', 2, 64)
}

// num prints about three significant digits.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// thousands prints a whole number in groups of three: 12,345.
func thousands(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
