package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/audit"
	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/hwspec"
	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/agent/membership"
	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
	"github.com/seed44533760/pact/hw"
)

// Options are what New needs beyond the two configuration files.
type Options struct {
	// Logger receives the agent's log. Nil discards it.
	Logger *slog.Logger

	// Memory, when set, replaces memberlist with an in-memory network:
	// in-process tests of many agents. Discovery then is whatever the test
	// wires; the rest of the agent is the real one.
	Memory *transport.MemoryNetwork

	// NoAdmin starts no admin server (tests that need none).
	NoAdmin bool

	// Board, when set, is the node's hardware; otherwise New opens the
	// board the agent file's hardware section describes (hw/sim or
	// hw/periph). The agent closes it at shutdown either way.
	Board hw.Board

	// Reports, when set, is the node's MQTT side (report.Memory in tests,
	// a reporter on the demo's embedded broker); otherwise the agent
	// connects to the agent file's mqtt.url, or reports nowhere without
	// one. The agent closes it at shutdown.
	Reports report.Reports

	// LogLevel, when set, is the level Logger's handler checks: Reload
	// changes it when log.level changes. Without it a new level waits for
	// a restart.
	LogLevel *slog.LevelVar

	// Notifier, when set, receives the systemd notifications (READY=1,
	// STATUS=, WATCHDOG=1, STOPPING=1; notify.go); otherwise the agent
	// notifies systemd when NOTIFY_SOCKET is set, and nobody when not.
	Notifier Notifier

	// WrapTransport, when set, wraps memberlist's transport
	// (membership.Config.WrapTransport): measurements count the bytes an
	// agent puts on the wire with it. Ignored with Memory.
	WrapTransport membership.TransportWrapper
}

// Agent is one running node. Build it with New, run it with Run.
type Agent struct {
	acfg    *config.Agent
	cluster *config.Cluster
	log     *slog.Logger
	key     ed25519.PrivateKey
	name    string

	store   *store.Store
	board   hw.Board
	state   *agreed.State
	node    *consensus.Node
	members *membership.Membership // nil with Options.Memory
	memLink *transport.MemoryLink  // set with Options.Memory
	net     *transport.Transport
	// verifier is shared by the transport's workers and the core: a vote
	// the transport verified is not verified again before it is counted.
	verifier  *consensus.VerifyCache
	admin     *adminServer
	adversary *adversary // nil for an honest node
	reports   report.Reports

	view      atomic.Pointer[view]
	metaBytes atomic.Pointer[[]byte]
	metaBusy  atomic.Bool

	doc      *capability.Document // this node's document, signed
	docDirty bool                 // doc differs from the committed one

	// announced holds peers' documents fetched because their meta named a
	// digest this node did not know (see discovery.go); asked is when each
	// peer was last asked.
	announced map[string]*capability.Document
	asked     map[string]uint64

	// own holds entries this node asked to be decided, by content, with the
	// tick they were last gossiped; they are re-gossiped until decided.
	own map[string]ownEntry

	ticks      uint64
	tick       time.Duration
	lastDecide time.Time
	halted     error  // set when the store failed: the node no longer signs
	snapHeight uint64 // height of the agreed state's snapshot in the store (snapshot.go)

	statusReq chan chan Status
	submitReq chan submitRequest
	counters  counters

	ejectionsReq chan chan EjectionsReport // pact evidence (evidence_admin.go)

	// Actions (requests.go, perform.go, outcomes.go, readings.go).
	requests         map[string]*pendingRequest // by request id, until assigned
	afterDecide      bool                       // a height was decided: rebuild pending assignments
	open             map[string]openInfo        // assignments followed for their deadline
	known            map[string]*wire.Outcome   // verified outcomes, by instance
	knownOrder       []string
	staleAnswered    map[string]time.Time      // instance → when a stale reassign of it was answered (outcome_query.go)
	latest           map[string]*wire.Readings // newest signed readings, by node
	triggersDue      bool
	triggerEntry     map[string]consensus.Entry // this node's pending trigger entry, by action
	workers          map[string]chan job        // per-output performers
	performed        chan *wire.Outcome
	sampled          chan *wire.Readings
	observed         chan *wire.Observation
	observations     map[string][]*wire.Observation
	observationOrder []string

	// Detection (accuse.go).
	accusations    map[string]map[string]*wire.Accusation // accused → accuser → newest
	accusedAt      map[string]time.Time                   // "node/reason" → when this node last accused
	ejecting       map[string]bool
	signedOutcomes map[outcomeKey]*wire.Outcome
	seen           chan seenOn              // witness inputs going on (rogue.go)
	driveWindows   map[string][]driveWindow // "node/output" → when assignments allowed it on
	suspectDrive   map[string]seenOn
	junk           map[string]*junkCount  // refused entries by sender (junk.go)
	peerHeights    map[string]uint64      // the highest height each peer voted or reported at (junk.go)
	decidedAt      map[[32]byte]time.Time // entry digest → when it was decided here
	decidedOrder   [][32]byte
	inspectReq     chan func()             // runs a function on the loop (tests' window on the state; /metrics' snapshot)
	metrics        *agentMetrics           // Prometheus registry and instruments (metrics.go)
	auditor        *audit.Auditor          // readings consistency (audit_loop.go)
	disturbed      map[string]time.Time    // zone → until when actuators may make its readings disagree
	effectStarts   map[string]*effectStart // instance → the median when assigned (effect.go)
	effectHistory  map[string][]EffectRun  // action → its recent judged runs
	evidenceAt     map[string]evidenceMark
	ejectedWhen    map[string]time.Time
	runCtx         context.Context
	workerWG       sync.WaitGroup

	// onDecided, when set (by tests and benchmarks only, before Run), is
	// called on the loop goroutine after each decided height has been
	// persisted and applied. It must not block.
	onDecided func(*consensus.Commit)

	sd     *notifier   // systemd notifications (notify.go); nil when not under systemd
	reload reloadState // SIGHUP (reload.go)

	closeOnce sync.Once
}

type ownEntry struct {
	entry      consensus.Entry
	gossipedAt uint64
}

// New prepares an agent: identity, store, agreed state, consensus node,
// transport and membership. Nothing listens until Run.
func New(acfg *config.Agent, cluster *config.Cluster, opts Options) (a *Agent, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a = &Agent{
		acfg: acfg, cluster: cluster, name: acfg.Node,
		log:       log.With("node", acfg.Node),
		verifier:  consensus.NewVerifyCache(consensus.Ed25519Verifier{}, verifyCacheSize),
		own:       map[string]ownEntry{},
		announced: map[string]*capability.Document{},
		asked:     map[string]uint64{},
		statusReq: make(chan chan Status),
		submitReq: make(chan submitRequest),

		ejectionsReq: make(chan chan EjectionsReport), // pact evidence (evidence_admin.go)

		requests:     map[string]*pendingRequest{},
		open:         map[string]openInfo{},
		known:        map[string]*wire.Outcome{},
		latest:       map[string]*wire.Readings{},
		triggerEntry: map[string]consensus.Entry{},
		workers:      map[string]chan job{},
		performed:    make(chan *wire.Outcome, 64),
		sampled:      make(chan *wire.Readings, 4),
		observed:     make(chan *wire.Observation, 16),
		observations: map[string][]*wire.Observation{},

		accusations:    map[string]map[string]*wire.Accusation{},
		accusedAt:      map[string]time.Time{},
		ejecting:       map[string]bool{},
		signedOutcomes: map[outcomeKey]*wire.Outcome{},
		seen:           make(chan seenOn, 16),
		driveWindows:   map[string][]driveWindow{},
		suspectDrive:   map[string]seenOn{},
		junk:           map[string]*junkCount{},
		peerHeights:    map[string]uint64{},
		decidedAt:      map[[32]byte]time.Time{},
		inspectReq:     make(chan func()),
		disturbed:      map[string]time.Time{},
		effectStarts:   map[string]*effectStart{},
		effectHistory:  map[string][]EffectRun{},
		evidenceAt:     map[string]evidenceMark{},
		ejectedWhen:    map[string]time.Time{},
	}
	a.sd = newNotifier(opts.Notifier, a.log)
	a.reload = newReloadState(acfg, opts)
	built := a // a is nil once a failing return has run
	defer func() {
		if err != nil {
			built.close()
		}
	}()

	key, created, err := identity.LoadOrCreate(acfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	if created {
		a.log.Info("created identity key", "file", acfg.KeyFile, "public_key", identity.Public(key))
	}
	a.key = key

	a.store, err = store.Open(filepath.Join(acfg.DataDir, "pact.db"), cluster.Name, consensus.NodeID(acfg.Node), &store.Options{
		KeepHeights:  acfg.KeepHeights,
		SignedMarker: filepath.Join(acfg.DataDir, signedMarker(key)),
	})
	switch {
	case errors.Is(err, store.ErrCorrupt):
		// The double-sign guard is in that file: say what the operator can
		// do, since nothing the agent could do would be safe.
		return nil, fmt.Errorf("state: %w. pact will not sign with a double-sign guard it cannot trust. "+
			"Stop pact and move the file aside; then either put back a copy of it made after pact last stopped "+
			"(an older copy may make this node sign twice and be ejected), or re-provision the node: "+
			"`pact retire %s` from a running node, remove the state file and the identity key, create a new key, "+
			"start pact and `pact admit %s` (docs/OPERATIONS.md, \"A damaged state file\")",
			err, acfg.Node, acfg.Node)
	case err != nil:
		return nil, fmt.Errorf("state: %w (pact refuses to sign with damaged state; see docs on restoring a node)", err)
	}
	if err := a.restoreState(); err != nil {
		return nil, err
	}
	if err := a.checkIdentity(); err != nil {
		return nil, err
	}
	a.state.SetRules(agreed.Rules{
		Actions:       a.cluster.Actions,
		AllowUnsigned: a.cluster.AllowUnsignedRequests,
		Now:           time.Now,
		Outcome:       a.outcomeOf,
	})
	if err := replayCommits(a.store, a.state); err != nil {
		return nil, fmt.Errorf("agreed state: %w", err)
	}
	guard, err := a.store.Guard()
	if err != nil {
		return nil, fmt.Errorf("double-sign guard: %w (pact refuses to sign with a damaged guard)", err)
	}

	if err := a.openBoard(opts.Board); err != nil {
		return nil, err
	}

	timings := cluster.Timings.ConsensusTimings()
	a.tick = timings.Tick
	ccfg := consensus.DefaultConfig()
	ccfg.Cluster = cluster.Name
	ccfg.ID = consensus.NodeID(acfg.Node)
	ccfg.Signer = consensus.Ed25519Signer{Key: key}
	ccfg.Verifier = a.verifier
	ccfg.App = a.state
	ccfg.Log = a.store
	ccfg.Height = a.state.Height + 1
	ccfg.Validators = a.state.ValidatorSet()
	ccfg.LastSigned = guard
	ccfg.TimeoutPropose, ccfg.TimeoutPrevote, ccfg.TimeoutPrecommit = timings.Propose, timings.Prevote, timings.Precommit
	ccfg.TimeoutDelta, ccfg.RebroadcastTicks, ccfg.StatusTicks = timings.Delta, timings.Rebroadcast, timings.Status
	a.node, err = consensus.NewNode(ccfg)
	if err != nil {
		return nil, err
	}
	if a.adversary, err = newAdversary(acfg, cluster.Name, ccfg.Signer); err != nil {
		return nil, err
	}
	if a.adversary != nil {
		a.log.Warn("THIS NODE MISBEHAVES ON PURPOSE (adversary mode, for tests and demos only)", "mode", acfg.Adversary.Mode)
	}
	if a.auditor, err = newAuditor(a.state.ValidatorSet().Faulty()); err != nil {
		return nil, err
	}
	a.view.Store(newView(a.state))
	a.buildDocument()
	a.publishMeta()

	if err := a.setupNetwork(opts); err != nil {
		return nil, err
	}
	if err := a.setupReports(opts); err != nil {
		return nil, err
	}
	a.reports = a.adversary.muteReports(a.reports) // adversary.go: a silent node publishes nothing
	a.metrics = newMetrics(a)
	if !opts.NoAdmin {
		a.admin, err = newAdminServer(acfg.Admin, a)
		if err != nil {
			return nil, err
		}
	}
	a.log.Info("agent ready", "height", a.node.Height(), "validators", a.state.ValidatorNames(),
		"validator", a.node.Validators().Has(ccfg.ID), "public_key", identity.Public(key))
	return a, nil
}

// openBoard opens the node's hardware, which puts every output in its safe
// state. Devices that do not answer are left out and logged: the node still
// votes, and advertises only what works.
func (a *Agent) openBoard(b hw.Board) error {
	if b == nil {
		var err error
		if b, err = hwspec.OpenBoard(a.acfg, a.cluster.Name); err != nil {
			return fmt.Errorf("hardware: %w", err)
		}
	}
	a.board = b
	for path, reason := range hwspec.Missing(hwspec.Spec(a.acfg), b) {
		a.log.Warn("hardware device not available; not advertised", "key", path, "reason", reason)
	}
	return nil
}

// checkIdentity refuses a key that is not the one the agreed state holds
// for this node while it is a validator: nothing it signed would count.
// Before the first decided height the state is the cluster file's genesis,
// which cannot tell that the node was retired since: a replacement (a new
// SD card, a new key) under a genesis name starts with a warning and follows
// the cluster as a candidate, without a vote until pact retire has removed
// the old key and pact admit has admitted the new one.
func (a *Agent) checkIdentity() error {
	pub := a.key.Public().(ed25519.PublicKey)
	if a.state.Height == 0 {
		if err := config.CheckIdentity(a.acfg, a.cluster, pub); err != nil {
			a.log.Warn("this node's key is not the one the cluster file lists for it: it starts as a replacement, with no vote until an operator runs pact retire "+a.name+" (if not done yet) and pact admit "+a.name,
				"public_key", identity.Public(a.key), "problem", err)
		}
		return nil
	}
	if want, ok := a.state.ValidatorKey(a.name); ok && !want.Equal(pub) {
		return a.acfg.ProblemAt("key_file", fmt.Sprintf("%s holds public key %s, but the cluster holds %s for validator %s at height %d; use the right key file, or retire %s (pact retire) and admit this key (pact admit)",
			a.acfg.KeyFile, identity.PublicKeyString(pub), identity.PublicKeyString(want), a.name, a.state.Height, a.name))
	}
	return nil
}

// restoreState loads the agreed state from the store's snapshot, or builds
// the genesis state from the cluster file on first start.
func (a *Agent) restoreState() error {
	snap, err := a.store.Snapshot()
	if err != nil {
		return fmt.Errorf("agreed state: %w", err)
	}
	if snap != nil && snap.Height > 0 {
		a.state, err = agreed.Restore(snap.Data, a.cluster.Name, a.cluster.OperatorKeys())
		if err != nil {
			return fmt.Errorf("agreed state at height %d: %w", snap.Height, err)
		}
		a.snapHeight = snap.Height
		return nil
	}
	genesis := map[string]ed25519.PublicKey{}
	for name := range a.cluster.Validators {
		k, _ := a.cluster.ValidatorKey(name)
		genesis[name] = k
	}
	a.state, err = agreed.Genesis(a.cluster.Name, genesis, a.cluster.OperatorKeys())
	return err
}

func (a *Agent) setupNetwork(opts Options) error {
	tcfg := transport.DefaultConfig()
	tcfg.Self = a.name
	tcfg.Cluster = a.cluster.Name
	tcfg.Verifier = a.verifier
	tcfg.Keys = func(name string) (consensus.PublicKey, bool) { return a.view.Load().key(name) }
	tcfg.Logger = a.log

	var link transport.Link
	var receive func([]byte)
	if opts.Memory != nil {
		a.memLink = opts.Memory.Join(a.name, func(p []byte) { receive(p) })
		link = a.memLink
	} else {
		mcfg := membership.DefaultConfig()
		mcfg.Name = a.name
		mcfg.Cluster = a.cluster.Name
		host, port, err := splitHostPort(a.acfg.Bind)
		if err != nil {
			return fmt.Errorf("bind: %w", err)
		}
		mcfg.BindAddr, mcfg.BindPort = host, port
		if a.acfg.Advertise != "" {
			if mcfg.AdvertiseAddr, mcfg.AdvertisePort, err = splitHostPort(a.acfg.Advertise); err != nil {
				return fmt.Errorf("advertise: %w", err)
			}
		}
		mcfg.GossipKeys = a.cluster.GossipKeyring()
		mcfg.Seeds = a.acfg.Seeds
		mcfg.MDNS = a.acfg.MDNS
		applyGossipTuning(&mcfg, a.cluster.Gossip)
		mcfg.Meta = a.meta
		mcfg.Gate = membership.GateFunc(func(name string, meta []byte) error { return a.view.Load().allow(name, meta) })
		mcfg.OnMessage = func(p []byte) { receive(p) }
		mcfg.Logger = a.log
		mcfg.WrapTransport = opts.WrapTransport
		m, err := membership.New(mcfg)
		if err != nil {
			return fmt.Errorf("membership: %w", err)
		}
		a.members = m
		link = m
	}
	t, err := transport.New(tcfg, link)
	if err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	for kind, v := range frameVetters(a.cluster.Name) {
		if err := t.Register(kind, v); err != nil {
			return err
		}
	}
	a.net = t
	receive = t.Receive
	return nil
}

// signedMarker names the file in the data directory that records that
// this node has signed with key (store.Options.SignedMarker): with it, a
// missing pact.db stops the agent instead of starting it with an empty
// double-sign guard. The name carries the key's fingerprint, so a node
// given a new key (which has signed nothing) may start on a new pact.db.
func signedMarker(key ed25519.PrivateKey) string {
	h := sha256.Sum256(key.Public().(ed25519.PublicKey))
	return "signed-" + hex.EncodeToString(h[:8])
}

// verifyCacheSize bounds the consensus signatures remembered as verified:
// several heights' votes of a large cluster.
const verifyCacheSize = 1024

func splitHostPort(s string) (string, int, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q", p)
	}
	return host, port, nil
}

func applyGossipTuning(m *membership.Config, g config.Gossip) {
	switch g.Profile {
	case config.GossipLAN:
		m.Profile = membership.ProfileLAN
	default:
		m.Profile = membership.ProfilePi
	}
	m.ProbeInterval, m.ProbeTimeout = g.ProbeInterval, g.ProbeTimeout
	m.SuspicionMult, m.GossipInterval = g.SuspicionMult, g.GossipInterval
}

// meta is this node's memberlist meta, as the loop last published it.
// membership calls it from New and from UpdateMeta, which runs off the loop.
func (a *Agent) meta() []byte { return *a.metaBytes.Load() }

// publishMeta encodes the meta from the loop's state; loop goroutine (or
// New) only.
func (a *Agent) publishMeta() {
	m := nodeMeta{key: a.key.Public().(ed25519.PublicKey), height: a.view.Load().height}
	if a.doc != nil {
		m.digest, m.seq = a.doc.Digest(), a.doc.Seq
	}
	b := m.encode()
	a.metaBytes.Store(&b)
}

// announceMeta hands the new meta to memberlist without blocking the loop:
// UpdateMeta waits up to a gossip interval for the broadcast, which stalled
// the loop for ~100 ms per update (the decision latency's p99 tail). At most
// one update is in flight; a change made meanwhile goes out with the next.
func (a *Agent) announceMeta() bool {
	if a.members == nil || !a.metaBusy.CompareAndSwap(false, true) {
		return false
	}
	a.publishMeta()
	go func() {
		defer a.metaBusy.Store(false)
		if err := a.members.UpdateMeta(time.Second); err != nil {
			a.log.Debug("update meta", "err", err)
		}
	}()
	return true
}

// Run starts listening and runs the loop until ctx is cancelled, then shuts
// down in order: leave the cluster, stop the transport, close the store.
// It returns nil after a clean shutdown.
func (a *Agent) Run(ctx context.Context) error {
	defer a.close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.runCtx = ctx
	if a.admin != nil {
		go a.admin.serve()
	}
	if a.members != nil {
		if err := a.members.Start(ctx); err != nil {
			return fmt.Errorf("membership: %w", err)
		}
	}
	a.sd.ready(a.statusLine(), time.Now()) // notify.go: listening, and joining or retrying
	a.publishCapabilities(a.doc)
	a.resumeExecutions()
	a.resendOutcomes()
	a.reopenAssignments()
	a.workerWG.Add(2)
	go a.sample(ctx)
	go a.monitorWitnesses()
	a.startAdversary(ctx) // adversary.go: rogue-act, forge, replay, flood; nothing for an honest node
	err := a.loop(ctx)
	a.sd.stopping()
	cancel()
	a.shutdown()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (a *Agent) shutdown() {
	// Actuators first: whatever else fails below, outputs end up safe.
	if err := a.board.Halt(); err != nil {
		a.log.Error("halting outputs", "err", err)
	}
	a.workerWG.Wait()
	a.saveSnapshot()
	a.closeReports()
	if a.members != nil {
		if err := a.members.Leave(2 * time.Second); err != nil {
			a.log.Warn("leave", "err", err)
		}
	}
	a.log.Info("stopped", "height", a.node.Height())
}

// close releases everything; safe to call twice.
func (a *Agent) close() {
	a.closeOnce.Do(func() {
		if a.admin != nil {
			a.admin.close()
		}
		if a.runCtx == nil {
			a.closeReports() // New failed or Run never ran; Run's shutdown closes it otherwise
		}
		if a.members != nil {
			_ = a.members.Shutdown()
		}
		if a.memLink != nil {
			a.memLink.Close()
		}
		if a.net != nil {
			_ = a.net.Close()
		}
		if a.store != nil {
			_ = a.store.Close()
		}
		if a.board != nil {
			if err := a.board.Close(); err != nil {
				a.log.Error("closing the hardware", "err", err)
			}
		}
	})
}
