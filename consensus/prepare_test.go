package consensus

import (
	"fmt"
	"strings"
	"testing"
)

// prepApp prepares blocks: it upper-cases "x" entries (a rebuilt version),
// discards "stale" ones, and refuses lower-case "x" entries in a block,
// so a block is valid only if Prepare built it.
type prepApp struct {
	prepared int
	broken   bool // build a block that does not validate
	decided  map[string]bool
}

func (a *prepApp) Validate(_ uint64, entries []Entry) error {
	for _, e := range entries {
		if strings.HasPrefix(string(e), "x") || string(e) == "stale" {
			return fmt.Errorf("unprepared entry %q", e)
		}
	}
	return nil
}

func (a *prepApp) Apply(_ uint64, entries []Entry, cur *ValidatorSet) *ValidatorSet {
	if a.decided == nil {
		a.decided = map[string]bool{}
	}
	for _, e := range entries {
		a.decided[string(e)] = true
	}
	return cur
}

func (a *prepApp) Prepare(_ uint64, pending []Entry) (block, discard []Entry) {
	a.prepared++
	for _, e := range pending {
		switch {
		case string(e) == "stale", a.decided[strings.ToUpper(string(e))] || a.decided[string(e)]:
			discard = append(discard, e)
		case a.broken:
			block = append(block, e)
		default:
			block = append(block, Entry(strings.ToUpper(string(e))))
		}
	}
	return block, discard
}

func singleNode(t *testing.T, app Application) *Node {
	t.Helper()
	vs, err := NewValidatorSet([]Validator{{ID: "n0", PubKey: PublicKey("n0")}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Cluster, cfg.ID, cfg.Signer, cfg.Verifier, cfg.App, cfg.Validators = "c", "n0", FakeSigner{Key: PublicKey("n0")}, FakeVerifier{}, app, vs
	n, err := NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// runAlone drives a one-validator node until it has nothing to do and
// returns what it decided.
func runAlone(n *Node) []Commit {
	var decided []Commit
	for n.HasReady() {
		rd := n.Ready()
		decided = append(decided, rd.Decided...)
		for _, m := range rd.Messages {
			if m.To == "" || m.To == "n0" {
				mm := m
				_ = n.Step(&mm)
			}
		}
		n.Advance()
	}
	return decided
}

func TestPreparer_BuildsTheBlockAndDiscards(t *testing.T) {
	app := &prepApp{}
	n := singleNode(t, app)
	n.Propose(Entry("x1"), Entry("stale"), Entry("x2"))
	decided := runAlone(n)
	if len(decided) != 1 {
		t.Fatalf("decided %d heights, want 1", len(decided))
	}
	got := decided[0].Block.Entries
	if len(got) != 2 || string(got[0]) != "X1" || string(got[1]) != "X2" {
		t.Errorf("block %q, want the prepared [X1 X2]", got)
	}
	// x1 and x2 stayed pending (the block held their rebuilt versions)
	// until the application discarded them, at the next Prepare.
	n.Propose(Entry("x3"))
	if d := runAlone(n); len(d) != 1 || len(d[0].Block.Entries) != 1 || string(d[0].Block.Entries[0]) != "X3" {
		t.Fatalf("next height: %+v", d)
	}
	// The node looked for more work at the next height: Prepare discarded
	// x3 as decided too.
	if st := n.Status(); st.Pending != 0 {
		t.Errorf("pending %d, want 0", st.Pending)
	}
	if n.Stats().DroppedEntries != 4 {
		t.Errorf("dropped %d, want 4 (stale, x1, x2, x3)", n.Stats().DroppedEntries)
	}
}

func TestPreparer_BadBlockFallsBack(t *testing.T) {
	app := &prepApp{broken: true}
	n := singleNode(t, app)
	n.Propose(Entry("xbad"), Entry("fine"))
	decided := runAlone(n)
	if len(decided) != 1 || len(decided[0].Block.Entries) != 1 || string(decided[0].Block.Entries[0]) != "fine" {
		t.Fatalf("decided %+v", decided)
	}
	if n.Stats().BadPreparedBlocks == 0 {
		t.Error("the broken prepared block was not counted")
	}
}
