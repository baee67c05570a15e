package agent

import (
	"fmt"
	"time"

	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/hw"
)

// What witnesses hold against performers
//
// A witness input shows two lies: an ok outcome for work whose pin never
// moved (the witness, wired and watching, saw nothing), and a pin driven
// with no assignment at all (rogue action). Both become accusations, with
// the witness's signed observation and the performer's signed outcome as
// evidence; f+1 witnesses agreeing eject the performer. A witness the board
// says is not wired stays out of it.

// rogueGrace is how long after seeing a watched output go on a witness
// waits for the assignment that explains it: the performer may have
// applied the decision a moment before the witness did.
const rogueGrace = 2 * time.Second

// rogueSample is how often witness inputs are read outside assignments.
const rogueSample = 50 * time.Millisecond

// seenOn is a watched output seen switched on, reported to the loop.
type seenOn struct {
	input, watches string
	at             time.Time
}

// monitorWitnesses reads every witness input and reports each time its
// output goes on; it runs on its own goroutine until the agent stops.
func (a *Agent) monitorWitnesses() {
	defer a.workerWG.Done()
	var inputs []hw.Input
	for _, in := range a.board.Inputs() {
		if in.Watches() != "" {
			inputs = append(inputs, in)
		}
	}
	if len(inputs) == 0 {
		return
	}
	was := make([]bool, len(inputs))
	t := time.NewTicker(rogueSample)
	defer t.Stop()
	for {
		select {
		case <-a.runCtx.Done():
			return
		case <-t.C:
		}
		for i, in := range inputs {
			high, err := in.Read()
			if err != nil {
				continue
			}
			if high && !was[i] {
				select {
				case a.seen <- seenOn{input: in.Name(), watches: in.Watches(), at: time.Now()}:
				default: // the loop is busy; the next change will do
				}
			}
			was[i] = high
		}
	}
}

// driveWindow is when an assignment allowed a performer to drive an output.
type driveWindow struct{ from, until time.Time }

// perJobAllowance is what a performer may spend around each piece of work
// besides driving (two fsynced store writes, signing): work queued behind
// other work on one output starts that much later.
const perJobAllowance = 100 * time.Millisecond

// allowDrive notes that performer/output may be on for an assignment
// decided now, after the work already queued for it, and returns when that
// work should be over; loop goroutine.
func (a *Agent) allowDrive(watches string, d time.Duration) time.Time {
	now := time.Now()
	ws := a.driveWindows[watches]
	kept := ws[:0] // the windows of the last few minutes only
	start := now
	for _, w := range ws {
		if now.Sub(w.until) < 5*time.Minute {
			kept = append(kept, w)
			if w.until.After(start) {
				start = w.until // queued behind it
			}
		}
	}
	until := start.Add(d + perJobAllowance)
	a.driveWindows[watches] = append(kept, driveWindow{from: now.Add(-rogueGrace), until: until})
	return until
}

func (a *Agent) driveAllowed(watches string, at time.Time) bool {
	for _, w := range a.driveWindows[watches] {
		if !at.Before(w.from) && !at.After(w.until.Add(witnessSlack)) {
			return true
		}
	}
	return false
}

// sawOn takes a report of a watched output going on; loop goroutine.
func (a *Agent) sawOn(s seenOn) {
	if !a.driveAllowed(s.watches, s.at) {
		a.suspectDrive[s.watches] = s
	}
}

// judgeDrives accuses the performers of outputs seen on with no
// assignment, once the grace has passed; loop goroutine, on ticks.
func (a *Agent) judgeDrives() {
	for watches, s := range a.suspectDrive {
		if time.Since(s.at) < rogueGrace {
			continue
		}
		delete(a.suspectDrive, watches)
		if a.driveAllowed(watches, s.at) {
			continue
		}
		node, output, ok := cutWatches(watches)
		if !ok || !a.state.ValidatorSet().Has(consensusID(node)) {
			continue
		}
		o := &wire.Observation{
			Header: wire.Header{TS: wire.Timestamp(time.Now())},
			Node:   a.name, Input: s.input, Action: "none", Instance: "unassigned",
			Performer: node, Output: output, Height: a.state.Height, Level: "high", Saw: "high", SeenAt: wire.Timestamp(s.at),
		}
		if err := wire.SignObservation(a.cluster.Name, o, a.key); err != nil {
			continue
		}
		a.accuse(node, wire.AccuseRogue, fmt.Sprintf("%s's %s went on at %s with no assignment (seen by %s's %s)", node, output, wire.Timestamp(s.at), a.name, s.input), o)
	}
}

func cutWatches(w string) (node, output string, ok bool) {
	for i := 0; i < len(w); i++ {
		if w[i] == '/' {
			return w[:i], w[i+1:], i > 0 && i < len(w)-1
		}
	}
	return "", "", false
}

// witnessEvidence is what a witness contradiction rests on.
type witnessEvidence struct {
	Outcome     *wire.Outcome     `json:"outcome"`
	Observation *wire.Observation `json:"observation"`
}

// checkWitness holds this node's observations of an instance against the
// performer's outcome; loop goroutine, when either arrives.
func (a *Agent) checkWitness(instance string) {
	o := a.known[instance]
	if o == nil || !o.OK {
		return
	}
	for _, obs := range a.observations[instance] {
		if obs.Node != a.name || obs.Performer != o.Performer || obs.Height != o.Height || obs.Saw != "" || !watchedWhole(obs, o) {
			continue
		}
		a.accuse(o.Performer, wire.AccuseWitness,
			fmt.Sprintf("%s reported %s %s ok (readback %q), but %s's %s, wired to %s, never saw it %s", o.Performer, o.Action, o.Instance, o.Readback, a.name, obs.Input, obs.Output, obs.Level),
			witnessEvidence{Outcome: o, Observation: obs})
	}
}

// clockSkew is how far apart two honest nodes' clocks may be (NTP on a
// LAN keeps them within milliseconds).
const clockSkew = 200 * time.Millisecond

// watchedWhole reports whether the witness sampled its input through the
// drive the performer claims, skew allowed for at both ends: from the
// claimed start plus the skew to the claimed end minus it, a stretch that
// must not be empty. A drive an honest performer made in that stretch was
// on under the witness's eyes for every sample.
func watchedWhole(obs *wire.Observation, o *wire.Outcome) bool {
	from, err1 := wire.ParseTime(obs.WatchedFrom)
	until, err2 := wire.ParseTime(obs.WatchedUntil)
	started, err3 := wire.ParseTime(o.Started)
	finished, err4 := wire.ParseTime(o.Finished)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return false
	}
	lo, hi := started.Add(clockSkew), finished.Add(-clockSkew)
	return hi.Sub(lo) >= 2*witnessSample && !from.After(lo) && !until.Before(hi)
}
