package agent

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// Adversary modes (DESIGN.md §4)
//
// For tests and demos, a node with `adversary: {mode: MODE}` in its agent
// file misbehaves on purpose: it runs the honest code and corrupts what
// leaves it, so that the honest nodes fight a real lying process. Each
// behaviour is one small type behind one small interface, deterministic
// given a math/rand/v2 PCG seeded from the node's name and the behaviour,
// and none may crash its own agent: errors are logged and the behaviour
// goes on.
//
//   - equivocate (adversary_equivocate.go): every vote of its own goes to
//     every peer, and a conflicting, validly signed twin to half of them.
//     Self-proving: the peers hold two signatures of one step.
//   - lie-sensor (adversary_sensor.go): its signed readings lie, cycling
//     every 15 samples (30 s) through offset (+8 °C temperature, +20 %RH
//     humidity, +30 hPa pressure), stuck (21.0 for every analog sensor) and
//     random (uniform 0–50); digital readings are left alone. The
//     signature is valid: only comparing with peers shows the lie.
//   - false-outcome (adversary_outcome.go): an assignment is not driven;
//     after its duration the node signs an ok outcome whose readback is
//     the level it was to drive ("high" for blink).
//   - rogue-act (adversary_rogue.go): every 7–13 s it drives its first
//     output on for 1.5 s, with no assignment, then off again.
//   - forge (adversary_forge.go): 2.5 entry frames a second, signed by its
//     own key (so attributable), alternately an advert of another
//     validator's document with a garbage signature and an assignment of
//     an operator request with a garbage signature; every 3.2 s a prevote
//     in another validator's name signed with its own key (not
//     attributable: refused and counted).
//   - replay (adversary_replay.go): twice a second, an entry already
//     decided, re-sent in its own signed entry frame, and an old consensus
//     message: a precommit of a stored commit certificate (any validator's)
//     or one of its own earlier votes.
//   - flood (adversary_flood.go): every 100 ms a burst of 20 entry frames
//     (its own adverts, validly signed, no newer than its document) and 50
//     of its own earlier votes, best-effort: 200 entry frames and 500
//     consensus messages a second, for the peers' rate limits to absorb.
//   - silent (adversary_silent.go): crash-like, but the process runs on:
//     no consensus message, reading, outcome or MQTT publication leaves it,
//     and assignments hang. A crash is not malice: it must not be ejected.
//   - mixed: equivocate, lie-sensor and false-outcome at once.
//
// The hooks in the honest code are one line each and do nothing when
// a.adversary is nil: readSensors (silenced, lie), drive (driveFaker), New
// (muteReports), Run (startAdversary), and send below. The loop is to
// call a.adversary.noteDecided(c.Block.Entries) from decided (replay gets
// each decided entry at once; without it, it reads them from the store),
// and to skip its own SendFrame calls when a.silenced() (silent).

// The behaviours, one interface each.
type (
	// readingsLiar rewrites this node's sensor values before they are
	// signed. Called on the sampling goroutine.
	readingsLiar interface{ lie(rs []wire.Reading) }

	// driveFaker replaces driving an output for an assignment. Called on
	// the output workers' goroutines, concurrently; it must return soon
	// after ctx ends.
	driveFaker interface {
		drive(ctx context.Context, j job) (readback string, err error)
	}

	// troublemaker misbehaves on its own schedule, on its own goroutine,
	// until ctx ends.
	troublemaker interface{ run(ctx context.Context) }

	// adversaryNet is where the adversary's own traffic goes:
	// *transport.Transport in the agent, a recorder in tests.
	adversaryNet interface {
		Send(m consensus.Message)
		SendFrame(to string, kind transport.Kind, payload []byte, reliable bool)
	}
)

var _ adversaryNet = (*transport.Transport)(nil)

// adversaryBehaviours says what each mode does; mixed is several at once.
var adversaryBehaviours = map[config.AdversaryMode][]config.AdversaryMode{
	"equivocate":    {"equivocate"},
	"lie-sensor":    {"lie-sensor"},
	"false-outcome": {"false-outcome"},
	"rogue-act":     {"rogue-act"},
	"forge":         {"forge"},
	"replay":        {"replay"},
	"flood":         {"flood"},
	"silent":        {"silent"},
	"mixed":         {"equivocate", "lie-sensor", "false-outcome"},
}

// adversary is what makes this node misbehave; nil for an honest node.
// Its methods that the honest code calls are safe on a nil receiver.
type adversary struct {
	mode    config.AdversaryMode
	on      map[config.AdversaryMode]bool
	cluster string
	self    consensus.NodeID
	signer  consensus.Signer

	equivocator *equivocator // equivocate; loop goroutine only
	liar        readingsLiar // lie-sensor
	faker       driveFaker   // false-outcome, silent
	silent      bool

	// Replay and flood re-send what this node said and saw.
	ownVotes *voteRing  // its own votes, recorded by send
	decided  *entryRing // decided entries (noteDecided)
}

func newAdversary(acfg *config.Agent, cluster string, signer consensus.Signer) (*adversary, error) {
	if acfg.Adversary == nil || acfg.Adversary.Mode == "" {
		return nil, nil
	}
	mode := acfg.Adversary.Mode
	behaviours, ok := adversaryBehaviours[mode]
	if !ok {
		return nil, fmt.Errorf("adversary mode %q is not one of %v", mode, config.AdversaryModes)
	}
	adv := &adversary{mode: mode, on: map[config.AdversaryMode]bool{}, cluster: cluster, self: consensus.NodeID(acfg.Node), signer: signer}
	for _, b := range behaviours {
		adv.on[b] = true
	}
	if adv.on["equivocate"] {
		adv.equivocator = &equivocator{variants: map[stepKey]consensus.Message{}}
	}
	if adv.on["lie-sensor"] {
		adv.liar = newSensorLiar(acfg.Node)
	}
	if adv.on["false-outcome"] {
		adv.faker = falseOutcome{}
	}
	if adv.on["silent"] {
		adv.silent, adv.faker = true, hang{}
	}
	if adv.on["replay"] || adv.on["flood"] {
		adv.ownVotes = newVoteRing(ownVoteMemory)
	}
	if adv.on["replay"] {
		adv.decided = newEntryRing(decidedMemory)
	}
	return adv, nil
}

// seededRand is the behaviour's own generator, the same on every run of
// the same node: tests and demos repeat.
func seededRand(node, behaviour string) *rand.Rand {
	h := sha256.Sum256([]byte("pact/adversary\n" + node + "\n" + behaviour))
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
}

// silenced reports whether nothing may leave this node (silent mode). The
// loop's own SendFrame calls (gossip, ownReadings, performedOutcome,
// ownObservation, accusations, capability requests and answers) are to be
// skipped when it is set.
func (a *Agent) silenced() bool { return a.adversary != nil && a.adversary.silent }

// lie rewrites readings about to be signed (lie-sensor); no-op otherwise.
func (adv *adversary) lie(rs []wire.Reading) {
	if adv != nil && adv.liar != nil {
		adv.liar.lie(rs)
	}
}

// driveFaker is what drives this node's assignments instead of the pin
// (false-outcome, silent); nil for the honest drive.
func (adv *adversary) driveFaker() driveFaker {
	if adv == nil {
		return nil
	}
	return adv.faker
}

// noteDecided keeps a decided block's entries for replay. The agent calls
// it from decided, on the loop goroutine; no-op unless replaying.
func (adv *adversary) noteDecided(raw []consensus.Entry) {
	if adv != nil && adv.decided != nil {
		adv.decided.keep(raw)
	}
}

// muteReports is what this node publishes to MQTT through: nothing at all
// when silent (requests still arrive), r otherwise.
func (adv *adversary) muteReports(r report.Reports) report.Reports {
	if adv == nil || !adv.silent || r == nil {
		return r
	}
	return silentReports{r}
}

// startAdversary starts the behaviours that keep their own time
// (rogue-act, forge, replay, flood), each on its own goroutine until ctx
// ends; Run calls it before the loop starts. It does nothing for an honest
// node. The goroutines count in workerWG, so shutdown waits for them
// before the board and the transport close.
func (a *Agent) startAdversary(ctx context.Context) {
	adv := a.adversary
	if adv == nil {
		return
	}
	var runs []troublemaker
	if adv.on["rogue-act"] {
		runs = append(runs, newRogueActor(a.name, a.firstOutput, a.log))
	}
	if adv.on["forge"] {
		runs = append(runs, a.newForger())
	}
	if adv.on["replay"] {
		runs = append(runs, newReplayer(a.cluster.Name, a.name, a.key, a.net, a.store, adv.decided, adv.ownVotes))
	}
	if adv.on["flood"] {
		runs = append(runs, newFlooder(a.cluster.Name, a.name, a.key, a.net, a.doc, adv.ownVotes))
	}
	for _, t := range runs {
		a.workerWG.Add(1)
		go func() {
			defer a.workerWG.Done()
			defer func() {
				// A behaviour that breaks stops; the agent goes on.
				if p := recover(); p != nil {
					a.log.Error("adversary behaviour stopped", "mode", adv.mode, "panic", p)
				}
			}()
			t.run(ctx)
		}()
	}
}

// send sends m. An equivocating node sends each of its own votes to every
// peer and a conflicting, validly signed twin to half of them, so those
// peers hold two signatures of one step: evidence. A silent node sends
// nothing; a replaying or flooding one remembers its votes.
func (a *Agent) send(m consensus.Message) {
	adv := a.adversary
	if adv == nil {
		a.net.Send(m)
		return
	}
	if adv.silent {
		return
	}
	own := m.From == adv.self && m.IsVote()
	if own && adv.ownVotes != nil {
		c := m
		c.To, c.Signature = "", slices.Clone(m.Signature)
		adv.ownVotes.keep(c)
	}
	a.net.Send(m)
	if adv.equivocator == nil || !own || m.To != "" {
		return
	}
	twin := adv.equivocator.twin(adv, m)
	for i, p := range a.peerNames() {
		if i%2 == int(m.Height%2) {
			twin.To = consensus.NodeID(p)
			a.net.Send(twin)
		}
	}
}

func (a *Agent) peerNames() []string {
	var peers []string
	if a.members != nil {
		for _, m := range a.members.Members() {
			if m.Name != a.name {
				peers = append(peers, m.Name)
			}
		}
	} else if a.memLink != nil {
		peers = a.memLink.Peers()
	}
	sort.Strings(peers)
	return peers
}

// every calls f once per period until ctx ends: the pace of the adversary
// behaviours that act on their own.
func every(ctx context.Context, period time.Duration, f func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
