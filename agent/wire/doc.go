// Package wire is the MQTT contract of DESIGN.md §4 as Go values: the
// topics under pact/<cluster>/, the payloads published on them, their
// strict decoders, and the signatures that make requests, outcomes and
// readings checkable by anyone holding the signer's public key.
//
// It knows nothing of brokers or clients: package report publishes these
// payloads with paho, the agreed state verifies signed requests and
// readings inside a proposal with the same code, and `pact watch` checks
// what it receives with it.
//
// # What it must never do
//
//   - Import an MQTT client, the network or the agent: the consensus
//     application (agent/agreed) depends on it.
//   - Accept a payload loosely: unknown members, trailing data, oversized
//     input and out-of-form fields are ErrMalformed.
package wire
