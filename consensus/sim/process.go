package sim

import (
	"fmt"

	"github.com/seed44533760/pact/agent/audit"
	"github.com/seed44533760/pact/consensus"
)

// twinSide says which view of the network a twin process has.
type twinSide uint8

const (
	notTwin twinSide = iota
	sideA
	sideB
	sideBoth // in a twin's split: a peer both twins reach
)

// process is one running copy of a validator: normally one per node; a
// twinned adversary has two with the same name and key.
type process struct {
	idx    int
	num    int // node number, 1-based
	id     consensus.NodeID
	honest bool
	side   twinSide

	strategyName string
	strategy     Strategy // nil for honest nodes
	adv          *Adversary

	signer consensus.Signer
	node   *consensus.Node // nil while crashed
	app    *application    // nil while crashed
	store  store
	down   bool

	past          []consensus.Stats // counters of earlier incarnations
	ejectProposed map[consensus.NodeID]bool

	// What the process knows of the world, lost in a crash like the rest
	// of its memory. The auditor and the watches are honest processes'.
	auditor   *audit.Auditor
	watches   map[string]watch // action instance → what it watches
	pins      *pinWatcher      // every other validator's pin (pins.go)
	outbox    map[uint64]*pendingOutcome
	outboxSeq uint64
	accusedAt map[accuseKey]uint64 // height of its latest accusation
}

func (p *process) String() string {
	switch p.side {
	case sideA:
		return string(p.id) + "/A"
	case sideB:
		return string(p.id) + "/B"
	}
	return string(p.id)
}

// store is a process's durable state: what survives a crash. The sim writes
// it exactly where the agent would fsync.
type store struct {
	signState consensus.SignState
	log       []consensus.Commit // log[i] decided height i+1
}

var _ consensus.CommitLog = (*store)(nil)

// Commit implements consensus.CommitLog.
func (s *store) Commit(height uint64) (*consensus.Commit, bool) {
	if height == 0 || height > uint64(len(s.log)) {
		return nil, false
	}
	return &s.log[height-1], true
}

// decided is the number of heights the process has decided durably.
func (p *process) decided() uint64 { return uint64(len(p.store.log)) }

// addStats adds the consensus counters of every incarnation to sum.
func (p *process) addStats(sum *ConsensusStats) {
	for _, st := range p.past {
		sum.add(st)
	}
	if p.node != nil {
		sum.add(p.node.Stats())
	}
}

// start builds the process's in-memory state from its store: at the first
// run, genesis; after a crash, the application replayed from the decided log
// and a node resuming at the next height with the persisted guard.
func (s *simulation) start(p *process) error {
	app := newApplication(s.cluster, s.genesis, s.verifier)
	if p.honest {
		p.pins = newPinWatcher(s.now)
		app.onBook = func(h uint64, op consensus.Entry, vals *consensus.ValidatorSet) { s.book(p, h, op, vals) }
		app.onMark = func(h uint64, node consensus.NodeID, nonce string) { s.onMark(p, h, node, nonce) }
	}
	vals := s.genesis
	for i := range p.store.log {
		vals = app.Apply(uint64(i+1), p.store.log[i].Block.Entries, vals)
	}
	app.onOp = func(h uint64, op consensus.Entry, vals *consensus.ValidatorSet) { s.onOp(p, h, op, vals) }
	if p.honest {
		app.onEject = func(e Ejection) { s.onEjected(p, e) }
	}
	if hook, ok := p.strategy.(AppStrategy); ok {
		adv := p.adv
		app.override = func(h uint64, entries []consensus.Entry, honest error) error {
			return hook.Validate(adv, h, entries, honest)
		}
	}
	cfg := s.cfg.ConsensusConfig()
	cfg.Cluster = s.cluster
	cfg.ID = p.id
	cfg.Signer = p.signer
	cfg.Verifier = s.verifier
	cfg.App = app
	cfg.Log = &p.store
	cfg.Height = p.decided() + 1
	cfg.Validators = vals
	cfg.LastSigned = p.store.signState
	if s.cfg.amnesia {
		cfg.LastSigned = consensus.SignState{}
	}
	node, err := consensus.NewNode(cfg)
	if err != nil {
		return fmt.Errorf("starting %s: %w", p, err)
	}
	p.node, p.app, p.down = node, app, false
	p.ejectProposed = make(map[consensus.NodeID]bool)
	p.outbox = make(map[uint64]*pendingOutcome)
	p.accusedAt = make(map[accuseKey]uint64)
	if p.honest {
		if p.auditor, err = audit.New(s.auditCfg); err != nil {
			return fmt.Errorf("starting %s: %w", p, err)
		}
		p.watches = make(map[string]watch)
	}
	return nil
}

// crash throws away everything in memory; the store survives. A pin the
// node was driving falls.
func (s *simulation) crash(p *process) {
	p.past = append(p.past, p.node.Stats())
	p.node, p.app, p.down = nil, nil, true
	p.auditor, p.watches, p.pins, p.outbox, p.accusedAt = nil, nil, nil, nil, nil
	s.world.fall(p.num, s.now)
}

// drain carries out the node's Ready exactly as consensus.Ready asks:
// persist the guard, persist and apply decisions, send, Advance — and
// turns any evidence into an ejection proposal.
func (s *simulation) drain(p *process) {
	for p.node != nil && p.node.HasReady() {
		rd := p.node.Ready()
		if rd.SignState != nil {
			p.store.signState = *rd.SignState
		}
		for _, c := range rd.Decided {
			p.store.log = append(p.store.log, c)
			s.onDecided(p)
		}
		for i := range rd.Messages {
			s.send(p, &rd.Messages[i])
		}
		p.node.Advance()
		for i := range rd.Evidence {
			s.onEvidence(p, &rd.Evidence[i])
		}
	}
}
