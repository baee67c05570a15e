package store

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

const (
	testCluster = "greenhouse"
	testNode    = consensus.NodeID("pi-3")
)

// openTest opens a store in a fresh directory and closes it with the test.
func openTest(t testing.TB, opts *Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state.db"), testCluster, testNode, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// reopen closes s and opens its file again.
func reopen(t testing.TB, s *Store, opts *Options) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(s.Path(), testCluster, testNode, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	return s2
}

// testCommit builds a commit at height h with a certificate of n votes and
// a block whose entry depends on fork, so that two forks differ.
func testCommit(h uint64, n int, fork byte) consensus.Commit {
	c := consensus.Commit{
		Block: consensus.Block{Height: h, Entries: []consensus.Entry{
			[]byte(fmt.Sprintf("assign fan-1 to pi-%d", h%7)),
			{fork},
		}},
		Round: int32(h % 3),
	}
	for i := range n {
		c.Votes = append(c.Votes, consensus.CommitVote{
			From:      consensus.NodeID(fmt.Sprintf("pi-%d", i)),
			Signature: bytes.Repeat([]byte{byte(h), byte(i)}, 32),
		})
	}
	return c
}

func testGuard(h uint64, r int32, step consensus.Step) consensus.SignState {
	g := consensus.SignState{Height: h, Round: r, Step: step, POLRound: -1, LockedRound: -1}
	g.BlockHash[0], g.BlockHash[31] = byte(h), byte(r)
	if step == consensus.StepPrecommit {
		g.LockedRound, g.LockedHash = r, g.BlockHash
	}
	return g
}

func commitsEqual(a, b *consensus.Commit) bool {
	return bytes.Equal(encodeCommit(a), encodeCommit(b))
}
