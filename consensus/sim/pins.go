package sim

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// Unassigned drives
//
// Every honest node watches every other validator's pin (the world's
// wiring, not the network) and holds each rise of it against the decided
// ops that name that validator as performer. A rise no op explains is a
// drive without an assignment: the witness accuses the driver
// (wire.AccuseRogue), and f+1 such witnesses eject it.
//
// The difficulty is a witness that is behind — partitioned, or catching up
// after a crash — which sees a pin rise before it has applied the op that
// explains it. Waiting a while is no answer: partitions last longer than
// any while. The witness waits for something it can know instead: every
// rise is judged only once the witness has applied a block holding a
// marker entry of its own that it made after the rise began. That block
// was decided after the rise began, while an honest performer drives only
// for an op it has already applied, so decided earlier: the op's height is
// below the marker's (a height is decided only after the one before it),
// and the witness has applied it when it judges.
//
// Each op explains one rise at most, and only one in its window: a
// performer drives an op only between its request time (in the op,
// "op/<id>@<ms>") and opDeadline later, driveLead after applying it. The
// witness matches rises in order to the unused op whose window ends first
// among those that may explain it — earliest deadline first, which finds a
// match for every rise whenever one exists, since the ops a rise may use
// grow with the marker height and slide with time. So an honest performer
// is never accused, and a rogue one is, as soon as its drives outnumber
// its ops in some window.
const (
	markPrefix = "mark/"
	// opDeadline is how long after its request an op may still be
	// performed; a performer that applies it later (it was partitioned or
	// down) leaves it undone, as the agent leaves a request past its
	// deadline to be reassigned.
	opDeadline = 10 * time.Second
)

// MarkEntry is a witness's marker: the node's name and a nonce nobody
// else can guess, so no one can have it decided before the witness made it.
func markEntry(node consensus.NodeID, nonce string) consensus.Entry {
	return consensus.Entry(markPrefix + string(node) + "/" + nonce)
}

// parseMark splits a marker entry; ok is false for any other entry.
func parseMark(e consensus.Entry) (node consensus.NodeID, nonce string, ok bool, err error) {
	rest, found := bytes.CutPrefix(e, []byte(markPrefix))
	if !found {
		return "", "", false, nil
	}
	name, n, found := strings.Cut(string(rest), "/")
	if !found || name == "" || n == "" || strings.Contains(n, "/") {
		return "", "", true, fmt.Errorf("%w: want mark/<node>/<nonce>, got %.40q", errMalformedEntry, e)
	}
	return consensus.NodeID(name), n, true, nil
}

// opTime is when an op was requested, from its "@<ms>" suffix; ok is false
// for an op without one, which is decided but is no action.
func opTime(op consensus.Entry) (time.Duration, bool) {
	i := bytes.LastIndexByte(op, '@')
	if i < 0 {
		return 0, false
	}
	ms, err := strconv.ParseUint(string(op[i+1:]), 10, 40)
	if err != nil {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

// timedOp is the workload's op number n requested at t.
func timedOp(n uint64, t time.Duration) consensus.Entry {
	return OpEntry(strconv.FormatUint(n, 10) + "@" + strconv.FormatInt(t.Milliseconds(), 10))
}

// bookedOp is an op a witness knows was assigned to a performer.
type bookedOp struct {
	height    uint64
	requested time.Duration
}

// mayStartIn reports whether the op's drive may have begun in [from, until).
func (o bookedOp) mayStartIn(from, until time.Duration) bool {
	return o.requested+driveLead < until && from <= o.lastStart()
}

// lastStart is the latest its drive may begin.
func (o bookedOp) lastStart() time.Duration { return o.requested + opDeadline + driveLead }

// rise is one interval a watched pin was high: merged drives.
type rise struct {
	from, until time.Duration
	bound       uint64 // the height of the marker that lets it be judged; 0 until then
}

// drives is how many drives the rise holds at least: each lasts driveFor.
func (r rise) drives() int {
	return int((r.until - r.from + driveFor - 1) / driveFor)
}

// pinWatch is what a witness knows of one validator's pin.
type pinWatch struct {
	scanned time.Duration // drives that began up to here are in rises
	until   time.Duration // the end of the latest rise, judged or not
	rises   []rise        // not judged yet, in order
	ops     []bookedOp    // assigned and not used to explain a rise, by height
}

// pinWatcher is an honest process's watch over every other pin.
type pinWatcher struct {
	from   time.Duration // when this incarnation started watching
	pins   map[consensus.NodeID]*pinWatch
	marks  map[string]time.Duration // own undecided markers: nonce → made at
	newest time.Duration            // when the newest marker was made
}

func newPinWatcher(now time.Duration) *pinWatcher {
	return &pinWatcher{from: now, pins: make(map[consensus.NodeID]*pinWatch), marks: make(map[string]time.Duration), newest: -1}
}

func (w *pinWatcher) pin(id consensus.NodeID) *pinWatch {
	pw := w.pins[id]
	if pw == nil {
		pw = &pinWatch{scanned: w.from, until: -1}
		w.pins[id] = pw
	}
	return pw
}

// book records a decided op assigned to performer, replayed ones included:
// an op decided before a restart may be performed after it.
func (w *pinWatcher) book(performer consensus.NodeID, height uint64, requested time.Duration) {
	pw := w.pin(performer)
	pw.ops = append(pw.ops, bookedOp{height: height, requested: requested})
}

// watchPins looks at every other validator's pin (every AuditEvery): it
// judges the rises its markers have bound, asks for a marker when a rise
// began after its newest one, and forgets the pins of nodes that left the
// set.
func (s *simulation) watchPins(p *process) {
	w := p.pins
	maps.DeleteFunc(w.pins, func(id consensus.NodeID, _ *pinWatch) bool { return !p.app.vals.Has(id) })
	for _, id := range slices.Sorted(maps.Keys(w.pins)) {
		s.judgeRises(p, id, w.pins[id])
	}
	needMark := false
	for _, v := range p.app.vals.List() {
		if v.ID == p.id {
			continue
		}
		pw := w.pin(v.ID)
		for _, d := range s.world.drives[s.nums[v.ID]] {
			if d.from <= pw.scanned || d.from > s.now {
				continue
			}
			pw.scanned = d.from
			if d.from <= pw.until {
				pw.until = max(pw.until, d.until) // still high: the same rise
				if n := len(pw.rises); n > 0 {
					pw.rises[n-1].until = pw.until
				}
				continue
			}
			pw.until = d.until
			pw.rises = append(pw.rises, rise{from: d.from, until: d.until})
		}
		for _, r := range pw.rises {
			needMark = needMark || (r.bound == 0 && r.until <= s.now && r.until > w.newest)
		}
		pw.prune()
	}
	if needMark {
		nonce := strconv.FormatUint(s.rng.Uint64(), 16)
		w.marks[nonce], w.newest = s.now, s.now
		s.reports.Marks++
		e := markEntry(p.id, nonce)
		p.node.Propose(e)
		s.gossipEntry(p, e)
		s.drain(p)
	}
}

// onMark runs inside Apply for every decided marker: one of p's own binds
// every rise that had ended when it was made. They are judged at the next
// watchPins, outside Apply, as an accusation is a proposal.
func (s *simulation) onMark(p *process, height uint64, node consensus.NodeID, nonce string) {
	w := p.pins
	made, ok := w.marks[nonce]
	if node != p.id || !ok {
		return
	}
	delete(w.marks, nonce)
	for _, pw := range w.pins {
		for i := range pw.rises {
			if r := &pw.rises[i]; r.bound == 0 && r.until <= made {
				r.bound = height
			}
		}
	}
}

// judgeRises accuses id of every unexplained rise of its pin.
func (s *simulation) judgeRises(p *process, id consensus.NodeID, pw *pinWatch) {
	for _, u := range pw.judge() {
		why := fmt.Sprintf("%s saw %s's pin high from %.3fs to %.3fs, %d drives long, and only %d ops decided by height %d explain it",
			p.id, id, u.from.Seconds(), u.until.Seconds(), u.drives(), u.found, u.bound-1)
		s.accuse(p, id, wire.AccuseRogue, why)
	}
}

// unexplained is a rise short of ops: found of the drives it holds.
type unexplained struct {
	rise
	found int
}

// judge matches the bound rises, in order, to the ops: a rise needs an op
// for each drive it holds, taken earliest deadline first. It returns the
// rises short of ops: each holds a drive without an assignment.
func (pw *pinWatch) judge() []unexplained {
	var out []unexplained
	for len(pw.rises) > 0 && pw.rises[0].bound != 0 {
		r := pw.rises[0]
		pw.rises = pw.rises[1:]
		need, found := r.drives(), 0
		for ; found < need; found++ {
			best := -1
			for i, o := range pw.ops {
				if o.height < r.bound && o.mayStartIn(r.from, r.until) && (best < 0 || o.lastStart() < pw.ops[best].lastStart()) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			pw.ops = slices.Delete(pw.ops, best, best+1)
		}
		if found < need {
			out = append(out, unexplained{r, found})
		}
	}
	pw.prune()
	return out
}

// prune forgets the ops whose window closed before any rise still to be
// judged began.
func (pw *pinWatch) prune() {
	oldest := pw.scanned
	if len(pw.rises) > 0 {
		oldest = pw.rises[0].from
	}
	pw.ops = slices.DeleteFunc(pw.ops, func(o bookedOp) bool { return o.lastStart() < oldest })
}
