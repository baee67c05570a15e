package agreed

import (
	"github.com/seed44533760/pact/consensus"
)

// Assignments within a block
//
// Entries of one block are judged in order, and an assignment counts for
// the ones after it: the second request of a block goes to the node least
// recently assigned once the first has gone, and so on, so a burst of
// requests is spread over every eligible node instead of landing on the one
// that was idle before the block. Which node an assignment names therefore
// depends on its place in the block, and only the proposer knows the block:
// Prepare (consensus.Preparer) rebuilds every assignment in its pending
// list against the state and the entries before it. Entries that can no
// longer be decided (a request already assigned, an advert superseded) are
// forgotten; their authors propose them again if they still want them.

var _ consensus.Preparer = (*State)(nil)

// Prepare implements consensus.Preparer.
func (s *State) Prepare(height uint64, pending []consensus.Entry) (block, discard []consensus.Entry) {
	if height != s.Height+1 {
		return nil, nil
	}
	s.inBlock = map[string]uint64{}
	defer func() { s.inBlock = nil }()
	seen := map[string]bool{}
	for _, raw := range pending {
		e, err := Decode(raw)
		if err != nil {
			discard = append(discard, raw)
			continue
		}
		if e, err = s.rebuild(e); err != nil {
			discard = append(discard, raw)
			continue
		}
		out := e.Encode()
		keys, err := s.check(e)
		if err != nil {
			discard = append(discard, raw)
			continue
		}
		clash := false
		for _, k := range keys {
			clash = clash || seen[k]
		}
		if clash {
			continue // another version of the same work is in the block
		}
		for _, k := range keys {
			seen[k] = true
		}
		s.countInBlock(height, e)
		block = append(block, out)
	}
	return block, discard
}

// rebuild builds an assign or reassign entry again against the state and
// the block so far; other entries are what they are.
func (s *State) rebuild(e *Entry) (*Entry, error) {
	switch e.Type {
	case TypeAssign:
		if e.Assign.Request != nil {
			return s.AssignRequest(e.Assign.Request)
		}
		return s.AssignTrigger(e.Assign.Action, e.Assign.Trigger)
	case TypeReassign:
		return s.ReassignInstance(e.Reassign.Instance, e.Reassign.Reason)
	}
	return e, nil
}

// countInBlock makes an assignment of the block count for the entries after
// it: its performer is, for them, assigned at height.
func (s *State) countInBlock(height uint64, e *Entry) {
	if s.inBlock == nil {
		return
	}
	switch e.Type {
	case TypeAssign:
		s.inBlock[e.Assign.Performer] = height
	case TypeReassign:
		s.inBlock[e.Reassign.Performer] = height
	}
}

// lastAssigned is when node was last assigned work, counting the entries of
// the block being judged.
func (s *State) lastAssigned(node string) uint64 {
	if h, ok := s.inBlock[node]; ok {
		return h
	}
	return s.LastAssigned[node]
}
