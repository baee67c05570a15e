//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/wire"
)

// observer is the test's subscriber on the cluster's broker: it keeps what
// the checks need from every decision, outcome and ejection the nodes
// publish. It reconnects and subscribes again on its own when the broker
// restarts.
type observer struct {
	tool *report.Tool

	mu sync.Mutex
	// blocks[height][hash] are the nodes that published a decision of
	// that block at that height.
	blocks map[uint64]map[string][]string
	// outcomes[instance] are every outcome message, duplicates included.
	outcomes map[string][]*wire.Outcome
	// ejected are ejections seen: on ejections/<node>, or as decided eject
	// entries.
	ejected []string
	bad     []string // messages that did not decode
}

func newObserver(t *testing.T, url, cluster string) *observer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	cfg := report.DefaultToolConfig()
	cfg.URL = url
	tool, err := report.DialTool(ctx, cfg)
	if err != nil {
		t.Fatalf("observer: %v", err)
	}
	t.Cleanup(tool.Close)
	o := newRecorder()
	o.tool = tool
	if err := tool.Subscribe(ctx, wire.Topics{Cluster: cluster}.All(), 1, func(topic string, payload []byte, _ bool) {
		o.record(topic, payload)
	}); err != nil {
		t.Fatalf("observer: subscribe: %v", err)
	}
	return o
}

func newRecorder() *observer {
	return &observer{blocks: map[uint64]map[string][]string{}, outcomes: map[string][]*wire.Outcome{}}
}

// record files one message.
func (o *observer) record(topic string, payload []byte) {
	tp, err := wire.ParseTopic(topic)
	if err != nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch tp.Kind {
	case wire.KindDecisions:
		var d wire.Decision
		if err := wire.Unmarshal(payload, &d); err != nil {
			o.bad = append(o.bad, fmt.Sprintf("%s: %v", topic, err))
			return
		}
		byHash := o.blocks[d.Height]
		if byHash == nil {
			byHash = map[string][]string{}
			o.blocks[d.Height] = byHash
		}
		if !slices.Contains(byHash[d.Certificate.Block], d.Node) {
			byHash[d.Certificate.Block] = append(byHash[d.Certificate.Block], d.Node)
		}
		for _, e := range d.Entries {
			if e.Type == wire.EntryEject {
				o.ejected = append(o.ejected, fmt.Sprintf("%s decided at height %d to eject %s (%s)", d.Node, d.Height, e.Node, e.Reason))
			}
		}
	case wire.KindOutcome:
		out, err := wire.DecodeOutcome(payload)
		if err != nil {
			o.bad = append(o.bad, fmt.Sprintf("%s: %v", topic, err))
			return
		}
		o.outcomes[out.Instance] = append(o.outcomes[out.Instance], out)
	case wire.KindEjection:
		if len(payload) == 0 {
			return // a retained ejection being cleared
		}
		var j wire.Ejection
		_ = json.Unmarshal(payload, &j)
		o.ejected = append(o.ejected, fmt.Sprintf("%s: %s at height %d (%s)", topic, j.Node, j.Height, j.Reason))
	}
}

// conflicts lists every height at which nodes published different blocks.
func (o *observer) conflicts() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, h := range slices.Sorted(maps.Keys(o.blocks)) {
		byHash := o.blocks[h]
		if len(byHash) < 2 {
			continue
		}
		var parts []string
		for _, hash := range slices.Sorted(maps.Keys(byHash)) {
			parts = append(parts, fmt.Sprintf("%.12s… by %v", hash, byHash[hash]))
		}
		out = append(out, fmt.Sprintf("height %d: %s", h, strings.Join(parts, "; ")))
	}
	return append(out, o.bad...)
}

// ejections lists every ejection seen.
func (o *observer) ejections() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.ejected)
}

// okOutcomes counts, per instance, the distinct performers that published a
// successful outcome of it (a republished outcome counts once).
func (o *observer) okOutcomes(instance string) (performers []string, messages int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, out := range o.outcomes[instance] {
		messages++
		if out.OK && !slices.Contains(performers, out.Performer) {
			performers = append(performers, out.Performer)
		}
	}
	sort.Strings(performers)
	return performers, messages
}

// summary says how much the observer saw.
func (o *observer) summary() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var top uint64
	pubs := 0
	for h, byHash := range o.blocks {
		top = max(top, h)
		for _, nodes := range byHash {
			pubs += len(nodes)
		}
	}
	return fmt.Sprintf("%d heights (up to %d), %d (node, height) decisions, %d instances with outcomes", len(o.blocks), top, pubs, len(o.outcomes))
}

// The detector must find what it is there to find: two nodes deciding
// different blocks at one height, and an ejection in either form. Without
// this, a suite whose observer saw nothing would pass every scenario.
func TestObserver_FindsConflictsAndEjections(t *testing.T) {
	decision := func(node string, height uint64, block string, entries ...wire.DecisionEntry) (string, []byte) {
		d := wire.Decision{Node: node, Height: height, Entries: entries, Certificate: wire.Certificate{Block: block}}
		d.V, d.Cluster, d.TS = wire.Version, "c", wire.Timestamp(time.Now())
		b, err := json.Marshal(&d)
		if err != nil {
			t.Fatal(err)
		}
		return wire.Topics{Cluster: "c"}.Decisions(node), b
	}
	o := newRecorder()
	o.record(decision("node-1", 7, "aaaa"))
	o.record(decision("node-2", 7, "aaaa"))
	o.record(decision("node-1", 8, "bbbb"))
	if c := o.conflicts(); len(c) != 0 {
		t.Fatalf("agreeing decisions reported as conflicts: %v", c)
	}
	o.record(decision("node-3", 7, "cccc"))
	c := o.conflicts()
	if len(c) != 1 || !strings.Contains(c[0], "height 7") || !strings.Contains(c[0], "node-3") {
		t.Fatalf("a conflicting block at height 7 was not reported: %v", c)
	}
	if len(o.ejections()) != 0 {
		t.Fatalf("ejections reported without one: %v", o.ejections())
	}
	o.record(decision("node-1", 9, "dddd", wire.DecisionEntry{Type: wire.EntryEject, Node: "node-4", Reason: "equivocation"}))
	j := wire.Ejection{Node: "node-4", Height: 9, Reason: "equivocation"}
	b, _ := json.Marshal(&j)
	o.record(wire.Topics{Cluster: "c"}.Ejection("node-4"), b)
	if e := o.ejections(); len(e) != 2 {
		t.Fatalf("ejections seen: %v, want the decided one and the published one", e)
	}
	o.record(wire.Topics{Cluster: "c"}.Decisions("node-1"), []byte("{not json"))
	if c := o.conflicts(); len(c) != 2 {
		t.Fatalf("a malformed decision must count as a problem: %v", c)
	}
}
