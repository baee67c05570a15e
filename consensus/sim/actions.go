package sim

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// Actions
//
// Every decided op is an action. Its performer and witnesses are a
// function of agreed state alone (assign): every honest node names the
// same ones. The performer drives its pin for driveFor, starting driveLead
// after it applied the decision, then signs an outcome saying so and sends
// it to the witnesses. A witness watches the performer's pin from the
// moment it applied the same decision until watchFor later (its wiring, not
// the network: a partition hides the outcome, never the pin). When an ok
// outcome arrives for an interval it watched whole and the pin never rose
// in it, the witness accuses the performer of a witness contradiction.
//
// Nothing honest can be accused this way: a crashed performer publishes
// nothing (its drive ends with it), a witness that crashed lost its watch
// with its memory, a witness that applied the decision late did not watch
// the whole interval and stays silent, and an outcome that is lost or late
// is simply not judged.
const (
	actionName = "blink"
	driveLead  = 100 * time.Millisecond
	driveFor   = 300 * time.Millisecond
	// watchFor covers the drive of a performer that applied the decision
	// up to a second or two after the witness, and the outcome's trip.
	watchFor = driveLead + driveFor + 2*time.Second
)

// assign is an op's performer — a validator picked by a hash of the entry
// — and its witnesses: max(2, f+1) of the other validators (fewer when the
// set is smaller), taken in name order from a place the hash also picks, so
// that over many ops every validator watches every other.
func assign(op consensus.Entry, vals *consensus.ValidatorSet) (performer consensus.NodeID, witnesses []consensus.NodeID) {
	h := fnv.New64a()
	h.Write(op)
	sum := h.Sum64()
	list := vals.List()
	n := uint64(len(list))
	p := sum % n
	performer = list[p].ID
	want := min(max(2, vals.Faulty()+1), len(list)-1)
	start := (sum >> 32) % max(1, n-1)
	for k := range uint64(want) {
		// Others in name order, rotated by start: skip the performer.
		i := (start + k) % (n - 1)
		if i >= p {
			i++
		}
		witnesses = append(witnesses, list[i].ID)
	}
	return performer, witnesses
}

// watch is a witness's view of one action.
type watch struct {
	performer consensus.NodeID
	from      time.Duration // when it started watching
	until     time.Duration
}

// pendingOutcome is an outcome a performer will publish when its drive
// ends, unless it crashes first.
type pendingOutcome struct {
	outcome   wire.Outcome
	witnesses []consensus.NodeID
}

// onOp is a process's part in a decided op: perform it, watch it, or
// neither. It runs inside Apply, so it only schedules.
func (s *simulation) onOp(p *process, height uint64, op consensus.Entry, vals *consensus.ValidatorSet) {
	requested, timed := opTime(op)
	if !timed || s.now < requested || s.now > requested+opDeadline {
		return // no action, one from the future, or too late to perform
	}
	performer, witnesses := assign(op, vals)
	instance := string(op)
	if performer == p.id {
		s.perform(p, height, instance, witnesses)
		return
	}
	if !p.honest {
		return
	}
	for _, w := range witnesses {
		if w == p.id {
			p.watches[instance] = watch{performer: performer, from: s.now, until: s.now + watchFor}
			return
		}
	}
}

// book tells p's pin watcher that op, decided at height, is assigned to
// its performer (pins.go).
func (s *simulation) book(p *process, height uint64, op consensus.Entry, vals *consensus.ValidatorSet) {
	requested, timed := opTime(op)
	if !timed {
		return
	}
	if performer, _ := assign(op, vals); performer != p.id {
		p.pins.book(performer, height, requested)
	}
}

// perform drives p's pin for an assignment and schedules its outcome; a
// ReportStrategy decides whether it really drives and whether it reports.
func (s *simulation) perform(p *process, height uint64, instance string, witnesses []consensus.NodeID) {
	doDrive, report := true, true
	if rs, ok := p.strategy.(ReportStrategy); ok {
		doDrive, report = rs.Act(p.adv, instance)
	}
	start := (s.now + driveLead).Truncate(time.Millisecond) // payload times are in milliseconds
	until := start + driveFor
	if doDrive {
		s.world.drive(p.num, start, until)
	}
	if !report {
		return
	}
	p.outboxSeq++
	p.outbox[p.outboxSeq] = &pendingOutcome{
		outcome: wire.Outcome{
			Header: wire.Header{V: wire.Version, Cluster: s.cluster, TS: wire.Timestamp(wallTime(until))},
			Action: actionName, Instance: instance, RequestID: instance, Performer: string(p.id), Height: height,
			OK: true, Started: wire.Timestamp(wallTime(start)), Finished: wire.Timestamp(wallTime(until)), Readback: "high",
		},
		witnesses: witnesses,
	}
	s.queue.push(event{at: until, kind: evOutcome, proc: p.idx, from: int(p.outboxSeq)})
}

// publishOutcome signs and sends an outcome whose drive has ended, if the
// performer is still the incarnation that planned it.
func (s *simulation) publishOutcome(p *process, seq uint64) {
	po, ok := p.outbox[seq]
	if p.down || !ok {
		return
	}
	delete(p.outbox, seq)
	o := &po.outcome
	o.Sig = s.signReport(p, wire.DomainOutcome, o)
	s.reports.Outcomes++
	raw := encodeReport(tagOutcome, o)
	for _, w := range po.witnesses {
		s.forRecipients(p, w, func(q *process) { s.transmitReport(p, q, raw) })
	}
}

// judgeOutcome holds a verified outcome against what witness q saw of the
// performer's pin.
func (s *simulation) judgeOutcome(q *process, o *wire.Outcome) {
	w, ok := q.watches[o.Instance]
	if !ok || w.performer != consensus.NodeID(o.Performer) {
		return // not watching, or done with it already
	}
	delete(q.watches, o.Instance)
	started, ok1 := virtualTime(o.Started)
	finished, ok2 := virtualTime(o.Finished)
	if !o.OK || !ok1 || !ok2 || started < w.from || finished > s.now || finished <= started {
		return // a failure, or an interval it did not watch whole
	}
	performer := s.nums[w.performer]
	if s.world.moved(performer, started, finished) {
		return
	}
	why := fmt.Sprintf("%s watched %s's pin for %s from %.3fs to %.3fs: it never rose, yet %s reported ok",
		q.id, w.performer, o.Instance, started.Seconds(), finished.Seconds(), w.performer)
	s.accuse(q, w.performer, wire.AccuseWitness, why)
}

// pruneWatches forgets watches whose outcome never came.
func (p *process) pruneWatches(now time.Duration) {
	for k, w := range p.watches {
		if w.until < now {
			delete(p.watches, k)
		}
	}
}
