package agent

import (
	"fmt"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/store"
)

// Snapshots of the agreed state
//
// The store holds the agreed state as a snapshot plus the commits decided
// after it (store.SaveReady keeps every commit from the snapshot's height
// on). Writing the snapshot with every decided block would cost a write of
// the whole state — thousands of assignment and request records under load —
// per decision, on the critical path; so it is written every snapshotEvery
// heights, and at a clean stop, and a start replays the few commits after
// it.

// snapshotEvery is how many heights the stored snapshot may lag behind.
const snapshotEvery = 64

// replayCommits applies to s the stored commits above its height: those
// decided after the last snapshot. Their certificates were checked when
// they were decided, and the store verified their checksums when it opened.
func replayCommits(st *store.Store, s *agreed.State) error {
	last := st.LastHeight()
	if last <= s.Height {
		return nil
	}
	commits, err := st.Commits(s.Height+1, last)
	if err != nil {
		return err
	}
	for i := range commits {
		c := &commits[i]
		if c.Block.Height != s.Height+1 {
			return fmt.Errorf("the stored log misses height %d after the snapshot (it resumes at %d)", s.Height+1, c.Block.Height)
		}
		s.Apply(c.Block.Height, c.Block.Entries, s.ValidatorSet())
	}
	if s.Height != last {
		return fmt.Errorf("the stored log ends at height %d, the agreed state at %d", last, s.Height)
	}
	return nil
}

// saveSnapshot writes the agreed state when the stored snapshot is behind
// it; at a clean stop, so that the next start replays nothing. Loop
// goroutine (or after the loop ended).
func (a *Agent) saveSnapshot() {
	if a.halted != nil || a.state.Height <= a.snapHeight {
		return
	}
	snap := &store.Snapshot{Height: a.state.Height, Data: a.state.Snapshot()}
	if err := a.store.SaveReady(nil, nil, snap); err != nil {
		a.log.Error("cannot save the agreed state; the next start replays the log since the last snapshot", "err", err)
		return
	}
	a.snapHeight = snap.Height
}
