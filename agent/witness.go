package agent

import (
	"context"
	"encoding/json"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/hw"
)

// Witnesses
//
// A witness input is wired to another node's output (its Watches is
// "node/output"). When the cluster assigns work on that output, the witness
// samples its input for the length of the work and a little more, then
// signs what it saw and publishes it on nodes/<node>/observations, and
// sends it to its peers, who can hold a performer's outcome against it.
//
// A board that can tell (hw.Wiring: simulated boards in separate processes
// are not wired to each other) keeps an unwired witness silent rather than
// contradict a performer it cannot see; a real board's witness is taken to
// be wired as its agent file says.

// kindObservation frames carry a witness's signed observation (JSON).
const kindObservation transport.Kind = 9

// witnessSample is how often a witness reads its input, and witnessMin the
// shortest drive it watches: shorter ones can fall between two samples.
const (
	witnessSample = 20 * time.Millisecond
	witnessMin    = 100 * time.Millisecond
	witnessSlack  = 3 * time.Second // after the drive ends: decision and clock skew
)

// watchAssignment starts a watch for each of this node's inputs wired to the
// output an assignment drives; loop goroutine.
func (a *Agent) watchAssignment(as *agreed.Assigned) {
	until := a.allowDrive(as.Performer+"/"+as.Output, as.Duration)
	if as.Level != config.High || as.Duration < witnessMin || as.Performer == a.name {
		return
	}
	watched := as.Performer + "/" + as.Output
	for _, in := range a.board.Inputs() {
		if in.Watches() != watched {
			continue
		}
		o := &wire.Observation{
			Node: a.name, Input: in.Name(), Action: as.Action, Instance: as.Instance,
			Performer: as.Performer, Output: as.Output, Height: as.Height, Level: string(as.Level),
		}
		wired := a.inputWired(in.Name())
		a.workerWG.Add(1)
		go a.watch(in, o, time.Until(until)+witnessSlack, wired)
	}
}

// watch samples in until it has seen the output on and off again, or for
// window, and hands the signed observation to the loop.
func (a *Agent) watch(in hw.Input, o *wire.Observation, window time.Duration, wired bool) {
	defer a.workerWG.Done()
	a.sampleWitness(in, o, window)
	if a.runCtx.Err() != nil || (o.Saw == "" && !wired) {
		return // stopping; or not wired: seeing nothing means nothing
	}
	o.TS = wire.Timestamp(time.Now())
	if err := wire.SignObservation(a.cluster.Name, o, a.key); err != nil {
		a.log.Error("cannot sign observation", "err", err)
		return
	}
	select {
	case a.observed <- o:
	case <-a.runCtx.Done():
	}
}

func (a *Agent) sampleWitness(in hw.Input, o *wire.Observation, window time.Duration) {
	ctx, cancel := context.WithTimeout(a.runCtx, window)
	defer cancel()
	o.WatchedFrom = wire.Timestamp(time.Now())
	defer func() { o.WatchedUntil = wire.Timestamp(time.Now()) }()
	t := time.NewTicker(witnessSample)
	defer t.Stop()
	for {
		high, err := in.Read()
		now := time.Now()
		switch {
		case err != nil:
		case high && o.SeenAt == "":
			o.Saw, o.SeenAt = o.Level, wire.Timestamp(now)
		case !high && o.SeenAt != "" && o.ClearedAt == "":
			o.ClearedAt = wire.Timestamp(now)
			return // seen on and off again: nothing more to see
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ownObservation publishes and shares a witness's observation; loop
// goroutine.
func (a *Agent) ownObservation(o *wire.Observation) {
	a.counters.observations++
	if a.silenced() {
		return
	}
	if err := a.reports.PublishObservation(o); err != nil {
		a.counters.reportErrors++
	}
	if b, err := json.Marshal(o); err == nil {
		a.net.SendFrame("", kindObservation, b, true)
	}
	a.keepObservation(o)
	a.log.Info("witnessed", "performer", o.Performer, "output", o.Output, "instance", o.Instance, "saw", o.Saw)
	a.checkWitness(o.Instance)
}

// takeObservation handles a peer's observation (verified by the transport).
func (a *Agent) takeObservation(from string, payload []byte) {
	o, err := wire.DecodeObservation(payload)
	if err != nil || o.Node != from {
		a.counters.refusedObservations++
		return
	}
	a.keepObservation(o)
}

// maxObservations bounds the observations a node keeps for the audit.
const maxObservations = 4096

func (a *Agent) keepObservation(o *wire.Observation) {
	if _, ok := a.observations[o.Instance]; !ok {
		a.observationOrder = append(a.observationOrder, o.Instance)
		if len(a.observationOrder) > maxObservations {
			delete(a.observations, a.observationOrder[0])
			a.observationOrder = a.observationOrder[1:]
		}
	}
	a.observations[o.Instance] = append(a.observations[o.Instance], o)
}

// inputWired reports whether a witness input is connected to its output,
// as far as the board can tell.
func (a *Agent) inputWired(name string) bool {
	if w, ok := a.board.(hw.Wiring); ok {
		return w.Wired(name)
	}
	return true
}
