// Package agreed is the cluster's agreed state: the validator set, who was
// ejected and why, every node's committed capability document. It is the
// consensus core's Application: Validate judges the entries of a proposed
// block, Apply applies a decided one. Every honest node applies the same
// blocks in the same order, so every honest node holds the same State.
//
// It must stay deterministic: no clock, no randomness, no I/O, no map
// iteration whose order leaks into a result. The agent snapshots it (JSON)
// into its store after every decided height and restores it on restart.
//
// Entries are JSON objects with a "type": `advertise` (a signed capability
// document), `admit` (an operator-signed admission of a new validator) and
// `eject` (the removal of a validator, with self-proving evidence). Later
// entry types (assign, reassign) are added here too.
package agreed
