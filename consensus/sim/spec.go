package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Partition cuts the network into groups for a window of virtual time: two
// nodes in different groups cannot reach each other while it is active.
type Partition struct {
	// Groups lists node numbers (1-based); every node appears in exactly one
	// group. Nodes the spec did not name form one more group together.
	Groups [][]int
	// From and Until bound the window; Until zero means "until the faults
	// end".
	From, Until time.Duration

	group []int // node number → group index
}

// separates reports whether nodes a and b (1-based) are in different groups.
func (p *Partition) separates(a, b int) bool { return p.group[a] != p.group[b] }

// active reports whether the partition is in force at t.
func (p *Partition) active(t time.Duration) bool {
	return t >= p.From && (p.Until == 0 || t < p.Until)
}

func (p *Partition) String() string {
	var gs []string
	for _, g := range p.Groups {
		gs = append(gs, formatNodeList(g))
	}
	return strings.Join(gs, " | ")
}

// ParsePartitions reads a --partition spec for n nodes. Partitions are
// separated by ";". Each is groups separated by "|", each group a
// comma-separated list of node numbers, ranges or names ("1-3", "5",
// "node-6"), optionally followed by "@FROM-UNTIL" or "@FROM" in Go duration
// syntax:
//
//	1-3|4-7@2s-6s        nodes 1..3 and 4..7 cannot talk from 2s to 6s
//	1@500ms              node 1 is cut off from everyone from 0.5s on
//	1,2|3,4|5-7          three islands for the whole fault phase
//
// Unnamed nodes form one extra group, so "1" alone isolates node 1.
func ParsePartitions(spec string, n int) ([]Partition, error) {
	var out []Partition
	for _, part := range splitSpec(spec, ";") {
		groupsSpec, window, _ := strings.Cut(part, "@")
		var p Partition
		var err error
		if window != "" {
			if p.From, p.Until, err = parseWindow(window); err != nil {
				return nil, fmt.Errorf("partition %q: %w", part, err)
			}
		}
		p.group = make([]int, n+1)
		for i := range p.group {
			p.group[i] = -1
		}
		for _, g := range strings.Split(groupsSpec, "|") {
			nodes, err := parseNodeList(g, n)
			if err != nil {
				return nil, fmt.Errorf("partition %q: %w", part, err)
			}
			for _, x := range nodes {
				if p.group[x] >= 0 {
					return nil, fmt.Errorf("partition %q: node %d is in two groups", part, x)
				}
				p.group[x] = len(p.Groups)
			}
			p.Groups = append(p.Groups, nodes)
		}
		var rest []int
		for x := 1; x <= n; x++ {
			if p.group[x] < 0 {
				p.group[x] = len(p.Groups)
				rest = append(rest, x)
			}
		}
		if rest != nil {
			p.Groups = append(p.Groups, rest)
		}
		if len(p.Groups) < 2 {
			return nil, fmt.Errorf("partition %q: every node is in one group, so nothing is cut", part)
		}
		out = append(out, p)
	}
	return out, nil
}

// Crash takes a node down for a window of virtual time. A crashed node
// loses everything in memory; it restarts from what it persisted (its
// decided log and its last SignState).
type Crash struct {
	Node int // 1-based
	// From is when it crashes; Until when it restarts, zero meaning "when
	// the faults end".
	From, Until time.Duration
}

// ParseCrashes reads a --crash spec for n nodes: entries separated by ";",
// each a node number or name, "@", and a window:
//
//	node-2@3s-5s         node 2 crashes at 3s and restarts at 5s
//	4@8s                 node 4 crashes at 8s and restarts when faults end
//
// Windows of one node must not overlap.
func ParseCrashes(spec string, n int) ([]Crash, error) {
	var out []Crash
	for _, part := range splitSpec(spec, ";") {
		nodeSpec, window, ok := strings.Cut(part, "@")
		if !ok {
			return nil, fmt.Errorf("crash %q: want NODE@FROM[-UNTIL], e.g. node-2@3s-5s", part)
		}
		x, err := parseNode(nodeSpec, n)
		if err != nil {
			return nil, fmt.Errorf("crash %q: %w", part, err)
		}
		c := Crash{Node: x}
		if c.From, c.Until, err = parseWindow(window); err != nil {
			return nil, fmt.Errorf("crash %q: %w", part, err)
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b Crash) int {
		if a.Node != b.Node {
			return a.Node - b.Node
		}
		return int(a.From - b.From)
	})
	for i := 1; i < len(out); i++ {
		a, b := out[i-1], out[i]
		if a.Node == b.Node && (a.Until == 0 || b.From < a.Until) {
			return nil, fmt.Errorf("crashes of node %d overlap", a.Node)
		}
	}
	return out, nil
}

func splitSpec(spec, sep string) []string {
	var out []string
	for _, s := range strings.Split(spec, sep) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseWindow reads "FROM-UNTIL" or "FROM".
func parseWindow(s string) (from, until time.Duration, err error) {
	fromS, untilS, hasUntil := strings.Cut(strings.TrimSpace(s), "-")
	if from, err = parseDuration(fromS); err != nil {
		return 0, 0, err
	}
	if hasUntil {
		if until, err = parseDuration(untilS); err != nil {
			return 0, 0, err
		}
		if until <= from {
			return 0, 0, fmt.Errorf("window %q ends before it starts", s)
		}
	}
	return from, until, nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad time %q: want a Go duration such as 2s or 1500ms", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("bad time %q: negative", s)
	}
	return d, nil
}

// parseNodeList reads "1-3,5,node-7".
func parseNodeList(s string, n int) ([]int, error) {
	var out []int
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("empty node in %q", s)
		}
		lo, hi := item, item
		// "node-3" is a name, "3-5" a range, "node-3-node-5" both.
		if a, b, ok := cutRange(item); ok {
			lo, hi = a, b
		}
		x, err := parseNode(lo, n)
		if err != nil {
			return nil, err
		}
		y, err := parseNode(hi, n)
		if err != nil {
			return nil, err
		}
		if y < x {
			return nil, fmt.Errorf("range %q runs backwards", item)
		}
		for k := x; k <= y; k++ {
			out = append(out, k)
		}
	}
	return out, nil
}

func cutRange(item string) (lo, hi string, ok bool) {
	rest := strings.TrimPrefix(item, "node-")
	skip := len(item) - len(rest)
	i := strings.Index(rest, "-")
	if i < 0 {
		return "", "", false
	}
	return item[:skip+i], rest[i+1:], true
}

// parseNode reads "3" or "node-3".
func parseNode(s string, n int) (int, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "node-")
	x, err := strconv.Atoi(s)
	if err != nil || x < 1 || x > n {
		return 0, fmt.Errorf("no node %q: nodes are 1..%d (or node-1..node-%d)", s, n, n)
	}
	return x, nil
}

func formatNodeList(nodes []int) string {
	var parts []string
	for i := 0; i < len(nodes); {
		j := i
		for j+1 < len(nodes) && nodes[j+1] == nodes[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", nodes[i], nodes[j]))
		} else {
			parts = append(parts, strconv.Itoa(nodes[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
