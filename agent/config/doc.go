// Package config reads, checks and writes pact's two configuration files.
//
// The cluster file (Cluster) is shared, byte for byte, by every node of a
// cluster: its name, the gossip encryption key, the genesis validators
// (node name → Ed25519 public key), the operators' keys, the consensus
// timings, memberlist tuning and the action catalogue. The agent file
// (Agent, /etc/pact/pact.yaml) is one node's: its name, where its cluster
// file, data and key are, its addresses and seeds, MQTT, hardware and
// logging. configs/ in the repository has both, with every key commented.
//
// # Loading
//
//	a, c, err := config.Load("/etc/pact/pact.yaml")
//	if err != nil {
//		for _, p := range config.Problems(err) { … } // or print err: one problem a line
//	}
//	for _, w := range config.Warnings(a, c) { log it }
//
// Load reads the agent file, resolves its relative paths against the agent
// file's directory (so a testnet directory can move), fills in defaults,
// reads the cluster file it names, and validates both. Every problem of
// both files comes back at once: unknown keys and values of the wrong type
// from the YAML decoder (which runs with KnownFields, so a misspelt key is
// an error, never silently ignored), then every rule Validate knows. Each is
// a *Problem that prints as FILE:LINE: KEY.PATH: message.
//
// Defaults: a key that is absent takes its default, documented on each
// field; DefaultAgent and DefaultCluster hold them, and decoding happens on
// top of them, so an explicit value always wins and an explicit zero is
// checked like any other value. Inside map and list entries (actions,
// outputs) a zero value means "the default", because those entries cannot
// be pre-filled; ApplyDefaults fills them.
//
// Warnings are legal settings that are probably mistakes (a node that is
// not a genesis validator, an admin API open to the network, an adversary
// mode). They never stop the agent; Warnings returns them.
//
// # What it must never do
//
// It never writes a file the caller did not ask for, never touches the
// identity key (package identity owns it; CheckIdentity only compares a
// public key), and never accepts a file with a key it does not know: a
// typo in a safety setting must not fall back to a default without a word.
package config
