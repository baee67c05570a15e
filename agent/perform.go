package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// Performing an assignment
//
// The loop hands every assignment decided for this node to the worker of
// the output it drives: one goroutine per output, so a fan held for two
// minutes does not delay a blink, and two assignments of one output run one
// after the other, in the order they were decided. Before the pin moves the
// worker writes the fencing token — the height of the assignment and its
// place in the block — to the store (fsynced): an output never runs a token
// that is not newer than the last it ran, so an instance runs at most once
// on this node, across crashes. A worker interrupted by shutdown leaves its
// record unfinished; the next start reports it as failed rather than run it
// again, and the cluster reassigns it.

// workerQueue bounds the assignments waiting for one output.
const workerQueue = 1024

// job is one assignment for this node to perform.
type job struct {
	action, instance, requestID string
	output                      string
	level                       config.Level
	duration                    time.Duration
	height                      uint64 // of the assignment: the outcome names it
	token                       uint64 // fencing token: height<<16 | index in the block
}

// fenceToken orders assignments of one output: later heights first, then
// later entries of one block.
func fenceToken(height uint64, index int) uint64 { return height<<16 | uint64(index&0xffff) }

// queuePerformances finds, in a decided block, the assignments this node
// must perform and queues them; loop goroutine only. The agreed state has
// applied the block (and possibly later ones while catching up): an
// assignment already moved elsewhere is skipped.
func (a *Agent) queuePerformances(c *consensus.Commit, entries []*agreed.Entry) {
	for i, e := range entries {
		var instance string
		switch e.Type {
		case agreed.TypeAssign:
			instance = e.Assign.Instance
		case agreed.TypeReassign:
			instance = e.Reassign.Instance
		default:
			continue
		}
		as, ok := a.state.Assignment(instance)
		if !ok {
			continue
		}
		a.openAssignment(as)
		a.disturb(as.Action, as.Performer, as.Duration)
		a.effectAssigned(as)
		if as.Height != c.Block.Height {
			continue // moved on in a later block this node has applied too
		}
		a.watchAssignment(as)
		if as.Performer != a.name {
			continue
		}
		a.queue(job{
			action: as.Action, instance: as.Instance, requestID: as.RequestID,
			output: as.Output, level: as.Level, duration: as.Duration,
			height: as.Height, token: fenceToken(c.Block.Height, i),
		})
	}
}

func (a *Agent) queue(j job) {
	q, ok := a.workers[j.output]
	if !ok {
		q = make(chan job, workerQueue)
		a.workers[j.output] = q
		a.workerWG.Add(1)
		go a.work(q)
	}
	select {
	case q <- j:
		a.log.Debug("queued", "action", j.action, "instance", j.instance, "output", j.output, "height", j.height, "waiting", len(q))
	default:
		a.counters.performDropped++
		a.log.Error("too many assignments waiting for one output; this one will be reassigned", "output", j.output, "instance", j.instance)
	}
}

// work runs one output's assignments in order until the agent stops.
func (a *Agent) work(q <-chan job) {
	defer a.workerWG.Done()
	for {
		select {
		case <-a.runCtx.Done():
			return
		case j := <-q:
			o := a.perform(a.runCtx, j)
			if o == nil {
				continue
			}
			select {
			case a.performed <- o:
			case <-a.runCtx.Done():
				return
			}
		}
	}
}

// perform drives the output for one assignment and returns the signed,
// recorded outcome; nil when the assignment was fenced off or the agent
// stopped while driving (the store then holds an unfinished record).
func (a *Agent) perform(ctx context.Context, j job) *wire.Outcome {
	if err := a.store.BeginExecution(j.instance, j.output, j.token); err != nil {
		if errors.Is(err, store.ErrFenced) {
			a.log.Warn("assignment not performed: fenced", "instance", j.instance, "err", err)
		} else {
			a.log.Error("assignment not performed: cannot record it", "instance", j.instance, "err", err)
		}
		return nil
	}
	// Logged once the execution is on record: a node logs "performing" at
	// most once per instance, across crashes (the fault suite counts them).
	a.log.Info("performing", "action", j.action, "instance", j.instance, "output", j.output, "height", j.height)
	o := &wire.Outcome{Action: j.action, Instance: j.instance, RequestID: j.requestID, Performer: a.name, Height: j.height}
	started := time.Now()
	readback, err := a.drive(ctx, j)
	if ctx.Err() != nil {
		return nil
	}
	a.metrics.drove(j, time.Since(started), err)
	o.Started, o.Finished = wire.Timestamp(started), wire.Timestamp(time.Now())
	o.Readback = readback
	o.OK = err == nil
	if err != nil {
		o.Error = err.Error()
	}
	return a.finish(o)
}

// finish signs and records an outcome; the loop publishes it
// (performedOutcome).
func (a *Agent) finish(o *wire.Outcome) *wire.Outcome {
	if err := wire.SignOutcome(a.cluster.Name, o, a.key); err != nil {
		a.log.Error("cannot sign outcome", "instance", o.Instance, "err", err)
		return nil
	}
	b, _ := json.Marshal(o)
	if err := a.store.FinishExecution(o.Instance, b); err != nil {
		a.log.Error("cannot record outcome", "instance", o.Instance, "err", err)
	}
	a.log.Info("performed", "action", o.Action, "instance", o.Instance, "ok", o.OK, "error", o.Error, "readback", o.Readback)
	return o
}

// drive holds the output at the action's level for its duration, reads it
// back while driven, and puts it back as it was.
func (a *Agent) drive(ctx context.Context, j job) (readback string, err error) {
	if fake := a.adversary.driveFaker(); fake != nil { // adversary.go: false-outcome, silent
		return fake.drive(ctx, j)
	}
	out, err := a.board.Output(j.output)
	if err != nil {
		return "", fmt.Errorf("output %s: %w", j.output, err)
	}
	on := j.level != config.Low
	before, err := out.Read()
	if err != nil {
		return "", fmt.Errorf("read %s before driving: %w", j.output, err)
	}
	if err := out.Set(on); err != nil {
		return "", fmt.Errorf("drive %s %s: %w", j.output, j.level, err)
	}
	got, rerr := out.Read()
	if rerr == nil {
		readback = levelName(got)
	}
	t := time.NewTimer(j.duration)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		return readback, ctx.Err()
	}
	if err := out.Set(before); err != nil {
		return readback, fmt.Errorf("put %s back %s: %w", j.output, levelName(before), err)
	}
	switch {
	case rerr != nil:
		return "", fmt.Errorf("read %s back: %w", j.output, rerr)
	case got != on:
		return readback, fmt.Errorf("read %s back %s while driving it %s", j.output, readback, j.level)
	}
	return readback, nil
}

func levelName(on bool) string {
	if on {
		return string(config.High)
	}
	return string(config.Low)
}

// resumeExecutions deals with what the last run left: an execution begun
// and never finished is reported failed ("interrupted"), never run again;
// an assignment of this node decided while it was away is performed now.
// Loop goroutine, before the loop starts.
func (a *Agent) resumeExecutions() {
	unfinished, err := a.store.Unfinished()
	if err != nil {
		a.log.Error("reading unfinished executions", "err", err)
		return
	}
	for _, ex := range unfinished {
		as, ok := a.state.Assignment(ex.Instance)
		if !ok {
			continue
		}
		o := &wire.Outcome{
			Action: as.Action, Instance: as.Instance, RequestID: as.RequestID, Performer: a.name, Height: as.Height,
			Error:   fmt.Sprintf("interrupted: the agent stopped while driving %s; not repeated", ex.Output),
			Started: wire.Timestamp(time.Now()), Finished: wire.Timestamp(time.Now()),
		}
		if as.Performer != a.name {
			o.Height = ex.Token >> 16
		}
		if o = a.finish(o); o != nil {
			a.performedOutcome(o)
		}
	}
	for _, as := range a.state.Assignments() {
		if as.Performer != a.name {
			continue
		}
		if ex, err := a.store.Execution(as.Instance); err != nil || ex != nil {
			continue
		}
		a.openAssignment(as)
		a.queue(job{action: as.Action, instance: as.Instance, requestID: as.RequestID, output: as.Output,
			level: as.Level, duration: as.Duration, height: as.Height, token: fenceToken(as.Height, a.entryIndex(as))})
	}
}

// entryIndex finds where the assignment's latest entry sits in its block,
// for its fencing token; past the end when the block is no longer stored.
func (a *Agent) entryIndex(as *agreed.Assigned) int {
	c, ok := a.store.Commit(as.Height)
	if !ok {
		return 0xffff
	}
	for i, raw := range c.Block.Entries {
		e, err := agreed.Decode(raw)
		if err != nil {
			continue
		}
		if e.Type == agreed.TypeAssign && e.Assign.Instance == as.Instance || e.Type == agreed.TypeReassign && e.Reassign.Instance == as.Instance {
			return i
		}
	}
	return 0xffff
}
