package main

import (
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus/quorum"
)

// decision shows a height once, when first seen, then counts the nodes
// that publish the same block and says when a quorum and when every known
// node has; a different block at the same height is a loud DISAGREEMENT.
// A decision whose certificate does not verify is shown and not counted.
func (w *watcher) decision(cv *clusterView, t wire.Topic, e *watchEvent) (bool, error) {
	var d wire.Decision
	if err := wire.Unmarshal(e.payload, &d); err != nil {
		return false, err
	}
	if err := firstProblem(checkPayloadHeader(d.Header, t), checkPayloadNode(d.Node, t)); err != nil {
		return false, err
	}
	block, err := blockHash(d.Certificate.Block)
	if err != nil {
		return false, err
	}
	e.sig = w.trust.certificate(t.Cluster, d.Height, d.Certificate, block)
	if e.sig.state == sigBad {
		e.text = fmt.Sprintf("height %d from %s", d.Height, d.Node)
		return true, nil
	}
	cv.node(d.Node).decides = true
	hv := cv.heights[d.Height]
	switch {
	case hv == nil:
		hv = &heightView{block: d.Certificate.Block, entries: d.Entries, first: d.Node, confirmed: map[string]bool{d.Node: true}, forks: map[string]bool{}}
		cv.heights[d.Height] = hv
		cv.advance(d.Height)
		w.applyChanges(cv, t.Cluster, d.Height)
		cv.changes = append(cv.changes, setChange{d.Height, d.Entries, e.sig.state == sigOK})
		e.confirmations = 1
		e.text = fmt.Sprintf("height %d decided in round %d, block %s, published by %s", d.Height, d.Certificate.Round, shortBlock(d.Certificate.Block), d.Node)
		e.more = entryLines(d.Entries)
		return true, nil
	case hv.block != d.Certificate.Block || !slices.Equal(hv.entries, d.Entries):
		e.disagreement = true
		what := fmt.Sprintf("%s decided block %s, %s decided block %s", d.Node, shortBlock(d.Certificate.Block), hv.first, shortBlock(hv.block))
		if hv.block == d.Certificate.Block {
			what = fmt.Sprintf("%s published other entries than %s for the same block %s", d.Node, hv.first, shortBlock(hv.block))
		}
		e.text = fmt.Sprintf("!!! DISAGREEMENT at height %d: %s", d.Height, what)
		if !hv.forks[d.Node] {
			e.more = entryLines(d.Entries)
		}
		hv.forks[d.Node] = true
		return true, nil
	case hv.confirmed[d.Node]:
		return false, nil // published again (QoS 1): nothing new
	}
	// One more node confirms the height: a JSON line of its own, but in
	// human output only the milestones.
	hv.confirmed[d.Node] = true
	e.confirmations = len(hv.confirmed)
	if w.json {
		return true, nil
	}
	w.milestones(cv, t.Cluster, d.Height, hv)
	return false, nil
}

// setChange is a decided height's admissions, ejections and retirements,
// which change the validator set from the next height on.
type setChange struct {
	height   uint64
	entries  []wire.DecisionEntry
	verified bool
}

// applyChanges applies the admissions, ejections and retirements decided
// below height: ejected nodes no longer count, nor do retired ones (from a
// verified certificate), and admitted nodes' keys (likewise) check their
// signatures.
func (w *watcher) applyChanges(cv *clusterView, cluster string, height uint64) {
	keep := cv.changes[:0]
	for _, c := range cv.changes {
		if c.height >= height {
			keep = append(keep, c)
			continue
		}
		if c.verified {
			w.trust.learn(cluster, c.entries)
		}
		for _, en := range c.entries {
			if en.Type == wire.EntryEject {
				cv.ejected[en.Node] = true
			}
		}
	}
	cv.changes = keep
}

// milestones says when a height's confirmations reach a quorum of the
// known validators, and when they reach all of them.
func (w *watcher) milestones(cv *clusterView, cluster string, height uint64, hv *heightView) {
	n := w.validators(cv, cluster)
	k := len(hv.confirmed)
	if n == 0 {
		return
	}
	// Without the cluster file the validators are guessed from the nodes
	// seen, and the lines say so.
	nodes := "validators"
	if !w.trust.covers(cluster) {
		nodes = "nodes seen"
	}
	q := quorum.Threshold(n)
	switch {
	case k >= n && !hv.all:
		hv.all, hv.quorum = true, true
		w.line(cluster, "height %d confirmed by all %d %s", height, n, nodes)
	case k >= q && k < n && !hv.quorum:
		hv.quorum = true
		w.line(cluster, "height %d confirmed by %d of %d %s (a quorum)", height, k, n, nodes)
	}
}

// validators is how many nodes are expected to publish each height: the
// cluster file's validators and those admitted since, less the retired, or
// without it every node seen deciding or ready; ejected ones left out.
func (w *watcher) validators(cv *clusterView, cluster string) int {
	names := map[string]bool{}
	if w.trust.covers(cluster) {
		for name := range w.trust.keys {
			if !w.trust.retired[name] {
				names[name] = true
			}
		}
	} else {
		for name, n := range cv.nodes {
			if n.decides || n.state == wire.StateReady {
				names[name] = true
			}
		}
	}
	for name := range cv.ejected {
		delete(names, name)
	}
	return len(names)
}

// advance notes a new height and forgets those far below the highest.
func (cv *clusterView) advance(h uint64) {
	if h <= cv.top {
		return
	}
	cv.top = h
	for old := range cv.heights {
		if old+keepHeights < h {
			delete(cv.heights, old)
		}
	}
}

func entryLines(entries []wire.DecisionEntry) []string {
	out := make([]string, 0, len(entries))
	for _, en := range entries {
		var s string
		switch en.Type {
		case wire.EntryAssign:
			s = fmt.Sprintf("assign %s %s → %s (request %s)", en.Action, en.Instance, en.Performer, en.RequestID)
		case wire.EntryReassign:
			from := ""
			if en.Node != "" {
				from = en.Node + " "
			}
			s = fmt.Sprintf("reassign %s %s %s→ %s (request %s)", en.Action, en.Instance, from, en.Performer, en.RequestID)
			if en.Reason != "" {
				s += ": " + en.Reason
			}
		case wire.EntryEject:
			s = fmt.Sprintf("eject %s: %s", en.Node, en.Reason)
		case wire.EntryAdmit:
			s = fmt.Sprintf("admit %s (key %s, operator %s)", en.Node, en.Key, en.Operator)
		case wire.EntryRetire:
			s = fmt.Sprintf("retire %s (key %s, operator %s)", en.Node, en.Key, en.Operator)
			if en.Reason != "" {
				s += ": " + en.Reason
			}
		case wire.EntryAdvertise:
			s = fmt.Sprintf("advertise %s seq %d", en.Node, en.Seq)
		default:
			s = fmt.Sprintf("%s (unknown entry type)", en.Type)
		}
		out = append(out, s)
	}
	return out
}

// blockHash decodes a certificate's block: 64 hex digits.
func blockHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("%w: certificate.block %q is not 64 hex digits", wire.ErrMalformed, s)
	}
	copy(h[:], b)
	return h, nil
}

// shortBlock is a block hash as logs print it: eight hex digits.
func shortBlock(block string) string {
	if len(block) > 8 {
		return block[:8]
	}
	return block
}
