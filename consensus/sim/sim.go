package sim

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/audit"
	"github.com/seed44533760/pact/consensus"
)

// simulation is the state of one run. Everything happens on the caller's
// goroutine, one event at a time, in (virtual time, sequence) order.
type simulation struct {
	ctx     context.Context
	cfg     Config
	cluster string
	rng     *rand.Rand
	now     time.Duration
	queue   eventQueue
	events  uint64
	err     error

	genesis       *consensus.ValidatorSet
	verifier      consensus.Verifier // what nodes use: counts
	rawVerifier   consensus.Verifier // what the checker uses
	verifications uint64

	procs     []*process
	byNum     [][]*process // node number → its processes
	nums      map[consensus.NodeID]int
	honest    []*process
	twinSplit map[int][]twinSide // twinned node → side of every other node

	partitions    []Partition
	crashes       []Crash
	faults        bool
	faultDeadline time.Duration
	maxTime       time.Duration
	healAt        time.Duration
	target        uint64

	checker    *checker
	msgs       MessageStats
	faultStats FaultStats
	entries    uint64

	world    *world
	auditCfg audit.Config
	reports  ReportStats
	// detected lists the adversaries the run must eject (their strategy is
	// detected, and there are no more of them than the cluster tolerates).
	detected       []consensus.NodeID
	accusationSeen map[[2]consensus.NodeID]bool

	minDecided     uint64
	decidedChanged bool
	evidenceSeen   map[consensus.NodeID]bool
	ejectionSeen   map[string]bool
	ejectedAt      map[string]int64 // node → virtual ms of its first ejection
	caughtUp       bool             // every honest node reached the target after the faults
	finished       bool
	livenessOK     bool
}

// Run simulates one cluster as cfg describes and checks it. The error is
// for a Config that does not validate (or an internal failure); a run that
// breaks an invariant returns a Result listing its violations.
func Run(cfg Config) (*Result, error) {
	return RunContext(context.Background(), cfg)
}

// RunContext is Run that gives up, returning ctx's error, once ctx is done.
// It only polls ctx between events: the run stays deterministic.
func RunContext(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := newSimulation(cfg)
	if err != nil {
		return nil, err
	}
	s.ctx = ctx
	s.run()
	if s.err != nil {
		return nil, s.err
	}
	return s.result(), nil
}

// countingVerifier counts the signature checks the nodes make.
type countingVerifier struct {
	v consensus.Verifier
	n *uint64
}

func (c countingVerifier) Verify(pub consensus.PublicKey, msg, sig []byte) bool {
	*c.n++
	return c.v.Verify(pub, msg, sig)
}

// NodeName is the name of node i (1-based).
func NodeName(i int) consensus.NodeID { return consensus.NodeID("node-" + strconv.Itoa(i)) }

// keySeed derives node i's key material from the run's seed, independently
// of the event stream, so the same seed always gives the same keys.
func keySeed(seed uint64, i int) []byte {
	h := sha256.New()
	h.Write([]byte("pact/sim/key/v1"))
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seed)
	binary.BigEndian.PutUint64(b[8:], uint64(i))
	h.Write(b[:])
	return h.Sum(nil)
}

func newSimulation(cfg Config) (*simulation, error) {
	s := &simulation{
		cfg:          cfg,
		cluster:      cfg.cluster(),
		rng:          rand.New(rand.NewPCG(cfg.Seed, 0x70616374_73696d00)), // "pactsim"
		nums:         make(map[consensus.NodeID]int),
		twinSplit:    make(map[int][]twinSide),
		faults:       true,
		maxTime:      cfg.maxVirtualTime(),
		evidenceSeen: make(map[consensus.NodeID]bool),
		ejectionSeen: make(map[string]bool),
		ejectedAt:    make(map[string]int64),
		byNum:        make([][]*process, cfg.Nodes+1),

		auditCfg:       auditConfig(cfg.Nodes),
		accusationSeen: make(map[[2]consensus.NodeID]bool),
	}
	s.world = newWorld(s.rng, cfg.Nodes)
	s.faultDeadline = cfg.FaultsUntil
	if s.faultDeadline == 0 {
		s.faultDeadline = s.maxTime / 2
	}
	s.partitions, _ = ParsePartitions(cfg.Partition, cfg.Nodes)
	s.crashes, _ = ParseCrashes(cfg.Crash, cfg.Nodes)
	s.faultStats = FaultStats{Drop: cfg.Drop, Duplicate: cfg.Duplicate, Partitions: len(s.partitions)}

	if cfg.FakeSignatures {
		s.rawVerifier = consensus.FakeVerifier{}
	} else {
		s.rawVerifier = consensus.Ed25519Verifier{}
	}
	s.verifier = countingVerifier{v: s.rawVerifier, n: &s.verifications}

	signers := make([]consensus.Signer, cfg.Nodes+1)
	var vals []consensus.Validator
	for i := 1; i <= cfg.Nodes; i++ {
		seed := keySeed(cfg.Seed, i)
		if cfg.FakeSignatures {
			signers[i] = consensus.FakeSigner{Key: consensus.PublicKey(seed)}
		} else {
			signers[i] = consensus.Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed)}
		}
		id := NodeName(i)
		s.nums[id] = i
		vals = append(vals, consensus.Validator{ID: id, PubKey: signers[i].PublicKey()})
	}
	genesis, err := consensus.NewValidatorSet(vals)
	if err != nil {
		return nil, err
	}
	s.genesis = genesis
	s.checker = newChecker(s.cluster, genesis, s.rawVerifier)

	firstByz := cfg.Nodes - cfg.Byzantine + 1
	var honestIDs []consensus.NodeID
	for i := 1; i < firstByz; i++ {
		honestIDs = append(honestIDs, NodeName(i))
	}
	slices.Sort(honestIDs)
	for i := 1; i <= cfg.Nodes; i++ {
		if i < firstByz {
			p := s.addProcess(i, signers[i], notTwin)
			p.honest = true
			s.honest = append(s.honest, p)
			continue
		}
		name := cfg.strategyName()
		if name == "random" {
			name = randomChoices[s.rng.IntN(len(randomChoices))]
		}
		info, _ := lookupStrategy(name)
		if info.detected && cfg.Byzantine <= cfg.Tolerated() {
			s.detected = append(s.detected, NodeName(i))
		}
		sides := []twinSide{notTwin}
		if info.twins {
			sides = []twinSide{sideA, sideB}
			s.twinSplit[i] = s.splitPeers(i)
		}
		for _, side := range sides {
			p := s.addProcess(i, signers[i], side)
			p.strategyName = name
			p.strategy = info.build()
			p.adv = &Adversary{
				ID: p.id, Cluster: s.cluster, Signer: p.signer, Rand: s.rng,
				Honest: honestIDs, Genesis: genesis.IDs(), proc: p, sim: s,
			}
		}
	}
	for _, p := range s.procs {
		if err := s.start(p); err != nil {
			return nil, err
		}
	}
	s.schedule()
	return s, nil
}

func (s *simulation) addProcess(num int, signer consensus.Signer, side twinSide) *process {
	p := &process{idx: len(s.procs), num: num, id: NodeName(num), signer: signer, side: side}
	s.procs = append(s.procs, p)
	s.byNum[num] = append(s.byNum[num], p)
	return p
}

// splitPeers decides which peers each twin of node x sees: a quarter (at
// least one) see both twins — they are the ones who can catch the
// equivocation — and the rest are split between twin A and twin B.
func (s *simulation) splitPeers(x int) []twinSide {
	var others []int
	for i := 1; i <= s.cfg.Nodes; i++ {
		if i != x {
			others = append(others, i)
		}
	}
	s.rng.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	split := make([]twinSide, s.cfg.Nodes+1)
	both := max(1, len(others)/4)
	for k, i := range others {
		switch {
		case k < both:
			split[i] = sideBoth
		case (k-both)%2 == 0:
			split[i] = sideA
		default:
			split[i] = sideB
		}
	}
	return split
}

// schedule queues the first tick, sample and audit of every process (at
// random phases, so nodes do not act in lockstep), the workload, and the
// planned faults.
func (s *simulation) schedule() {
	for _, p := range s.procs {
		s.queue.push(event{at: time.Duration(s.rng.Int64N(int64(s.cfg.Tick))), kind: evTick, proc: p.idx})
		ms := func(d time.Duration) time.Duration {
			return time.Duration(s.rng.Int64N(int64(d/time.Millisecond))) * time.Millisecond
		}
		s.queue.push(event{at: ms(SampleEvery), kind: evSample, proc: p.idx})
		s.queue.push(event{at: ms(AuditEvery), kind: evAudit, proc: p.idx})
	}
	s.queue.push(event{at: 0, kind: evWorkload})
	for _, c := range s.crashes {
		s.queue.push(event{at: c.From, kind: evCrash, proc: c.Node})
		if c.Until > 0 {
			s.queue.push(event{at: c.Until, kind: evRestart, proc: c.Node})
		}
	}
	for i, p := range s.partitions {
		s.queue.push(event{at: p.From, kind: evPartition, from: i})
		if p.Until > 0 {
			s.queue.push(event{at: p.Until, kind: evPartitionEnd, from: i})
		}
	}
	s.queue.push(event{at: s.faultDeadline, kind: evHeal})
}

func (s *simulation) run() {
	s.emit("start", "", 0, s.describe())
	for _, p := range s.procs {
		s.drain(p)
	}
	for s.queue.Len() > 0 && !s.finished && s.err == nil {
		ev := s.queue.pop()
		if ev.at > s.maxTime {
			break
		}
		s.now = ev.at
		s.events++
		if s.events%4096 == 0 && s.ctx != nil {
			if err := s.ctx.Err(); err != nil {
				s.err = fmt.Errorf("simulation interrupted at %s of virtual time: %w", s.now, err)
				return
			}
		}
		s.handle(&ev)
		if s.decidedChanged {
			s.decidedChanged = false
			s.progress()
		}
	}
}

func (s *simulation) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d nodes, %d heights, seed %d", s.cfg.Nodes, s.cfg.Heights, s.cfg.Seed)
	var advs []string
	for _, p := range s.procs {
		if !p.honest && p.side != sideB {
			advs = append(advs, fmt.Sprintf("%s %s", p.id, p.strategyName))
		}
	}
	if len(advs) > 0 {
		fmt.Fprintf(&b, "; adversaries: %s", strings.Join(advs, ", "))
	}
	return b.String()
}

func (s *simulation) handle(ev *event) {
	switch ev.kind {
	case evTick:
		p := s.procs[ev.proc]
		if !p.down {
			p.node.Tick()
			s.drain(p)
		}
		s.queue.push(event{at: s.now + s.cfg.Tick, kind: evTick, proc: p.idx})
	case evDeliver:
		s.deliver(s.procs[ev.proc], ev.data)
	case evEntry:
		p := s.procs[ev.proc]
		if p.down {
			return
		}
		entries := []consensus.Entry{ev.data}
		if hook, ok := p.strategy.(AppStrategy); ok {
			entries = hook.Entries(p.adv, ev.data)
		}
		if len(entries) > 0 {
			p.node.Propose(entries...)
			s.drain(p)
		}
	case evWorkload:
		s.entries++
		e := timedOp(s.entries, s.now)
		s.gossipEntry(nil, e)
		next := s.cfg.EntryEvery
		if s.caughtUp {
			next = max(next, lateEntryEvery)
		}
		s.queue.push(event{at: s.now + next, kind: evWorkload})
	case evCrash:
		if !s.faults {
			return
		}
		for _, p := range s.byNum[ev.proc] {
			if !p.down {
				s.crash(p)
			}
		}
		s.faultStats.Crashes++
		s.emit("crash", string(NodeName(ev.proc)), 0, fmt.Sprintf("%s crashes, losing everything it had not persisted", NodeName(ev.proc)))
	case evRestart:
		if s.faults {
			s.restart(ev.proc)
		}
	case evPartition:
		if s.faults {
			p := &s.partitions[ev.from]
			s.emit("partition", "", 0, fmt.Sprintf("network partitioned: %s", p))
		}
	case evPartitionEnd:
		if s.faults {
			p := &s.partitions[ev.from]
			s.emit("partition-end", "", 0, fmt.Sprintf("partition %s heals", p))
		}
	case evHeal:
		if s.faults {
			s.heal()
		}
	case evSample:
		if p := s.procs[ev.proc]; !p.down {
			s.sample(p)
		}
		s.queue.push(event{at: s.now + SampleEvery, kind: evSample, proc: ev.proc})
	case evAudit:
		if p := s.procs[ev.proc]; !p.down {
			s.audit(p)
			s.actRogue(p)
			if p.pins != nil {
				s.watchPins(p)
			}
		}
		s.queue.push(event{at: s.now + AuditEvery, kind: evAudit, proc: ev.proc})
	case evReport:
		s.deliverReport(s.procs[ev.proc], ev.data)
	case evOutcome:
		s.publishOutcome(s.procs[ev.proc], uint64(ev.from))
	}
}

// lateEntryEvery is the client's pace once every honest node has caught
// up and the run only goes on until the adversaries are ejected: the audit
// of readings needs tens of seconds of virtual time, not heights, and a few
// actions a second still give every validator work to perform and witness.
const lateEntryEvery = 250 * time.Millisecond

// gossipEntry hands e to every process but from (the client's entries and
// the accusations honest nodes spread), each after its own network delay.
// The mempool is modelled as reliable: it is not what is being tested.
func (s *simulation) gossipEntry(from *process, e consensus.Entry) {
	for _, q := range s.procs {
		if q != from {
			s.queue.push(event{at: s.now + s.delay(), kind: evEntry, proc: q.idx, data: e})
		}
	}
}

func (s *simulation) restart(num int) {
	restarted := false
	for _, p := range s.byNum[num] {
		if !p.down {
			continue
		}
		if err := s.start(p); err != nil {
			s.err = err
			return
		}
		restarted = true
		s.drain(p)
	}
	if restarted {
		s.faultStats.Restarts++
		p := s.byNum[num][0]
		s.emit("restart", string(p.id), p.decided()+1, fmt.Sprintf("%s restarts from its store at height %d", p.id, p.decided()+1))
	}
}

// heal ends the fault phase: no more loss, duplication or partitions, every
// crashed node restarts, and the run goes on until every honest node has
// caught up with the furthest one (and with Heights).
func (s *simulation) heal() {
	s.faults = false
	s.healAt = s.now
	s.faultStats.HealMS = s.now.Milliseconds()
	for num := 1; num <= s.cfg.Nodes; num++ {
		s.restart(num)
	}
	s.target = uint64(s.cfg.Heights)
	for _, p := range s.honest {
		s.target = max(s.target, p.decided())
	}
	text := fmt.Sprintf("faults end; every honest node must now reach height %d", s.target)
	if s.cfg.Drop == 0 && s.cfg.Duplicate == 0 && len(s.partitions) == 0 && len(s.crashes) == 0 {
		text = fmt.Sprintf("no faults to end; every honest node must reach height %d", s.target)
	}
	if len(s.detected) > 0 {
		text += fmt.Sprintf(" and eject %s", joinIDs(s.detected))
	}
	s.emit("heal", "", s.target, text)
	s.progress()
}

// progress follows the lowest honest height: it narrates it, ends the fault
// phase once every running honest node has decided Heights, and ends the run
// once every honest node has caught up after the faults.
func (s *simulation) progress() {
	low := ^uint64(0)
	running, allReached := 0, true
	for _, p := range s.honest {
		low = min(low, p.decided())
		if !p.down {
			running++
			allReached = allReached && p.decided() >= uint64(s.cfg.Heights)
		}
	}
	if low > s.minDecided {
		s.minDecided = low
		s.emit("progress", "", low, fmt.Sprintf("every honest node has decided height %d", low))
	}
	if s.faults && s.cfg.FaultsUntil == 0 && running > 0 && allReached {
		s.heal()
		return
	}
	if !s.faults && low >= s.target {
		s.caughtUp, s.livenessOK = true, true
	}
	s.finished = s.caughtUp && len(s.notEjected()) == 0
}

// notEjected lists the adversaries the run must eject that some honest
// node still counts as a validator.
func (s *simulation) notEjected() []consensus.NodeID {
	var out []consensus.NodeID
	for _, id := range s.detected {
		for _, p := range s.honest {
			if p.app == nil || p.app.vals.Has(id) {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

func joinIDs(ids []consensus.NodeID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = string(id)
	}
	return strings.Join(parts, ", ")
}

func (s *simulation) onDecided(p *process) {
	if p.honest {
		s.decidedChanged = true
	}
}

// onEvidence turns evidence into an ejection: the node proposes an eject
// entry carrying it, and an honest node spreads the accusation so that the
// next honest proposer, whoever it is, includes it.
func (s *simulation) onEvidence(p *process, ev *consensus.Evidence) {
	off := ev.Offender()
	if p.honest && !s.evidenceSeen[off] {
		s.evidenceSeen[off] = true
		s.emit("evidence", string(off), ev.A.Height, fmt.Sprintf("%s holds evidence: %s", p.id, ev))
	}
	if p.node == nil || !p.app.vals.Has(off) || p.ejectProposed[off] {
		return
	}
	p.ejectProposed[off] = true
	e := EjectEntry(ev)
	p.node.Propose(e)
	if p.honest {
		s.gossipEntry(p, e)
	}
}

// onEjected runs inside Apply on an honest process: it stops auditing the
// ejected node, whose readings it will refuse from now on.
func (s *simulation) onEjected(p *process, e Ejection) {
	if p.auditor != nil {
		p.auditor.Forget(e.Node)
	}
	if !s.ejectionSeen[e.Node] {
		s.ejectionSeen[e.Node] = true
		s.ejectedAt[e.Node] = s.now.Milliseconds()
		why := e.Reason
		if e.Reason == reasonAccused {
			why = fmt.Sprintf("accused by %s: %s", strings.Join(e.Accusers, ", "), strings.Join(e.Grounds, ", "))
		}
		s.emit("ejection", e.Node, e.Height, fmt.Sprintf("%s is ejected at height %d, %s (first applied by %s)", e.Node, e.Height, why, p.id))
	}
}

func (s *simulation) emit(kind, node string, height uint64, text string) {
	if s.cfg.Events != nil {
		s.cfg.Events(Event{At: s.now, Kind: kind, Node: node, Height: height, Text: text})
	}
}
