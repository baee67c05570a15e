// Package agent is the runtime of `pact agent`: it turns the consensus core
// into a node on a real network.
//
// One goroutine — Run's loop — owns the node's mutable state: the consensus
// Node, the agreed State, the local capability document. Everything else
// (memberlist's goroutines, the transport's verifiers, the admin server)
// talks to it through channels, or reads an atomic snapshot (the view) that
// the loop publishes after every decision.
//
// What the loop does with each consensus Ready is the heart of crash safety:
// the guard, the decided commits and the new agreed state are written to the
// store in one fsynced transaction, and only then do the Ready's messages
// leave. A store that cannot be written stops the node from signing; it
// never starts fresh.
//
// Gossip is a hint, never truth. memberlist tells the agent who is
// reachable; the decided log says who votes. Ejected nodes are refused by
// the membership gate, and a node claiming a validator's name with another
// key in its meta is refused too. A node outside the validator set is
// visible as a candidate until an operator admits it.
//
// Sub-packages: membership (memberlist, mDNS), transport (framing,
// verification, rate limits), store (bbolt), config (the YAML files),
// identity (the key file), capability (signed documents), agreed (the
// replicated state machine).
package agent
