package consensus

import "fmt"

// SignState is the double-sign guard: the last vote or proposal this node
// signed, and the lock it held then. It must reach durable storage (fsynced)
// before any message signed with it leaves the node — Ready hands it out for
// exactly that — and be given back in Config.LastSigned after a restart. A
// node restored from it refuses to sign anything at an earlier (height, round,
// step), or anything different at the same one, and keeps honouring its lock.
type SignState struct {
	Height    uint64
	Round     int32
	Step      Step
	BlockHash Hash
	POLRound  int32

	// LockedRound and LockedHash are the node's lock (Tendermint's
	// lockedRound/lockedValue) at Height; LockedRound is -1 when unlocked.
	// A lock only changes when the node signs a precommit, so it travels
	// with the guard.
	LockedRound int32
	LockedHash  Hash
}

func (s SignState) String() string {
	return fmt.Sprintf("h=%d r=%d %s %s lock=%d/%s", s.Height, s.Round, s.Step, s.BlockHash, s.LockedRound, s.LockedHash)
}

// compareHRS orders (height, round, step) triples.
func compareHRS(h1 uint64, r1 int32, s1 Step, h2 uint64, r2 int32, s2 Step) int {
	switch {
	case h1 != h2:
		if h1 < h2 {
			return -1
		}
		return 1
	case r1 != r2:
		if r1 < r2 {
			return -1
		}
		return 1
	case s1 != s2:
		if s1 < s2 {
			return -1
		}
		return 1
	}
	return 0
}

// permits reports whether a node whose guard is s may sign a message of
// type t at (height, round) for blockHash with polRound.
func (s SignState) permits(height uint64, round int32, t MsgType, blockHash Hash, polRound int32) bool {
	if s.Step == 0 {
		return true // never signed
	}
	switch compareHRS(height, round, stepOf(t), s.Height, s.Round, s.Step) {
	case 1:
		return true
	case 0:
		// The same message again (a re-send after a restart): Ed25519 is
		// deterministic, so the signature is identical and conflicts with
		// nothing.
		return blockHash == s.BlockHash && polRound == s.POLRound
	}
	return false
}
