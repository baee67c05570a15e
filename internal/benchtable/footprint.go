package benchtable

import "fmt"

// goalLoadRSS is the bound on an agent's resident memory after ten
// minutes at ten decisions a second, in MB.
const goalLoadRSS = 20

const (
	footprintTitle = "Footprint of one agent of four on loopback (scripts/footprint.sh; medians of the four agents). " +
		"RSS counts the binary's pages and bbolt's mapped file; anon is the agent's own heap and stacks."
	footprintColumns = "| what | figure | goal |\n|---|---|---|"
)

func footprintRows(r Results) []string {
	var rows []string
	if b := r["Footprint/binary"]; b != nil {
		rows = append(rows, fmt.Sprintf("| binary, linux/arm64, stripped | %s MB | — |", num(b["bytes-arm64"]/1e6)))
	}
	a := r["Footprint/agent"]
	if a == nil {
		return rows
	}
	rows = append(rows,
		fmt.Sprintf("| idle: RSS (anon) | %s MB (%s MB) | — |", num(a["MB-idle-rss"]), num(a["MB-idle-anon"])),
		fmt.Sprintf("| idle: CPU | %s%% of one core | — |", num(a["%cpu-idle"])),
		fmt.Sprintf("| after %s s at %s requests/s: RSS (anon), peak RSS | %s MB (%s MB), %s MB | RSS ≤ %d MB after 600 s at 10/s %s |",
			thousands(a["s-load"]), num(a["req/s"]), num(a["MB-rss"]), num(a["MB-anon"]), num(a["MB-peak"]),
			goalLoadRSS, met(a["MB-rss"] <= goalLoadRSS && a["s-load"] >= 600 && a["req/s"] >= 9.5)),
		fmt.Sprintf("| under that load: CPU | %s%% of one core | — |", num(a["%cpu-load"])),
	)
	return rows
}
