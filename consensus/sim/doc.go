// Package sim is pact's deterministic simulator: it runs the real consensus
// state machine (package consensus) for a cluster of validators over a
// virtual network, lets some of them misbehave, injects faults, and checks
// afterwards that nothing the protocol promises was broken. `pact sim` and
// the Byzantine tests are built on it.
//
// # What a run is
//
// Run(cfg) builds N validators, "node-1" … "node-N", with Ed25519 keys derived
// from the seed (or consensus.FakeSigner when FakeSignatures is set); the
// last Byzantine of them are adversaries. Every node is a consensus.Node with
// a small replicated application (app.go: "op/…" client entries, each an
// action; "eject/<node>" entries carrying equivocation evidence; signed
// "accuse/…" entries, ledger.go) and a simulated durable store (its last
// SignState and decided log). The driver follows the
// contract of consensus.Ready: persist the guard, persist the decisions, send,
// Advance. Messages travel as encoded bytes (Message.Marshal, Unmarshal), so
// the codec is exercised with every delivery.
//
// A client submits a new entry every EntryEvery to every node, each copy with
// its own delay, like a gossiped mempool. A node that produces evidence
// proposes an eject entry and spreads it the same way; once decided, the
// offender leaves the validator set from the next height.
//
// # The world, reports and accusations
//
// The nodes share a small world (world.go): one zone whose temperature
// every node samples every SampleEvery with its own calibration and noise,
// and one output pin per node. Every node signs its readings with its
// consensus key over the agent's sign bytes (agent/wire) and sends them to
// its peers over the virtual network (reports.go); every honest node feeds
// the readings it verified, and its own, to an agent/audit Auditor and asks
// it for suspects every AuditEvery. Every decided op is an action
// (actions.go) with a performer and f+1 witnesses picked from agreed state:
// the performer drives its pin and sends the witnesses a signed outcome; a
// witness that watched the whole drive and saw the pin stay low accuses.
//
// An accusation is an entry signed by its accuser (ledger.go). The ledger,
// the agreed validator-set transition, ejects a node once f+1 current
// validators have accused it within the last accuseWindow heights, f being
// that of the set in force: at most f accusers are Byzantine, so one of
// them is honest. The audit judges a node only against 2f+1 others, so no
// collusion of f liars, whatever the network hides, drags the median away
// from the honest values: an honest sensor is an outlier only if it
// disagrees with honest ones by more than the audit's 2 °C tolerance in most
// samples, which ±0.3 °C of calibration and 0.2 °C of noise never approach.
// A witness accuses only what it watched whole. So no honest node accuses
// another (Result.Reports counts it if one ever does), and f accusers never
// reach f+1: the checker's "no honest node ejected" covers it.
//
// A run whose adversaries must be ejected (below) goes on past Heights until
// they are, the client slowing to one entry every lateEntryEvery once every
// honest node has caught up: the audit of readings needs 20 s of virtual
// time or more (ten judged samples), a few hundred heights at full pace.
//
// # Determinism
//
// There is no goroutine, no clock and no global randomness: one
// math/rand/v2 PCG seeded by Seed decides every delay, loss, duplication,
// tick phase and adversarial choice, and one event queue ordered by (virtual
// time, sequence number) decides what happens next. The same Config gives the
// same Result, bit for bit, apart from WallMS which the caller measures.
//
// # Faults
//
// While faults are active the network loses (Drop) and duplicates
// (Duplicate) deliveries, delays each one uniformly in [MinDelay, MaxDelay]
// (which also reorders them), cuts partitions (Partition), and crashes nodes
// (Crash): a crashed node loses everything in memory and restarts from its
// store through consensus.NewNode, at its last decided height + 1 with its
// persisted SignState. The fault phase ends at FaultsUntil, or once every
// running honest node has decided Heights; then every crashed node restarts
// and the network is perfect, and the run continues until every honest node
// has caught up (or MaxVirtualTime passes, which fails the liveness check).
//
// # Adversaries
//
// An adversary runs the real honest code with its own key; a Strategy
// transforms everything it sends (strategy.go, adversaries.go): silent,
// equivocate, forge, replay, twins (the key runs as two honest processes with
// different views of the network) and random. A ReportStrategy lies about the
// world instead (liars.go): lie-sensor signs false readings, false-outcome
// reports actions it never performed, rogue-act drives its pin with no
// assignment (caught by every honest node watching the pins, pins.go), and
// they all slander the same honest node together. Adversaries report, but
// never audit or witness. New
// strategies register in the strategies table; AppStrategy is the hook for
// adversaries that lie at the application level.
//
// # Checks
//
// After every run the checker (checker.go) verifies, over the honest nodes
// only: no two decided different blocks at any height; none signed two
// different proposals or votes for one height, round and type (every message
// is recorded as it leaves, across restarts); every decision carries a
// certificate that verifies against the validator set in force at its
// height; no honest node was ejected; after the faults ended every honest
// node caught up (liveness); and, when there are at most f adversaries,
// every one running a strategy the cluster must detect (equivocate,
// lie-sensor, false-outcome, rogue-act, mixed) was ejected by the end of the run
// ("not-ejected", which like liveness fails the run without being a safety
// violation). Violations are listed in the Result.
//
// # What it must never do
//
// Read a clock, start a goroutine, touch the file system or the network, or
// draw randomness from anywhere but the run's seed.
package sim
