package agent

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// Forged, replayed and junk entries
//
// Entries reach this node in frames their sender signed (gossip.go). A
// frame whose entry carries a forged signature is self-proving: the sender
// is ejected on that frame (agreed.ReasonForgedEntry). Otherwise a refused
// entry is usually harmless — one decided a moment ago, an advert
// superseded, a reassignment whose deadline this node has not reached —
// and an honest validator sends few. Two patterns are not harmless, and
// are accused (f+1 accusers eject):
//
//   - replay: entries decided several heights ago, sent again. An honest
//     node stops sending its entry once it is decided; one that lagged
//     behind may send a few before it catches up.
//   - flood: refused entries at a sustained rate.
//
// Only frames that passed the signature check count: nobody can make
// another node look like a flooder by sending junk in its name. Nor do the
// frames of a node that is behind: one that was cut off by a partition, or
// down, sends again the entries it still holds as pending, all of them
// decided while it was away, until it has caught up — honest, and exactly
// what a replay or a flood looks like.

const (
	junkWindow   = 10 * time.Second
	junkRate     = 5               // refused entries per second, over junkWindow
	replayCount  = 10              // entries decided replayAge ago or more, within junkWindow
	replayAge    = 5 * time.Second // an honest node stops sending its entry once decided
	decidedLimit = 8192            // decided entries remembered for replay checks
	// junkLag is how many heights behind this node a sender may be and
	// still have its refused entries counted.
	junkLag = 2
)

// notePeerHeight remembers the highest height a peer proposed, voted or
// reported its status at (a commit it serves to a laggard says nothing of
// its own height); loop goroutine.
func (a *Agent) notePeerHeight(from string, m *consensus.Message) {
	if m == nil || m.Type == consensus.MsgCommit {
		return
	}
	if m.Height > a.peerHeights[from] {
		a.peerHeights[from] = m.Height
	}
}

// catchingUp reports whether a peer is more than junkLag heights behind.
func (a *Agent) catchingUp(from string) bool {
	return a.peerHeights[from]+junkLag < a.state.Height
}

type junkCount struct {
	since           time.Time
	refused, replay int
}

// noteDecidedEntries remembers when this node saw each entry decided; loop
// goroutine. Heights would not do: a quiet cluster decides none for hours.
func (a *Agent) noteDecidedEntries(entries []consensus.Entry) {
	now := time.Now()
	for _, raw := range entries {
		k := sha256.Sum256(raw)
		if _, ok := a.decidedAt[k]; !ok {
			a.decidedOrder = append(a.decidedOrder, k)
			a.decidedAt[k] = now
		}
	}
	for len(a.decidedOrder) > decidedLimit {
		delete(a.decidedAt, a.decidedOrder[0])
		a.decidedOrder = a.decidedOrder[1:]
	}
}

// refusedEntry looks at an entry a validator sent that the state refused;
// loop goroutine.
func (a *Agent) refusedEntry(from string, sig []byte, entry consensus.Entry) {
	if why := a.state.Forged(entry); why != "" {
		e := agreed.NewForgedEntryEjection(from, sig, entry)
		if _, err := a.state.CheckEntry(e.Encode()); err == nil {
			a.log.Warn("forged entry", "from", from, "what", why)
			a.submit(e)
		}
		return
	}
	if a.catchingUp(from) {
		return
	}
	c := a.junk[from]
	if c == nil {
		c = &junkCount{since: time.Now()}
		a.junk[from] = c
	}
	if at, ok := a.decidedAt[sha256.Sum256(entry)]; ok && time.Since(at) >= replayAge {
		c.replay++
		return
	}
	c.refused++
}

// judgeJunk accuses the validators whose refused entries over the last
// window passed the limits; loop goroutine, on ticks.
func (a *Agent) judgeJunk() {
	for from, c := range a.junk {
		age := time.Since(c.since)
		if age < junkWindow {
			continue
		}
		delete(a.junk, from)
		if c.replay >= replayCount {
			a.accuse(from, wire.AccuseReplay, fmt.Sprintf("%s sent %d entries decided %v or more earlier, in %.0fs", from, c.replay, replayAge, age.Seconds()),
				map[string]any{"replayed_entries": c.replay, "seconds": age.Seconds()})
		}
		if rate := float64(c.refused) / age.Seconds(); rate > junkRate {
			a.accuse(from, wire.AccuseFlood, fmt.Sprintf("%s sent %d refused entries in %.0fs (%.0f/s; honest validators send a few)", from, c.refused, age.Seconds(), rate),
				map[string]any{"refused_entries": c.refused, "seconds": age.Seconds()})
		}
	}
}
