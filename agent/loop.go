package agent

import (
	"context"
	"errors"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/consensus"
)

// regossipTicks is how often an entry this node wants decided is sent to
// its peers again until it is decided (entry frames may be lost like any
// other).
const regossipTicks = 20

// metaTicks is how often the node refreshes its memberlist meta (height,
// document digest) when they changed.
const metaTicks = 10

// counters are the loop's own: refused input, by reason.
type counters struct {
	refusedMessages uint64
	refusedEntries  uint64
	storeErrors     uint64
	reportErrors    uint64

	requestsReceived, requestsRefused uint64
	performed, performDropped         uint64
	outcomesOK, outcomesFailed        uint64
	refusedOutcomes, refusedReadings  uint64
	readings, abandoned               uint64
	outcomeQueries, outcomeAnswers    uint64 // outcome_query.go
	observations, refusedObservations uint64
	accusationsMade, accusationsHeard uint64
	effectsContradicted               uint64 // ok outcomes the sensors did not bear out (effect.go)
	refusedAccusations                uint64
	auditRefused                      uint64
}

// loop is the one goroutine that owns the node's state.
func (a *Agent) loop(ctx context.Context) error {
	ticker := time.NewTicker(a.tick)
	defer ticker.Stop()
	inbound := a.net.Inbound()
	requests := a.reports.Requests()
	lastMeta := a.metaKey()
	a.advertiseIfChanged()
	a.flush()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
			a.ticks++
			a.node.Tick()
			a.advertiseIfChanged()
			a.regossip()
			if a.ticks%pollTicks == 0 {
				a.pollMembers()
			}
			if a.ticks%metaTicks == 0 {
				if k := a.metaKey(); k != lastMeta && a.announceMeta() {
					lastMeta = k
				}
			}
			if a.ticks%reassignTicks == 0 {
				a.checkDeadlines()
				a.judgeDrives()
				a.judgeJunk()
				a.auditReadings()
				a.judgeEffects()
			}
			if a.triggersDue {
				a.checkTriggers()
			}
			a.sd.tick(time.Now(), a.statusLine) // notify.go: the watchdog is fed from here
		case in, ok := <-inbound:
			if !ok {
				return errors.New("transport closed")
			}
			a.receive(in)
			// Step what else has arrived before persisting: the votes of
			// a round often come together, and one write then covers them.
			if !a.receiveQueued(inbound) {
				return errors.New("transport closed")
			}
		case in, ok := <-requests:
			if !ok {
				requests = nil
				continue
			}
			a.takeRequest(in)
		case o := <-a.performed:
			a.performedOutcome(o)
		case r := <-a.sampled:
			a.ownReadings(r)
		case o := <-a.observed:
			a.ownObservation(o)
		case s := <-a.seen:
			a.sawOn(s)
		case f := <-a.inspectReq:
			f()
		case req := <-a.reload.requests: // SIGHUP (reload.go)
			req.reply <- a.applyReload(req.acfg, req.cluster)
			requests = a.reports.Requests() // the reporter may have been replaced
		case reply := <-a.statusReq:
			reply <- a.status()
		case reply := <-a.ejectionsReq: // pact evidence (evidence_admin.go)
			reply <- a.ejectionsReport()
		case req := <-a.submitReq:
			_, err := a.state.CheckEntry(req.entry)
			if err == nil {
				e, _ := agreed.Decode(req.entry)
				a.submit(e)
			}
			req.reply <- err
		}
		a.flush()
		if a.afterDecide {
			a.afterDecide = false
			a.retryRequests()
			a.flush()
		}
		a.metrics.noteActive(a.node) // metrics.go: when a height's work started, for decision latency
	}
}

func (a *Agent) metaKey() [2]uint64 {
	return [2]uint64{a.view.Load().height, a.doc.Seq}
}

func (a *Agent) receive(in transport.Inbound) {
	switch in.Kind {
	case transport.KindConsensus:
		a.notePeerHeight(in.From, in.Msg)
		if err := a.node.Step(in.Msg); err != nil && !errors.Is(err, consensus.ErrStale) {
			a.counters.refusedMessages++
			a.log.Debug("refused message", "from", in.From, "err", err)
		}
	case kindEntry:
		from, sig, entry, err := decodeEntryFrame(in.Payload)
		if err != nil {
			a.counters.refusedEntries++
			return
		}
		if _, err := a.state.CheckEntry(entry); err != nil {
			// Common and harmless: an entry decided a moment ago, or an
			// advert superseded since. Counted, not logged loudly; a
			// forgery or a stream of junk is misbehaviour (junk.go).
			a.counters.refusedEntries++
			a.log.Debug("refused entry", "from", in.From, "err", err)
			a.refusedEntry(from, sig, entry)
			a.answerStaleReassign(from, entry)
			return
		}
		a.node.Propose(entry)
	case transport.KindCapabilityRequest:
		a.answerCapabilityRequest(in.From)
	case transport.KindCapabilityResponse:
		a.takeAnnounced(in.Payload)
	case kindOutcome:
		a.takeOutcome(in.From, in.Payload)
	case kindOutcomeQuery:
		a.answerOutcomeQuery(in.Payload)
	case kindReadings:
		a.takeReadings(in.From, in.Payload)
	case kindObservation:
		a.takeObservation(in.From, in.Payload)
	case kindAccusation:
		a.takeAccusation(in.From, in.Payload)
	}
}

// maxStepBatch bounds the queued inbound messages stepped before one flush.
const maxStepBatch = 64

// receiveQueued takes the inbound messages already waiting, up to
// maxStepBatch, without blocking; false when the transport closed.
func (a *Agent) receiveQueued(inbound <-chan transport.Inbound) bool {
	for range maxStepBatch {
		select {
		case in, ok := <-inbound:
			if !ok {
				return false
			}
			a.receive(in)
		default:
			return true
		}
	}
	return true
}

type submitRequest struct {
	entry consensus.Entry
	reply chan error
}

// Submit hands the loop an entry for the cluster to decide (an operator's
// admission, through the admin API). The entry is checked against the
// agreed state first; an invalid one is refused with the reason.
func (a *Agent) Submit(ctx context.Context, entry consensus.Entry) error {
	req := submitRequest{entry: entry, reply: make(chan error, 1)}
	select {
	case a.submitReq <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// submit asks the cluster to decide entry: it joins this node's pending list
// and is gossiped to every peer, again every regossipTicks until decided.
func (a *Agent) submit(e *agreed.Entry) {
	raw := e.Encode()
	if _, dup := a.own[string(raw)]; dup {
		return
	}
	a.own[string(raw)] = ownEntry{entry: raw, gossipedAt: a.ticks}
	if e.Type == agreed.TypeEject {
		if _, ok := a.evidenceAt[e.Eject.Node]; !ok {
			a.evidenceAt[e.Eject.Node] = evidenceMark{height: a.state.Height + 1, at: time.Now()}
		}
	}
	a.node.Propose(raw)
	a.gossip(raw)
}

// evidenceMark is when this node first had evidence enough to eject a node:
// the height it could first be decided at, and the time. Benchmarks measure
// ejections from it.
type evidenceMark struct {
	height uint64
	at     time.Time
}

func (a *Agent) gossip(raw consensus.Entry) {
	if a.silenced() {
		return
	}
	frame := encodeEntryFrame(a.cluster.Name, a.name, a.key, raw)
	a.net.SendFrame("", kindEntry, frame, true)
}

func (a *Agent) regossip() {
	for k, o := range a.own {
		if a.ticks-o.gossipedAt >= regossipTicks {
			if _, err := a.state.CheckEntry(o.entry); err != nil {
				delete(a.own, k) // decided, or no longer valid
				continue
			}
			o.gossipedAt = a.ticks
			a.own[k] = o
			a.node.Propose(o.entry)
			a.gossip(o.entry)
		}
	}
}

// flush carries out the consensus node's Ready: persist, then send.
func (a *Agent) flush() {
	if !a.node.HasReady() {
		return
	}
	rd := a.node.Ready()
	if a.halted != nil {
		// The store failed: nothing this node signs may leave, ever, until
		// an operator has looked at it.
		a.node.Advance()
		return
	}
	var snap *store.Snapshot
	if len(rd.Decided) > 0 && a.state.Height >= a.snapHeight+snapshotEvery {
		snap = &store.Snapshot{Height: a.state.Height, Data: a.state.Snapshot()}
	}
	if err := a.store.SaveReady(rd.SignState, rd.Decided, snap); err != nil {
		a.counters.storeErrors++
		a.halted = err
		a.log.Error("cannot persist consensus state: this node stops signing and sending until restarted after repair", "err", err)
		a.node.Advance()
		return
	}
	if snap != nil {
		a.snapHeight = snap.Height
	}
	for i := range rd.Decided {
		a.decided(&rd.Decided[i])
	}
	for i := range rd.Evidence {
		ev := &rd.Evidence[i]
		a.log.Warn("equivocation detected", "offender", ev.Offender(), "height", ev.A.Height, "round", ev.A.Round, "type", ev.A.Type.String())
		a.submit(agreed.NewEjection(ev))
	}
	for _, m := range rd.Messages {
		a.send(m)
	}
	a.node.Advance()
}

func (a *Agent) decided(c *consensus.Commit) {
	a.lastDecide = time.Now()
	a.view.Store(newView(a.state))
	types := make([]string, 0, len(c.Block.Entries))
	entries := make([]*agreed.Entry, 0, len(c.Block.Entries))
	for _, raw := range c.Block.Entries {
		if e, err := agreed.Decode(raw); err == nil {
			types = append(types, e.Type)
			entries = append(entries, e)
			if e.Type == agreed.TypeEject {
				a.ejectedWhen[e.Eject.Node] = time.Now()
				a.log.Warn("node ejected", "ejected", e.Eject.Node, "reason", e.Eject.Reason, "height", c.Block.Height)
			}
			if e.Type == agreed.TypeRetire {
				a.log.Warn("node retired by an operator", "retired", e.Retire.Node, "operator", e.Retire.Operator, "reason", e.Retire.Reason, "height", c.Block.Height)
			}
		}
		delete(a.own, string(raw))
	}
	a.metrics.decided(c, entries) // metrics.go: decision latency, ejections
	a.publishDecision(c, entries)
	a.noteDecidedEntries(c.Block.Entries)
	a.adversary.noteDecided(c.Block.Entries)
	a.queuePerformances(c, entries)
	a.forgetAccusations()
	a.afterDecide = true
	a.log.Info("decided", "height", c.Block.Height, "round", c.Round, "entries", types, "validators", a.state.ValidatorSet().Len())
	if a.onDecided != nil {
		a.onDecided(c)
	}
	if a.members != nil {
		a.members.RecheckGate()
	}
}
