package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The demo's invariants
//
// At the end the narrator judges the run on what was published, as any
// subscriber could: a demo that "looks fine" but broke one of these exits 1
// and names it. An invariant that nothing tested (no height decided) fails
// rather than passing vacuously.

// Names of the invariants, as the summary prints them.
const (
	demoCheckAgreement   = "agreement: every decided height has one block hash, whoever published it"
	demoCheckOutcomes    = "each action instance has exactly one ok outcome, from the performer its decision names"
	demoCheckAdversaries = "every adversarial node ejected"
	demoCheckHonest      = "no honest node ejected"
	demoCheckRequests    = "each request got an outcome"
)

// demoCheck is one invariant's verdict.
type demoCheck struct {
	name   string
	ok     bool
	detail string // what holds, or what broke it
}

// Checks judges the run's invariants on everything observed so far.
func (n *demoNarrator) Checks() []demoCheck {
	n.mu.Lock()
	defer n.mu.Unlock()
	return []demoCheck{n.checkAgreement(), n.checkOutcomes(), n.checkAdversaries(), n.checkHonest(), n.checkRequests()}
}

func (n *demoNarrator) checkAgreement() demoCheck {
	c := demoCheck{name: demoCheckAgreement}
	if len(n.heights) == 0 {
		c.detail = "no height was decided"
		return c
	}
	var broken []string
	for _, h := range demoSortedHeights(n.heights) {
		byBlock := map[string][]string{}
		for node, b := range n.heights[h].blocks {
			byBlock[b] = append(byBlock[b], node)
		}
		if len(byBlock) == 1 {
			continue
		}
		var parts []string
		for _, b := range demoSortedKeys(byBlock) {
			slices.Sort(byBlock[b])
			parts = append(parts, fmt.Sprintf("%s from %s", demoShort(b), strings.Join(byBlock[b], ", ")))
		}
		broken = append(broken, fmt.Sprintf("height %d: %s", h, strings.Join(parts, " vs ")))
	}
	if len(broken) > 0 {
		c.detail = strings.Join(broken, "; ")
		return c
	}
	c.ok = true
	c.detail = fmt.Sprintf("%d heights, %d decisions published", len(n.heights), n.decisions)
	return c
}

func (n *demoNarrator) checkOutcomes() demoCheck {
	c := demoCheck{name: demoCheckOutcomes}
	var broken []string
	for _, inst := range n.workOrder {
		w := n.work[inst]
		switch {
		case len(w.ok) == 0:
			broken = append(broken, fmt.Sprintf("%s %s (assigned to %s at height %d) has no ok outcome", w.action, w.instance, w.performer, w.height))
		case len(w.ok) > 1:
			var who []string
			for _, o := range w.ok {
				who = append(who, fmt.Sprintf("%s at height %d", o.Performer, o.Height))
			}
			broken = append(broken, fmt.Sprintf("%s %s has %d different ok outcomes: %s", w.action, w.instance, len(w.ok), strings.Join(who, ", ")))
		case w.ok[0].Performer != w.performer:
			broken = append(broken, fmt.Sprintf("%s %s: the ok outcome is from %s, but the decision at height %d names %s", w.action, w.instance, w.ok[0].Performer, w.height, w.performer))
		}
	}
	for _, o := range n.orphans {
		broken = append(broken, fmt.Sprintf("%s %s: ok outcome from %s for an instance no decision assigned", o.Action, o.Instance, o.Performer))
	}
	if len(broken) > 0 {
		c.detail = strings.Join(broken, "; ")
		return c
	}
	c.ok = true
	c.detail = fmt.Sprintf("%d instances", len(n.workOrder))
	if n.duplicates > 0 {
		c.detail += fmt.Sprintf(", %d re-delivered outcomes counted once", n.duplicates)
	}
	return c
}

// ejected reports whether node was ejected: by a decided eject entry, or a
// published ejection.
func (n *demoNarrator) ejected(node string) bool {
	_, byEntry := n.ejectedAt[node]
	_, byRecord := n.ejections[node]
	return byEntry || byRecord
}

func (n *demoNarrator) ejectionText(node string) string {
	if e := n.ejections[node]; e != nil {
		return fmt.Sprintf("%s at height %d: %s", node, e.Height, e.Reason)
	}
	return fmt.Sprintf("%s at height %d", node, n.ejectedAt[node])
}

func (n *demoNarrator) checkAdversaries() demoCheck {
	c := demoCheck{name: demoCheckAdversaries}
	var missed, caught []string
	for _, node := range n.cast.Nodes {
		if _, bad := n.cast.Adversaries[node]; !bad {
			continue
		}
		if n.ejected(node) {
			caught = append(caught, node)
		} else {
			missed = append(missed, node)
		}
	}
	switch {
	case len(missed) > 0:
		c.detail = strings.Join(missed, ", ") + " never ejected"
	case len(caught) == 0:
		c.ok, c.detail = true, "no adversaries in this run"
	default:
		c.ok, c.detail = true, strings.Join(caught, ", ")
	}
	return c
}

func (n *demoNarrator) checkHonest() demoCheck {
	c := demoCheck{name: demoCheckHonest}
	var wrong []string
	for _, node := range demoSortedKeys(n.unionEjected()) {
		if _, bad := n.cast.Adversaries[node]; !bad {
			wrong = append(wrong, n.ejectionText(node))
		}
	}
	if len(wrong) > 0 {
		c.detail = "ejected: " + strings.Join(wrong, "; ")
		return c
	}
	c.ok, c.detail = true, demoCount(len(n.cast.honest()), "honest node")+" kept their vote"
	return c
}

func (n *demoNarrator) unionEjected() map[string]bool {
	out := map[string]bool{}
	for node := range n.ejectedAt {
		out[node] = true
	}
	for node := range n.ejections {
		out[node] = true
	}
	return out
}

// requestOutcome reports whether request id got an outcome, ok or not.
func (n *demoNarrator) requestOutcome(id string) bool {
	for _, w := range n.work {
		if w.requestID == id && (len(w.ok) > 0 || len(w.failed) > 0) {
			return true
		}
	}
	return false
}

func (n *demoNarrator) checkRequests() demoCheck {
	c := demoCheck{name: demoCheckRequests}
	var missing []string
	for _, id := range n.requestOrder {
		if !n.requestOutcome(id) {
			missing = append(missing, fmt.Sprintf("%s (%s)", id, n.requests[id]))
		}
	}
	switch {
	case len(missing) > 0:
		c.detail = "no outcome for " + strings.Join(missing, ", ")
	case len(n.requestOrder) == 0:
		c.ok, c.detail = true, "no requests were sent"
	default:
		c.ok, c.detail = true, fmt.Sprintf("%d/%d", len(n.requestOrder), len(n.requestOrder))
	}
	return c
}

// Outstanding lists the work that still waits for an outcome: assigned
// instances without an ok outcome, and requests without any.
func (n *demoNarrator) Outstanding() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, inst := range n.workOrder {
		if w := n.work[inst]; len(w.ok) == 0 {
			out = append(out, w.action+" "+w.instance)
		}
	}
	for _, id := range n.requestOrder {
		if !n.requestOutcome(id) {
			out = append(out, "request "+id)
		}
	}
	return out
}

// Summary writes the run's summary and its checks to w, and returns the
// checks.
func (n *demoNarrator) Summary(w io.Writer, elapsed time.Duration, seed uint64) []demoCheck {
	checks := n.Checks()
	n.mu.Lock()
	defer n.mu.Unlock()

	fmt.Fprintf(w, "\nsummary of %.1fs (cluster %s, world seed %d)\n", elapsed.Seconds(), n.cast.Cluster, seed)
	honest := n.cast.honest()
	var advs []string
	for _, node := range n.cast.Nodes {
		if mode, bad := n.cast.Adversaries[node]; bad {
			advs = append(advs, node+" "+mode)
		}
	}
	nodes := fmt.Sprintf("%d: %d honest (%s)", len(n.cast.Nodes), len(honest), strings.Join(honest, ", "))
	if len(advs) > 0 {
		nodes += fmt.Sprintf(", %d adversarial (%s)", len(advs), strings.Join(advs, ", "))
	}
	row := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %-11s %s\n", label, fmt.Sprintf(format, args...))
	}
	row("nodes", "%s", nodes)
	var top uint64
	for h := range n.heights {
		top = max(top, h)
	}
	row("heights", "%d decided (highest %d), %d decisions published", len(n.heights), top, n.decisions)

	okCount := len(n.orphans)
	for _, w := range n.work {
		okCount += len(w.ok)
	}
	outcomes := fmt.Sprintf("%d outcomes received: %d ok, %d failed", okCount+n.failedSeen, okCount, n.failedSeen)
	if n.duplicates > 0 {
		outcomes += fmt.Sprintf(" (%d re-deliveries counted once)", n.duplicates)
	}
	row("requests", "%d sent; %s", len(n.requestOrder), outcomes)

	var fired []string
	for _, inst := range n.workOrder {
		if w := n.work[inst]; w.triggered {
			fired = append(fired, fmt.Sprintf("%s %s → %s", w.action, w.instance, w.performer))
		}
	}
	rearmed := ""
	if n.rearms > 0 {
		rearmed = fmt.Sprintf("; re-armed %d times", n.rearms)
	}
	if len(fired) == 0 {
		row("triggers", "none fired%s", rearmed)
	} else {
		row("triggers", "%d fired: %s%s", len(fired), strings.Join(fired, "; "), rearmed)
	}

	row("witnesses", "%d signed observations", n.observations)

	if ej := n.unionEjected(); len(ej) == 0 {
		row("ejections", "none")
	} else {
		var lines []string
		for _, node := range demoSortedKeys(ej) {
			line := n.ejectionText(node)
			if k := n.ejectionReports[node]; k > 0 {
				line += fmt.Sprintf(" (published %d times)", k)
			}
			lines = append(lines, line)
		}
		row("ejections", "%s", strings.Join(lines, "; "))
	}
	if len(n.errors) > 0 {
		row("refusals", "%s", strings.Join(demoSortedKeys(n.errors), "; "))
	}
	if n.unreadable > 0 {
		row("unreadable", "%d payloads did not decode (see the error lines above)", n.unreadable)
	}

	fmt.Fprintln(w, "checks")
	for _, c := range checks {
		verdict := "ok  "
		if !c.ok {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %s: %s\n", verdict, c.name, c.detail)
	}
	return checks
}

func demoSortedHeights(m map[uint64]*demoHeight) []uint64 {
	hs := make([]uint64, 0, len(m))
	for h := range m {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs
}
