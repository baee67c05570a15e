// Package bench holds pact's comparative benchmarks: pact against a
// hashicorp/raft cluster of the same size, in the same run, with the same
// durability, and against the floor the protocol cannot go below. It has no
// code of its own outside its test files; docs/BENCHMARKS.md ("Pact against
// Raft") reports the figures and says how they were taken.
//
// # What is compared
//
//   - Decision latency (BenchmarkDecisionLatency): one entry at a time, from
//     handing it to the cluster to its decision (pact: persisted and applied
//     by the height's proposer; raft: Apply's future returning on the
//     leader), for n = 4 and 7, with every node's state in memory or in a
//     bbolt file that fsyncs every write. Beside them, the floor: three
//     one-way delays of pact's transport, the Ed25519 verifications a
//     decision needs, and one fsync, each measured in the same run.
//   - Throughput (BenchmarkThroughput): thousands of entries handed over at
//     once; pact batches them into blocks, raft into AppendEntries batches.
//   - Outcome delivery (BenchmarkOutcomeDelivery): a decided outcome through
//     agent/report's Reporter to a subscriber on a real mosquitto, against a
//     bare paho QoS 1 round, and a 5,000-outcome burst.
//   - Crash detection (BenchmarkCrashDetection): five member processes on
//     loopback, SIGKILL one, until every survivor lists it dead, with pact's
//     memberlist profile and memberlist's LAN defaults; false suspicions
//     during a 10 s SIGSTOP.
//   - Bytes on the wire (BenchmarkWire): four real agents in-process on
//     loopback sockets, idle and at 10 requests/s, against four bare
//     memberlist instances configured the same way.
//   - Scale (BenchmarkScale): the simulator at n = 4 … 64 (decisions per
//     second, messages and CPU per decision) and memberlist convergence for
//     10, 50 and 100 instances in one process.
//
// make bench also runs scripts/footprint.sh (binary size, memory and CPU of
// an agent idle and after ten minutes at 10 requests/s) and tabulates it.
//
// For latency and throughput both clusters run inside the test process over
// in-memory transports:
// pact's agent/transport over its MemoryNetwork (decode, rate limit,
// verification workers, the Inbound channel: everything but the sockets),
// raft over its InmemTransport. Neither crosses a socket, so the
// comparison is of the protocols and their storage, not of memberlist
// against raft's TCP transport.
//
// # Running them
//
//	go test -run '^$' -bench . ./bench/
//	make bench                        # the same, then the table of ratios
//	make bench BENCH=DecisionLatency  # one family
//
// PACT_BENCH_DIR puts the state files (and the fsync probe) in another
// directory, e.g. on the disk under test; the default is the test's
// temporary directory. Nothing here runs without -bench: the tests in this
// package only check, quickly, that the clusters decide.
package bench
