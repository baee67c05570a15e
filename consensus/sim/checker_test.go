package sim

import (
	"reflect"
	"strings"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

// fixture is a genesis of 4 validators (n with newFixtureN) with fake keys
// and a way to make certified commits.
type fixture struct {
	signers map[consensus.NodeID]consensus.Signer
	genesis *consensus.ValidatorSet
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureN(t, 4)
}

// newFixtureN is newFixture with n validators.
func newFixtureN(t *testing.T, n int) *fixture {
	t.Helper()
	f := &fixture{signers: make(map[consensus.NodeID]consensus.Signer)}
	var vals []consensus.Validator
	for i := 1; i <= n; i++ {
		s := consensus.FakeSigner{Key: consensus.PublicKey(keySeed(1, i))}
		f.signers[NodeName(i)] = s
		vals = append(vals, consensus.Validator{ID: NodeName(i), PubKey: s.PublicKey()})
	}
	vs, err := consensus.NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	f.genesis = vs
	return f
}

func (f *fixture) vote(id consensus.NodeID, t consensus.MsgType, h uint64, r int32, hash consensus.Hash) consensus.Message {
	m := consensus.Message{Type: t, From: id, Height: h, Round: r, BlockHash: hash}
	m.Signature = f.signers[id].Sign(consensus.SignBytes("sim", &m))
	return m
}

// commit certifies a block of entries at height h with precommits from
// voters.
func (f *fixture) commit(h uint64, voters []int, entries ...string) consensus.Commit {
	b := consensus.Block{Height: h}
	for _, e := range entries {
		b.Entries = append(b.Entries, consensus.Entry(e))
	}
	c := consensus.Commit{Block: b}
	for _, i := range voters {
		m := f.vote(NodeName(i), consensus.MsgPrecommit, h, 0, b.Hash())
		c.Votes = append(c.Votes, consensus.CommitVote{From: m.From, Signature: m.Signature})
	}
	return c
}

func kinds(c *checker) []string {
	var out []string
	for _, v := range c.violations {
		out = append(out, v.Kind)
	}
	return out
}

func TestChecker_CleanLogsPass(t *testing.T) {
	f := newFixture(t)
	c := newChecker("sim", f.genesis, consensus.FakeVerifier{})
	logs := map[consensus.NodeID][]consensus.Commit{
		"node-1": {f.commit(1, []int{1, 2, 3}, "op/a"), f.commit(2, []int{2, 3, 4}, "op/b")},
		"node-2": {f.commit(1, []int{1, 2, 4}, "op/a")}, // behind, other voters: fine
	}
	c.checkLogs(logs)
	if len(c.violations) != 0 {
		t.Fatalf("violations on clean logs: %v", c.violations)
	}
}

// TestChecker_FlagsDisagreement injects two different decisions at one
// height: the checker itself must be able to fail.
func TestChecker_FlagsDisagreement(t *testing.T) {
	f := newFixture(t)
	c := newChecker("sim", f.genesis, consensus.FakeVerifier{})
	c.checkLogs(map[consensus.NodeID][]consensus.Commit{
		"node-1": {f.commit(1, []int{1, 2, 3}, "op/a"), f.commit(2, []int{1, 2, 3}, "op/b")},
		"node-2": {f.commit(1, []int{1, 2, 3}, "op/a"), f.commit(2, []int{1, 2, 4}, "op/c")},
	})
	if got := kinds(c); len(got) != 1 || got[0] != "agreement" || !strings.Contains(c.violations[0].Detail, "height 2") {
		t.Fatalf("violations = %v, want one agreement violation at height 2", c.violations)
	}
	if c.safetyCount() != 1 {
		t.Errorf("safety count = %d, want 1", c.safetyCount())
	}
}

func TestChecker_FlagsBadCertificates(t *testing.T) {
	f := newFixture(t)
	short := f.commit(1, []int{1, 2}, "op/a") // 2 of the 3 needed
	forged := f.commit(1, []int{1, 2, 3}, "op/a")
	forged.Votes[2].Signature = forged.Votes[1].Signature // node-3's vote signed by node-2
	for name, cm := range map[string]consensus.Commit{"too few votes": short, "forged vote": forged} {
		c := newChecker("sim", f.genesis, consensus.FakeVerifier{})
		c.checkLogs(map[consensus.NodeID][]consensus.Commit{"node-1": {cm}})
		if got := kinds(c); len(got) != 1 || got[0] != "certificate" {
			t.Errorf("%s: violations = %v, want one certificate violation", name, c.violations)
		}
	}
}

// TestChecker_UsesTheSetInForce: after an ejection the next certificate is
// checked against the smaller set, and ejecting an honest node is flagged.
func TestChecker_UsesTheSetInForce(t *testing.T) {
	f := newFixture(t)
	a := f.vote("node-4", consensus.MsgPrevote, 1, 0, consensus.Hash{1})
	b := f.vote("node-4", consensus.MsgPrevote, 1, 0, consensus.Hash{2})
	ev := consensus.Evidence{A: a, B: b}
	eject := string(EjectEntry(&ev))

	// node-4 is out from height 2: its vote no longer counts, and the
	// three remaining validators must all sign.
	logs := map[consensus.NodeID][]consensus.Commit{
		"node-1": {f.commit(1, []int{1, 2, 3}, eject), f.commit(2, []int{1, 2, 4}, "op/x")},
	}
	c := newChecker("sim", f.genesis, consensus.FakeVerifier{})
	ejections := c.checkLogs(logs)
	if len(ejections) != 1 || !reflect.DeepEqual(ejections[0], Ejection{Node: "node-4", Height: 1, Reason: reasonEquivocation}) {
		t.Errorf("ejections = %v, want node-4 at height 1", ejections)
	}
	if got := kinds(c); len(got) != 1 || got[0] != "certificate" {
		t.Errorf("violations = %v, want the height-2 certificate refused (node-4 no longer votes)", c.violations)
	}

	// The same log, with node-4 honest: its ejection is a violation.
	logs["node-4"] = logs["node-1"][:1]
	c = newChecker("sim", f.genesis, consensus.FakeVerifier{})
	c.checkLogs(logs)
	if !strings.Contains(strings.Join(kinds(c), ","), "honest-ejected") {
		t.Errorf("violations = %v, want honest-ejected", c.violations)
	}
}

func TestChecker_FlagsDoubleSigning(t *testing.T) {
	f := newFixture(t)
	c := newChecker("sim", f.genesis, consensus.FakeVerifier{})
	a := f.vote("node-1", consensus.MsgPrecommit, 3, 1, consensus.Hash{1})
	nilVote := f.vote("node-1", consensus.MsgPrecommit, 3, 1, consensus.Hash{})
	other := f.vote("node-1", consensus.MsgPrecommit, 3, 2, consensus.Hash{})
	relayed := f.vote("node-2", consensus.MsgPrecommit, 3, 1, consensus.Hash{})
	for _, m := range []consensus.Message{a, a, other} {
		if v := c.observeSigned("node-1", &m); v != nil {
			t.Fatalf("flagged %s: %v", &m, v)
		}
	}
	if v := c.observeSigned("node-1", &relayed); v != nil {
		t.Fatalf("flagged a message node-1 relayed for node-2: %v", v)
	}
	v := c.observeSigned("node-1", &nilVote)
	if v == nil || v.Kind != "double-sign" || !v.Safety {
		t.Fatalf("conflicting precommit not flagged: %v", v)
	}
	if again := c.observeSigned("node-1", &nilVote); again != nil {
		t.Errorf("the same double sign reported twice")
	}
}
