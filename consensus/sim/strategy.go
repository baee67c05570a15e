package sim

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// Strategy is what one adversary does. A Byzantine node runs the real,
// honest consensus code with its own key; every message that code sends
// passes through Outgoing, which may drop it, alter and re-sign it, send
// different versions to different peers, or add forgeries. Every message
// delivered to the node is shown to Incoming first. One Strategy value
// serves one adversary process, so it may keep state.
//
// Strategies run inside the simulation's single thread: they must be
// deterministic given Adversary.Rand, and must not block.
type Strategy interface {
	// Outgoing returns what the adversary really sends when its node sends
	// m to the peers in to (already routed: the names this process can
	// reach, m.To included). Returning nil sends nothing. m belongs to the
	// node: clone it before changing it.
	Outgoing(a *Adversary, m *consensus.Message, to []consensus.NodeID) []Delivery

	// Incoming observes a message delivered to the adversary's node, with
	// the bytes it arrived as, before the node steps it.
	Incoming(a *Adversary, m *consensus.Message, raw []byte)
}

// AppStrategy is implemented by strategies that also cheat with entries:
// what they propose and which blocks they accept. Lies about the world go
// through ReportStrategy.
type AppStrategy interface {
	Strategy

	// Entries returns what the adversary hands its own node to propose when
	// a client entry e reaches it; e is dropped unless returned.
	Entries(a *Adversary, e consensus.Entry) []consensus.Entry

	// Validate replaces the adversary node's judgement of a proposed block;
	// honest is what the honest application concluded.
	Validate(a *Adversary, height uint64, entries []consensus.Entry, honest error) error
}

// ReportStrategy is implemented by strategies that lie about the world
// rather than (or as well as) in consensus: what the adversary's sensor
// read, whether it drove its pin, whom it accuses. Its reports are signed
// with its own key, so they are valid; only the other nodes' reports can
// show them false. A Byzantine node without one reports honestly.
type ReportStrategy interface {
	Strategy

	// Sense returns the temperature the adversary signs and sends when its
	// sensor reads value (every SampleEvery); send false sends nothing.
	Sense(a *Adversary, value float64) (reported float64, send bool)

	// Act says, for an action assigned to the adversary, whether it drives
	// its pin and whether it then publishes an ok outcome.
	Act(a *Adversary, instance string) (drive, report bool)

	// Accuse returns whom the adversary accuses, every AuditEvery. The
	// accusations are signed by the adversary and spread like honest ones.
	Accuse(a *Adversary) []Charge
}

// Charge is one accusation an adversary makes.
type Charge struct {
	Node   consensus.NodeID
	Reason string // "inconsistent-readings", "witness-contradiction" or "unassigned-drive"
}

// Delivery is one message an adversary sends: Bytes go to every process
// named To that the sender can reach. Bytes need not decode.
type Delivery struct {
	To    consensus.NodeID
	Bytes []byte
}

// Adversary is what a Strategy may use: the Byzantine node's identity and
// signer, the run's randomness, and a read-only view of the node.
type Adversary struct {
	ID      consensus.NodeID
	Cluster string
	Signer  consensus.Signer
	// Rand is the run's single random source: drawing from it keeps the run
	// reproducible.
	Rand *rand.Rand
	// Honest lists the honest validators' names, sorted.
	Honest []consensus.NodeID
	// Genesis lists every validator at height 1, sorted.
	Genesis []consensus.NodeID

	proc *process
	sim  *simulation
}

// Now is the virtual time.
func (a *Adversary) Now() time.Duration { return a.sim.now }

// Height is the height the adversary's node is deciding (0 while crashed).
func (a *Adversary) Height() uint64 {
	if a.proc.node == nil {
		return 0
	}
	return a.proc.node.Height()
}

// Validators is the validator set in force at the node's height.
func (a *Adversary) Validators() *consensus.ValidatorSet {
	if a.proc.app == nil {
		return a.sim.genesis
	}
	return a.proc.app.vals
}

// Sign makes m the adversary's own, validly signed message.
func (a *Adversary) Sign(m *consensus.Message) {
	a.SignFor(a.Cluster, m)
}

// SignFor signs m as the adversary, but for the named cluster.
func (a *Adversary) SignFor(cluster string, m *consensus.Message) {
	m.From = a.ID
	m.Signature = a.Signer.Sign(consensus.SignBytes(cluster, m))
}

// Broadcast is the deliveries that send raw to every name in to.
func Broadcast(to []consensus.NodeID, raw []byte) []Delivery {
	out := make([]Delivery, len(to))
	for i, id := range to {
		out[i] = Delivery{To: id, Bytes: raw}
	}
	return out
}

// strategyInfo describes one --strategy name.
type strategyInfo struct {
	name    string
	summary string
	// twins runs the node's key as two honest processes instead of
	// transforming its traffic.
	twins bool
	// build makes the Strategy for one adversary process; nil for "none"
	// and "random", which the simulation resolves itself.
	build func() Strategy
	// detected: the run must eject every adversary running it, when there
	// are no more adversaries than the cluster tolerates (the checker's
	// "not-ejected"). Its misbehaviour is either self-proving or seen by
	// every honest node, and the run goes on until it is ejected.
	detected bool
}

// strategies is every implemented strategy, in the order `pact sim -h` lists
// them.
var strategies = []strategyInfo{
	{name: "none", summary: "every node is honest (needs --byzantine 0)"},
	{name: "silent", summary: "adversaries send nothing, like crashed nodes", build: func() Strategy { return silent{} }},
	{name: "equivocate", summary: "every proposal and vote goes out in two conflicting signed versions, each to a random half of the peers", build: newEquivocate, detected: true},
	{name: "lie-sensor", summary: "signed readings that lie (8 °C high, stuck at 21 °C, random 0-50 °C, 30 s each); the liars slander one honest node together", build: func() Strategy { return &lieSensor{} }, detected: true},
	{name: "false-outcome", summary: "ok outcomes for actions whose pin it never drives; the liars slander one honest node together", build: func() Strategy { return falseOutcome{} }, detected: true},
	{name: "rogue-act", summary: "performs its actions, and drives its pin about every other second with no assignment; the liars slander one honest node together", build: func() Strategy { return rogueAct{} }, detected: true},
	{name: "forge", summary: "messages in honest nodes' names, corrupted signatures, garbage bytes, other-cluster signatures, forged certificates", build: func() Strategy { return &forge{} }},
	{name: "replay", summary: "re-sends old messages it has seen, from anyone, alongside its own traffic", build: func() Strategy { return &replay{} }},
	{name: "flood", summary: "with every message, eight of its own earlier ones again to every peer (not ejected here: the agent's transport limits and accuses floods)", build: func() Strategy { return &flood{} }},
	{name: "mixed", summary: "equivocate, lie-sensor and false-outcome at once, as the agent's mixed mode", build: newMixed, detected: true},
	{name: "twins", summary: "the adversary's key runs as two honest processes that see different peers", twins: true, build: func() Strategy { return passthrough{} }},
	{name: "random", summary: "each adversary picks one of silent, equivocate, forge, replay, twins from the seed"},
}

// randomChoices are what "random" picks from.
var randomChoices = []string{"silent", "equivocate", "forge", "replay", "twins"}

// Strategies lists the names --strategy accepts.
func Strategies() []string {
	out := make([]string, len(strategies))
	for i, s := range strategies {
		out[i] = s.name
	}
	return out
}

// StrategySummary is a one-line description of a strategy, for help text.
func StrategySummary(name string) string {
	s, _ := lookupStrategy(name)
	return s.summary
}

func lookupStrategy(name string) (strategyInfo, bool) {
	i := slices.IndexFunc(strategies, func(s strategyInfo) bool { return s.name == name })
	if i < 0 {
		return strategyInfo{}, false
	}
	return strategies[i], true
}

// passthrough sends what the honest code sends; twins use it.
type passthrough struct{}

func (passthrough) Outgoing(_ *Adversary, m *consensus.Message, to []consensus.NodeID) []Delivery {
	return Broadcast(to, m.Marshal())
}

func (passthrough) Incoming(*Adversary, *consensus.Message, []byte) {}

// silent sends nothing at all: no message, no reading, no outcome.
type silent struct{}

var _ ReportStrategy = silent{}

func (silent) Outgoing(*Adversary, *consensus.Message, []consensus.NodeID) []Delivery { return nil }

func (silent) Incoming(*Adversary, *consensus.Message, []byte) {}

func (silent) Sense(*Adversary, float64) (float64, bool) { return 0, false }

func (silent) Act(*Adversary, string) (bool, bool) { return false, false }

func (silent) Accuse(*Adversary) []Charge { return nil }

// signsStep reports whether m is one of the adversary's own proposals or
// votes, the messages equivocation is about.
func signsStep(a *Adversary, m *consensus.Message) bool {
	return m.From == a.ID && (m.Type == consensus.MsgProposal || m.IsVote())
}
