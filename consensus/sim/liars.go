package sim

import (
	"math"
	"time"

	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// The adversaries that lie about the world (ReportStrategy). In consensus
// they are honest; what they sign about the world is false. Both also
// collude in slander: every liar accuses the same honest node (the first
// by name) every AuditEvery, validly signed, to show that f accusers —
// all there are when at most f nodes are Byzantine — never eject anyone.

// The sensor lies, as the agent's lie-sensor mode tells them: offset, stuck,
// random, each for lieStretch samples (30 s), starting where the seed says.
const (
	lieStretch    = 15
	lieOffset     = 8.0  // °C added to the truth
	lieStuckValue = 21.0 // °C, whatever the truth
	lieRandomMax  = 50.0 // °C, uniform in [0, lieRandomMax)
	lieModes      = 3
)

// lieSensor signs readings that lie, and slanders.
type lieSensor struct {
	passthrough
	started bool
	start   int // the first mode
	n       int // samples lied about so far
}

var _ ReportStrategy = (*lieSensor)(nil)

func (l *lieSensor) Sense(a *Adversary, value float64) (float64, bool) {
	if !l.started {
		l.started, l.start = true, a.Rand.IntN(lieModes)
	}
	mode := (l.start + l.n/lieStretch) % lieModes
	l.n++
	switch mode {
	case 0:
		return value + lieOffset, true
	case 1:
		return lieStuckValue, true
	default:
		return math.Round(a.Rand.Float64()*lieRandomMax*100) / 100, true
	}
}

func (*lieSensor) Act(*Adversary, string) (bool, bool) { return true, true }

func (*lieSensor) Accuse(a *Adversary) []Charge { return slander(a, wire.AccuseReadings) }

// falseOutcome never drives its pin, and reports every action a success.
type falseOutcome struct{ passthrough }

var _ ReportStrategy = falseOutcome{}

func (falseOutcome) Sense(_ *Adversary, value float64) (float64, bool) { return value, true }

func (falseOutcome) Act(*Adversary, string) (bool, bool) { return false, true }

func (falseOutcome) Accuse(a *Adversary) []Charge { return slander(a, wire.AccuseWitness) }

// slander is the liars' shared accusation of the first honest validator.
func slander(a *Adversary, reason string) []Charge {
	vals := a.Validators()
	for _, id := range a.Honest {
		if vals.Has(id) {
			return []Charge{{Node: id, Reason: reason}}
		}
	}
	return nil
}

// mixed is the agent's "mixed" mode: it equivocates, its readings lie and
// its outcomes are false, all at once; and it slanders like the other
// liars.
type mixed struct {
	eq  Strategy
	lie lieSensor
}

var _ ReportStrategy = (*mixed)(nil)

func newMixed() Strategy { return &mixed{eq: newEquivocate()} }

func (m *mixed) Outgoing(a *Adversary, msg *consensus.Message, to []consensus.NodeID) []Delivery {
	return m.eq.Outgoing(a, msg, to)
}

func (m *mixed) Incoming(a *Adversary, msg *consensus.Message, raw []byte) {
	m.eq.Incoming(a, msg, raw)
}

func (m *mixed) Sense(a *Adversary, value float64) (float64, bool) { return m.lie.Sense(a, value) }

func (*mixed) Act(*Adversary, string) (bool, bool) { return false, true }

func (*mixed) Accuse(a *Adversary) []Charge { return slander(a, wire.AccuseReadings) }

// RogueStrategy is implemented by strategies that drive the adversary's
// pin with no assignment (the agent's rogue-act mode).
type RogueStrategy interface {
	ReportStrategy

	// Rogue says, every AuditEvery, whether the adversary drives its pin
	// now, for as long as an action would.
	Rogue(a *Adversary) bool
}

// rogueAct performs its assignments like an honest node, and besides
// drives its pin at random, about every other second; it slanders like the
// other liars.
type rogueAct struct{ passthrough }

var _ RogueStrategy = rogueAct{}

func (rogueAct) Sense(_ *Adversary, value float64) (float64, bool) { return value, true }

func (rogueAct) Act(*Adversary, string) (bool, bool) { return true, true }

func (rogueAct) Accuse(a *Adversary) []Charge { return slander(a, wire.AccuseRogue) }

func (rogueAct) Rogue(a *Adversary) bool { return a.Rand.IntN(2) == 0 }

// actRogue lets a RogueStrategy drive its pin.
func (s *simulation) actRogue(p *process) {
	rs, ok := p.strategy.(RogueStrategy)
	if !ok || !rs.Rogue(p.adv) {
		return
	}
	start := (s.now + driveLead).Truncate(time.Millisecond)
	s.world.drive(p.num, start, start+driveFor)
}
