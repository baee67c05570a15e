package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/seed44533760/pact/agent/wire"
)

// The negotiate, agree and detect phases as decisions show them: the first
// publisher of a height tells what it decided, the others only count
// towards its confirmation (and would expose a disagreement).

func (n *demoNarrator) onDecision(publisher string, d *wire.Decision) {
	n.decisions++
	h := n.heights[d.Height]
	first := h == nil
	if first {
		h = &demoHeight{blocks: map[string]string{}, first: publisher}
		n.heights[d.Height] = h
	}
	if old, dup := h.blocks[publisher]; dup && old == d.Certificate.Block {
		return // the same decision again (at least once)
	}
	h.blocks[publisher] = d.Certificate.Block
	if !first {
		if want := h.blocks[h.first]; d.Certificate.Block != want {
			n.say(demoPhaseAgree, "DISAGREEMENT at height %d: %s has block %s, %s has %s", d.Height, publisher, demoShort(d.Certificate.Block), h.first, demoShort(want))
		}
		n.confirm(d.Height, h)
		return
	}
	var newly []string
	for _, e := range d.Entries {
		switch e.Type {
		case wire.EntryAdvertise:
			if _, seen := n.advertised[e.Node]; !seen {
				newly = append(newly, e.Node)
			}
			n.advertised[e.Node] = d.Height
		case wire.EntryAssign:
			h.notable = true
			w := n.work[e.Instance]
			if w == nil {
				w = &demoWork{action: e.Action, instance: e.Instance, failed: map[string]bool{}}
				n.work[e.Instance] = w
				n.workOrder = append(n.workOrder, e.Instance)
			}
			w.requestID, w.performer, w.height = e.RequestID, e.Performer, d.Height
			w.triggered = e.Reason == "trigger"
			why := "request " + e.RequestID
			if w.triggered {
				why = "trigger"
				n.disarmed[e.Action] = true
			}
			n.say(demoPhaseAgree, "decided at height %d: %s %s → %s (%s)", d.Height, e.Action, e.Instance, e.Performer, why)
		case wire.EntryReassign:
			h.notable = true
			w := n.work[e.Instance]
			if w == nil {
				w = &demoWork{action: e.Action, instance: e.Instance, requestID: e.RequestID, failed: map[string]bool{}}
				n.work[e.Instance] = w
				n.workOrder = append(n.workOrder, e.Instance)
			}
			w.performer, w.height = e.Performer, d.Height
			n.say(demoPhaseAgree, "decided at height %d: %s %s moves from %s to %s (%s)", d.Height, e.Action, e.Instance, e.Node, e.Performer, e.Reason)
		case wire.EntryEject:
			h.notable = true
			if _, seen := n.ejectedAt[e.Node]; !seen {
				n.ejectedAt[e.Node] = d.Height
			}
			n.say(demoPhaseDetect, "decided at height %d: eject %s (%s)%s", d.Height, e.Node, e.Reason, n.honestNote(e.Node))
		case wire.EntryAdmit:
			h.notable = true
			n.say(demoPhaseAgree, "decided at height %d: admit %s (operator %s)", d.Height, e.Node, e.Operator)
		case "rearm":
			n.rearms++
			delete(n.disarmed, e.Action)
			n.say(demoPhaseSense, "decided at height %d: %s's trigger is armed again", d.Height, e.Action)
		}
	}
	if len(newly) > 0 {
		all := ""
		if n.checkCapsDone() {
			all = " — every honest node's"
		}
		n.say(demoPhaseNegotiate, "capabilities agreed: %d/%d (height %d: %s)%s", len(n.advertised), len(n.cast.Nodes), d.Height, strings.Join(newly, ", "), all)
	}
	n.confirm(d.Height, h)
}

func (n *demoNarrator) honestNote(node string) string {
	if _, bad := n.cast.Adversaries[node]; bad || !slices.Contains(n.cast.Nodes, node) {
		return ""
	}
	return " — an HONEST node"
}

// checkCapsDone closes capsDone once every honest node has been
// advertised, and reports whether it did so now.
func (n *demoNarrator) checkCapsDone() bool {
	select {
	case <-n.capsDone:
		return false
	default:
	}
	for _, node := range n.cast.honest() {
		if _, ok := n.advertised[node]; !ok {
			return false
		}
	}
	close(n.capsDone)
	return true
}

// confirm narrates a notable height once every honest node has published it.
func (n *demoNarrator) confirm(height uint64, h *demoHeight) {
	if !h.notable || h.done {
		return
	}
	for _, node := range n.cast.honest() {
		if _, ok := h.blocks[node]; !ok {
			return
		}
	}
	h.done = true
	blocks := map[string]bool{}
	for _, b := range h.blocks {
		blocks[b] = true
	}
	same := fmt.Sprintf("same block %s", demoShort(h.blocks[h.first]))
	if len(blocks) > 1 {
		same = fmt.Sprintf("%d DIFFERENT blocks", len(blocks))
	}
	n.say(demoPhaseAgree, "height %d confirmed by %d/%d nodes, %s", height, len(h.blocks), len(n.cast.Nodes), same)
}

func demoShort(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}
