package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

func TestSaveReady_PersistsEverythingTogether(t *testing.T) {
	s := openTest(t, nil)
	g := testGuard(3, 0, consensus.StepPropose)
	decided := []consensus.Commit{testCommit(1, 7, 0), testCommit(2, 7, 0)}
	snap := &Snapshot{Height: 2, Data: []byte("validators: pi-0..pi-6")}
	if err := s.SaveReady(&g, decided, snap); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, nil)
	if got, err := s.Guard(); err != nil || got != g {
		t.Errorf("Guard() = %v, %v; want %v", got, err, g)
	}
	if h := s.LastHeight(); h != 2 {
		t.Errorf("LastHeight() = %d, want 2", h)
	}
	for i := range decided {
		c, ok := s.Commit(decided[i].Block.Height)
		if !ok || !commitsEqual(c, &decided[i]) {
			t.Errorf("Commit(%d) = %v, %v; want what was saved", decided[i].Block.Height, c, ok)
		}
	}
	if _, ok := s.Commit(3); ok {
		t.Error("Commit(3) found a height never decided")
	}
	got, err := s.Snapshot()
	if err != nil || got.Height != snap.Height || string(got.Data) != string(snap.Data) {
		t.Errorf("Snapshot() = %+v, %v; want %+v", got, err, snap)
	}
}

func TestSaveReady_Refusals(t *testing.T) {
	later := testGuard(9, 0, consensus.StepPropose)
	for _, tc := range []struct {
		name     string
		guard    *consensus.SignState
		decided  []consensus.Commit
		snapshot *Snapshot
		err      error
	}{
		{"next height", nil, []consensus.Commit{testCommit(4, 7, 0)}, nil, nil},
		{"a stored height again, same block", nil, []consensus.Commit{testCommit(3, 7, 0)}, nil, nil},
		{"a stored height again, another certificate", nil, []consensus.Commit{testCommit(3, 5, 0)}, nil, nil},
		{"snapshot at the last height", nil, nil, &Snapshot{Height: 3}, nil},
		{"a gap", nil, []consensus.Commit{testCommit(5, 7, 0)}, nil, ErrRefused},
		{"height zero", nil, []consensus.Commit{testCommit(0, 7, 0)}, nil, ErrRefused},
		{"a fork", nil, []consensus.Commit{testCommit(2, 7, 1)}, nil, ErrRefused},
		{"snapshot of an undecided height", nil, nil, &Snapshot{Height: 4}, ErrRefused},
		{"snapshot older than the stored one", nil, nil, &Snapshot{Height: 1}, ErrRefused},
		{"guard going back", &consensus.SignState{Height: 1, Step: consensus.StepPropose}, nil, nil, ErrRefused},
		// One bad part refuses the whole Ready: the later guard is not saved.
		{"good guard, bad commit", &later, []consensus.Commit{testCommit(5, 7, 0)}, nil, ErrRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, nil)
			g := testGuard(4, 0, consensus.StepPropose)
			if err := s.SaveReady(&g, []consensus.Commit{testCommit(1, 7, 0), testCommit(2, 7, 0), testCommit(3, 7, 0)}, &Snapshot{Height: 2}); err != nil {
				t.Fatal(err)
			}
			err := s.SaveReady(tc.guard, tc.decided, tc.snapshot)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("SaveReady: %v, want %v", err, tc.err)
			}
			if tc.err == nil {
				return
			}
			if got, _ := s.Guard(); got != g {
				t.Errorf("refused Ready changed the guard to %v", got)
			}
			if h := s.LastHeight(); h != 3 {
				t.Errorf("refused Ready changed LastHeight to %d", h)
			}
			if snap, _ := s.Snapshot(); snap.Height != 2 {
				t.Errorf("refused Ready changed the snapshot to h=%d", snap.Height)
			}
			if s.Err() != nil {
				t.Errorf("a refused Ready made the store unusable: %v", s.Err())
			}
		})
	}
}

func TestSaveReady_KeepsTheCertificateItHas(t *testing.T) {
	s := openTest(t, nil)
	first := testCommit(1, 7, 0)
	if err := s.SaveReady(nil, []consensus.Commit{first}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveReady(nil, []consensus.Commit{testCommit(1, 5, 0)}, nil); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Commit(1); len(c.Votes) != 7 {
		t.Errorf("stored certificate has %d votes, want the first one's 7", len(c.Votes))
	}
}

func TestSaveReady_Compaction(t *testing.T) {
	const keep = 5
	for _, tc := range []struct {
		name       string
		snapshotAt uint64 // 0: no snapshot
		last       uint64
		wantFirst  uint64
	}{
		{"no snapshot keeps everything", 0, 20, 1},
		{"snapshot at the end keeps the window", 20, 20, 16},
		{"an old snapshot keeps the commits after it", 8, 20, 8},
		{"window not yet full", 3, 4, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, &Options{KeepHeights: keep})
			for h := uint64(1); h <= tc.last; h++ {
				var snap *Snapshot
				if h == tc.snapshotAt {
					snap = &Snapshot{Height: h, Data: []byte{byte(h)}}
				}
				if err := s.SaveReady(nil, []consensus.Commit{testCommit(h, 4, 0)}, snap); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Commits(0, tc.last+10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || got[0].Block.Height != tc.wantFirst || got[len(got)-1].Block.Height != tc.last {
				t.Fatalf("stored heights %d..%d, want %d..%d", got[0].Block.Height, got[len(got)-1].Block.Height, tc.wantFirst, tc.last)
			}
			for i := range got {
				if got[i].Block.Height != tc.wantFirst+uint64(i) {
					t.Fatalf("stored heights have a gap at %d", got[i].Block.Height)
				}
			}
		})
	}
}

func TestSaveReady_CompactionAfterLoweringKeepHeights(t *testing.T) {
	s := openTest(t, &Options{KeepHeights: 5000})
	const n = 3000
	for h := uint64(1); h <= n; h += 500 {
		var batch []consensus.Commit
		for i := h; i < h+500; i++ {
			batch = append(batch, testCommit(i, 1, 0))
		}
		if err := s.SaveReady(nil, batch, &Snapshot{Height: h + 499}); err != nil {
			t.Fatal(err)
		}
	}
	s = reopen(t, s, &Options{KeepHeights: 10})
	// Each Ready deletes at most maxCompactPerSave commits.
	var first uint64
	for h := uint64(n + 1); ; h++ {
		if err := s.SaveReady(nil, []consensus.Commit{testCommit(h, 1, 0)}, &Snapshot{Height: h}); err != nil {
			t.Fatal(err)
		}
		c, err := s.Commits(0, h)
		if err != nil {
			t.Fatal(err)
		}
		if first == c[0].Block.Height {
			t.Fatalf("compaction stalled at %d", first)
		}
		first = c[0].Block.Height
		if first == h-9 {
			break
		}
		if first > h-9 {
			t.Fatalf("compaction went past the window: first %d at last %d", first, h)
		}
	}
}

func TestCommits_Range(t *testing.T) {
	s := openTest(t, nil)
	var all []consensus.Commit
	for h := uint64(1); h <= 10; h++ {
		all = append(all, testCommit(h, 3, 0))
	}
	if err := s.SaveReady(nil, all, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ from, to, first, n uint64 }{
		{3, 5, 3, 3},
		{0, 100, 1, 10},
		{10, 10, 10, 1},
		{11, 20, 0, 0},
		{5, 4, 0, 0},
	} {
		got, err := s.Commits(tc.from, tc.to)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(got)) != tc.n || (tc.n > 0 && got[0].Block.Height != tc.first) {
			t.Errorf("Commits(%d, %d): %d commits, want %d from %d", tc.from, tc.to, len(got), tc.n, tc.first)
		}
		for i := range got {
			if !commitsEqual(&got[i], &all[got[i].Block.Height-1]) {
				t.Errorf("Commits(%d, %d)[%d] differs from what was saved", tc.from, tc.to, i)
			}
		}
	}
}

// The store serves a lagging node through the consensus core's CommitLog.
func TestCommitLog_ServesCatchUp(t *testing.T) {
	s := openTest(t, nil)
	var log consensus.CommitLog = s
	c := testCommit(1, 7, 0)
	if err := s.SaveReady(nil, []consensus.Commit{c}, nil); err != nil {
		t.Fatal(err)
	}
	got, ok := log.Commit(1)
	if !ok || !commitsEqual(got, &c) {
		t.Fatalf("Commit(1) = %v, %v", got, ok)
	}
	if _, ok := log.Commit(2); ok {
		t.Error("Commit(2) found an undecided height")
	}
}

func TestSaveReady_EmptyReadyWritesNothing(t *testing.T) {
	s := openTest(t, nil)
	if err := s.SaveReady(nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveReady(nil, nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("empty SaveReady on a closed store: %v, want ErrClosed", err)
	}
}

// Peers' catch-up reads run while the owner writes: a lookup of any height
// at or below LastHeight finds it.
func TestCommitLog_ReadsDuringWrites(t *testing.T) {
	s := openTest(t, &Options{KeepHeights: 1000})
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for {
			select {
			case <-done:
				return
			default:
			}
			if h := s.LastHeight(); h > 0 {
				if _, ok := s.Commit(h); !ok {
					errs <- fmt.Errorf("Commit(%d) missing though LastHeight is %d", h, h)
					return
				}
			}
		}
	}()
	for h := uint64(1); h <= 50; h++ {
		if err := s.SaveReady(nil, []consensus.Commit{testCommit(h, 7, 0)}, &Snapshot{Height: h}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}
