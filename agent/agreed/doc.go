// Package agreed is the cluster's agreed state: the validator set, who was
// ejected and why, every node's committed capability document, and the
// action instances the cluster has handed out. It is the consensus core's
// Application: Validate judges the entries of a proposed block, Apply
// applies a decided one. Every honest node applies the same blocks in the
// same order, so every honest node holds the same State.
//
// Apply must stay deterministic: no clock, no randomness, no I/O, no map
// iteration whose order leaks into a result. The agent snapshots the state
// (JSON) into its store after every decided height and restores it on
// restart; a snapshot written before a field existed restores with it
// empty.
//
// # Entries
//
// Entries are JSON objects with a "type" and one payload:
//
//   - advertise: a signed capability document;
//   - admit: an operator-signed admission of a new validator;
//   - eject: the removal of a validator, with self-proving evidence;
//   - retire: an operator-signed removal of a validator that is gone or
//     changing its key; not a suspicion, and admit brings it back;
//   - assign: one action instance given to one performer. It carries what
//     asked for the work, so every validator can check it: an operator's
//     signed request, verbatim, or the signed readings of a quorum of
//     validators whose median fired the action's trigger;
//   - reassign: an open instance moved from its performer to the next
//     eligible node, because its deadline passed, it reported failure, or
//     it was ejected or retired;
//   - rearm: a quorum of signed readings whose median fell below the
//     trigger's re-arm threshold, so the trigger may fire again.
//
// The performer of an assign or reassign is not the proposer's choice:
// Eligible is a function of agreed state (validators, not ejected, whose
// committed document offers an output matching the action's needs in its
// zone; least recently assigned first, ties by a hash of the request id),
// and a proposal naming anyone else is invalid. The decided height of the
// latest assign or reassign of an instance is its fencing token.
//
// # Rules and local judgement
//
// The action catalogue comes from the cluster file and reaches the state
// through SetRules, called right after Genesis or Restore; without it,
// action entries are invalid. Rules also carry this node's clock and what
// it knows of outcomes. A few checks are a validator's own judgement of a
// proposal and may differ between honest nodes: the freshness of readings
// and requests, whether an instance's deadline has passed (counted from
// when this node applied it), and whether its outcome is known. Everything
// else is deterministic, and Apply never looks at the clock or outcomes.
//
// Replays are refused by agreed memory: request ids already assigned
// (Requests), readings no newer than those of the same node already used
// (ReadingsUsed), and the trigger's armed state (Disarmed). The memory is
// bounded (MaxAssigned, MaxRequests); beyond it the requests' time to live
// refuses old requests.
//
// # Building entries
//
// AssignRequest, AssignTrigger, RearmTrigger and ReassignInstance build
// the entry a node proposes and return it only if Validate would accept it
// now. TriggerCheck tells, from the latest readings a node holds, whether a
// trigger should fire or re-arm, and which readings to put in the entry.
package agreed
