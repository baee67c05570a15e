package benchtable

import (
	"fmt"
	"math"
)

// The two tables of the membership layer: what a node puts on the wire
// (BenchmarkWire) and how fast a crash is detected (BenchmarkCrashDetection).
// Each has a title, printed before it after an empty line, and its column
// header with the separator row.

const (
	wireTitle = "Bytes on the wire per node and second, 4 nodes on loopback: memberlist's UDP datagrams and TCP streams " +
		"as its transport carries them (encrypted, labelled; IP/UDP/TCP headers, handshakes and acks not counted). " +
		"MQTT to the broker apart, as topic + payload bytes."
	wireColumns = "| what | sent bytes/s (UDP pkts/s) | received bytes/s | UDP, TCP bytes/s | TCP conns/s | pact/memberlist bytes/s (added) | MQTT bytes/s |\n" +
		"|---|---|---|---|---|---|---|"

	crashTitle = "Membership failure detection, 5 member processes on loopback: SIGKILL → every survivor lists the node dead; " +
		"false suspicions of healthy nodes from a 10 s SIGSTOP of one node until 10 s after it."
	crashColumns = "| profile | detect p50 (max) | first survivor p50 | paused node dead after | false suspicions | pi/lan p50 | goals |\n" +
		"|---|---|---|---|---|---|---|"
)

// Goals, from the issue.
const (
	goalPiOverLAN      = 0.5 // crash detection, medians
	goalFalseSuspicion = 0   // during a 10 s SIGSTOP and 10 s after
)

// wireNodes is the cluster size BenchmarkWire runs.
const wireNodes = "4"

// wireRows are the rows of BenchmarkWire: bare memberlist, pact idle and
// pact under load, with pact's ratio to memberlist and what it adds.
func wireRows(r Results) []string {
	base := "Wire/n=" + wireNodes + "/"
	ml := r[base+"memberlist"]
	var rows []string
	for _, c := range []struct{ name, what string }{
		{"memberlist", "memberlist alone (pact's config)"},
		{"pact-idle", "pact, idle"},
		{"pact-load", "pact, load"},
	} {
		m := r[base+c.name]
		if m == nil {
			continue
		}
		what := fmt.Sprintf("%s, n=%s", c.what, wireNodes)
		if c.name == "pact-load" && m["requests"] > 0 {
			what = fmt.Sprintf("%s (%s requests, %s performed)", what, thousands(m["requests"]), thousands(m["performed"]))
		}
		vs := "—"
		if c.name != "memberlist" && ml != nil {
			vs = fmt.Sprintf("%s (+%s)", ratio(m["bytes/s/node"]/ml["bytes/s/node"]), thousands(m["bytes/s/node"]-ml["bytes/s/node"]))
		}
		mqtt := "—"
		if v, ok := m["mqtt-bytes/s/node"]; ok {
			mqtt = thousands(v)
		}
		rows = append(rows, fmt.Sprintf("| %s | %s (%s) | %s | %s, %s | %s | %s | %s |",
			what, thousands(m["bytes/s/node"]), num(m["pkts/s/node"]), thousands(m["recv-bytes/s/node"]),
			thousands(m["udp-bytes/s/node"]), thousands(m["tcp-bytes/s/node"]), num(m["tcp-conns/s/node"]), vs, mqtt))
	}
	return rows
}

// crashRows are the rows of BenchmarkCrashDetection, pi against lan, with
// the goals on pi's row.
func crashRows(r Results) []string {
	pi, lan := r["CrashDetection/pi"], r["CrashDetection/lan"]
	var rows []string
	for _, c := range []struct {
		name string
		m    map[string]float64
	}{{"pi", pi}, {"lan", lan}} {
		if c.m == nil {
			continue
		}
		q, goals := "—", "baseline"
		if c.name == "pi" {
			ok := c.m["false-suspicions"] <= goalFalseSuspicion
			goals = fmt.Sprintf("false suspicions = %d %s", goalFalseSuspicion, met(ok))
			if lan != nil {
				v := c.m["ms-detect-p50"] / lan["ms-detect-p50"]
				q = ratio(v)
				goals = fmt.Sprintf("pi/lan ≤ %s %s; %s", ratio(goalPiOverLAN), met(v <= goalPiOverLAN), goals)
			}
		}
		rows = append(rows, fmt.Sprintf("| %s | %s s (%s) over %s kills | %s s | %s | %s | %s | %s |",
			c.name, seconds(c.m["ms-detect-p50"]), seconds(c.m["ms-detect-max"]), thousands(c.m["kills"]),
			seconds(c.m["ms-first-p50"]), pausedDead(c.m), thousands(c.m["false-suspicions"]), q, goals))
	}
	return rows
}

// seconds prints milliseconds as seconds with two decimals.
func seconds(ms float64) string {
	if math.IsNaN(ms) {
		return "—"
	}
	return fmt.Sprintf("%.2f", ms/1e3)
}

// pausedDead is when the healthy nodes all declared the paused node dead;
// 0 means they did not within the pause.
func pausedDead(m map[string]float64) string {
	v, ok := m["ms-paused-dead"]
	switch {
	case !ok:
		return "—"
	case v == 0:
		return "not within 10 s"
	}
	return seconds(v) + " s"
}
