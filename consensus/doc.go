// Package consensus is pact's Byzantine-fault-tolerant agreement: a compact
// Tendermint-style algorithm (Buchman, Kwon, Milosevic 2018, "The latest
// gossip on BFT consensus", Algorithm 1) written as a pure, deterministic
// state machine in the style of etcd-io/raft.
//
// # What it decides
//
// The cluster decides one Block per height: an ordered batch of opaque
// application entries (the agent puts capability adverts, action
// assignments, reassignments, ejections and admissions in them). Up to f of
// n = 3f+1 validators may lie, equivocate or fall silent; as long as the
// others follow the protocol, no two honest nodes ever decide different
// blocks at one height (safety, whatever the timing), and once messages
// between honest nodes arrive in bounded time every height decides
// (liveness). The validator set may change through decided entries, from the
// next height on: Application.Apply returns the set in force at height+1.
//
// # The protocol
//
// Each height runs in rounds. In round r the proposer — round-robin over the
// sorted validator set, shifted by the height — proposes a block. Validators
// prevote for it if the application accepts it and they are not locked on
// another block, and for nil otherwise. 2f+1 prevotes for a block (a polka)
// make a validator lock on it and precommit it; 2f+1 precommits for a block
// decide it and form its commit certificate. Timeouts that grow with the
// round move a stuck round on; locks (lockedValue/lockedRound) keep a block
// that may have been decided from being replaced, and validValue/validRound
// let a later proposer re-propose the block that had a polka. f+1 messages
// from a later round pull a node into that round.
//
// Two things are pact's own. An idle height is quiet: a node with nothing
// pending that has heard nothing at its height runs no timeouts and sends no
// votes, so a cluster with no work sends only a rare height heartbeat
// (Config.StatusTicks). And catch-up is part of the core: a node that hears a
// message from a height it has left answers with commits, and a node that
// hears of a later height asks with a Status; commits are accepted only with
// a certificate that verifies against the validator set of their height.
//
// The paper assumes a gossip layer that eventually hands every honest node
// every message any honest node received; pact's transport is point to point
// and best-effort. Three mechanisms stand in for that gossip (relay.go), each
// added when the simulator found a permanent stall without it: a node
// re-sends its own messages every RebroadcastTicks and, once a round is slow,
// relays every message it holds of that round (signed by their authors, so
// relaying needs no trust); a proposer re-proposing a block sends the
// prevotes that justify it (sendPOL); and a node restarted mid-round re-sends
// the vote its guard holds (resumeVote). An equivocator's second prevote is
// kept (never counted in the tally) so that a polka it took part in is still
// recognised — safe, since two polkas for different blocks would need an
// honest validator in both.
//
// # Driving it
//
// One goroutine owns a Node. It calls Step for every message received, Tick
// at a fixed interval (the agent uses 100 ms), and Propose to hand in
// entries. After any of those it drains the output:
//
//	rd := node.Ready()
//	if rd.SignState != nil { persist and fsync it }   // before any message leaves
//	for _, c := range rd.Decided { persist and apply c }
//	for _, m := range rd.Messages { send m }          // To == "" means everyone
//	for _, e := range rd.Evidence { report e }
//	node.Advance()
//
// After a restart, NewNode takes the first undecided height, the validator
// set in force there and the persisted SignState (Config.LastSigned).
//
// # Invariants
//
//   - The double-sign guard: the node never signs a proposal or vote at an
//     earlier (height, round, step) than its last signature, nor a different
//     one at the same (height, round, step). The guard and the lock travel
//     together in SignState, and Ready hands it out to be made durable before
//     any message signed under it may leave.
//   - Every message is verified before it changes state: the sender is in
//     the validator set of the message's height, the signature verifies over
//     SignBytes (domain, cluster, type, height, round, value), a proposal
//     comes from the round's proposer and carries the block it names. Anything
//     else is refused with an error and counted in Stats; it changes nothing.
//   - Two conflicting signed messages from one validator for the same
//     (height, round, type) become Evidence, which anyone holding the
//     validator's public key can verify. The first message keeps counting;
//     the second is never counted.
//   - Memory is bounded: messages are kept for the current height only (and
//     a few per peer for the next), for at most MaxRoundsAhead rounds ahead;
//     commits for at most 2·CatchUpBatch heights ahead.
//
// # What it must never do
//
// No I/O, no goroutines, no wall clock, no global randomness: time arrives as
// Tick, and the only inputs are Step, Tick and Propose. A test enforces the
// import list. That is what makes every Byzantine scenario in consensus/sim
// reproducible from a seed.
package consensus
