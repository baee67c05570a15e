package agent

import (
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/consensus"
)

// A peer's height is the highest it proposed, voted or reported at; a
// commit it serves says nothing of it. A peer more than junkLag heights
// behind is catching up, and its refused entries are not held against it.
func TestCatchingUp(t *testing.T) {
	a := &Agent{peerHeights: map[string]uint64{}, junk: map[string]*junkCount{}, decidedAt: map[[32]byte]time.Time{}, state: &agreed.State{Height: 40}}
	a.notePeerHeight("n2", &consensus.Message{Type: consensus.MsgPrevote, Height: 39})
	a.notePeerHeight("n2", &consensus.Message{Type: consensus.MsgStatus, Height: 12}) // an old one, late
	a.notePeerHeight("n3", &consensus.Message{Type: consensus.MsgStatus, Height: 12})
	a.notePeerHeight("n3", &consensus.Message{Type: consensus.MsgCommit, Height: 39})
	for _, tc := range []struct {
		peer string
		want bool
	}{{"n2", false}, {"n3", true}, {"n4", true}} {
		if got := a.catchingUp(tc.peer); got != tc.want {
			t.Errorf("catchingUp(%s) = %v (height %d), want %v", tc.peer, got, a.peerHeights[tc.peer], tc.want)
		}
	}
	a.refusedEntry("n3", nil, consensus.Entry("not an entry"))
	if a.junk["n3"] != nil {
		t.Error("a refused entry of a peer catching up was counted")
	}
	a.refusedEntry("n2", nil, consensus.Entry("not an entry"))
	if c := a.junk["n2"]; c == nil || c.refused != 1 {
		t.Errorf("a refused entry of a peer at the height was not counted: %+v", c)
	}
}
