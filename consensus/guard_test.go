package consensus

import "testing"

func TestSignState_Permits(t *testing.T) {
	last := SignState{Height: 5, Round: 2, Step: StepPrevote, BlockHash: Hash{1}}
	for _, tc := range []struct {
		name   string
		h      uint64
		r      int32
		t      MsgType
		hash   Hash
		pol    int32
		permit bool
	}{
		{"never signed", 0, 0, MsgPrevote, Hash{}, 0, true},
		{"same prevote again", 5, 2, MsgPrevote, Hash{1}, 0, true},
		{"other prevote same round", 5, 2, MsgPrevote, Hash{2}, 0, false},
		{"nil prevote same round", 5, 2, MsgPrevote, Hash{}, 0, false},
		{"precommit same round", 5, 2, MsgPrecommit, Hash{2}, 0, true},
		{"proposal same round", 5, 2, MsgProposal, Hash{1}, -1, false},
		{"earlier round", 5, 1, MsgPrecommit, Hash{1}, 0, false},
		{"later round", 5, 3, MsgProposal, Hash{3}, -1, true},
		{"earlier height", 4, 9, MsgPrecommit, Hash{1}, 0, false},
		{"later height", 6, 0, MsgPrevote, Hash{}, 0, true},
	} {
		s := last
		if tc.name == "never signed" {
			s = SignState{}
		}
		if got := s.permits(tc.h, tc.r, tc.t, tc.hash, tc.pol); got != tc.permit {
			t.Errorf("%s: permits = %v, want %v", tc.name, got, tc.permit)
		}
	}
}

// A node restarted from its SignState signs nothing that conflicts with what
// it signed before the crash, whatever it is then shown.
func TestNode_RestartNeverEquivocates(t *testing.T) {
	kr := newKeyring(t, 4)
	n := newTestNode(t, kr, "n1", testApp{})
	n.Propose(Entry("mine"))
	blkA := &Block{Height: 1, Entries: []Entry{Entry("A")}}
	blkB := &Block{Height: 1, Entries: []Entry{Entry("B")}}
	prop := func(b *Block) *Message {
		return signed(kr.signers["n2"], "c", Message{Type: MsgProposal, From: "n2", Height: 1, Round: 0, POLRound: -1, BlockHash: b.Hash(), Block: b})
	}
	if err := n.Step(prop(blkA)); err != nil {
		t.Fatal(err)
	}
	rd := n.Ready()
	if rd.SignState == nil || len(rd.Messages) != 1 || rd.Messages[0].BlockHash != blkA.Hash() {
		t.Fatalf("want a prevote for A with its guard, got %+v", rd)
	}
	persisted := *rd.SignState

	cfg := n.cfg
	cfg.LastSigned = persisted
	restarted, err := NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := restarted.Step(prop(blkB)); err != nil {
		t.Fatal(err)
	}
	resent := false
	for _, m := range restarted.Ready().Messages {
		if m.Type == MsgPrevote && m.Round == 0 {
			if m.BlockHash != blkA.Hash() {
				t.Fatalf("restarted node signed a conflicting prevote: %s", &m)
			}
			resent = true
		}
	}
	if !resent {
		t.Fatal("restarted node did not re-send the prevote its guard holds")
	}
	// Whatever it is shown, the guard lets nothing else through at round 0.
	if restarted.guard.permits(1, 0, MsgPrevote, blkB.Hash(), 0) {
		t.Fatal("the restored guard permits a conflicting prevote")
	}
}

func TestReady_SignStateComesWithTheMessagesItGuards(t *testing.T) {
	kr := newKeyring(t, 4)
	n := newTestNode(t, kr, "n2", testApp{}) // proposer of height 1, round 0
	n.Propose(Entry("x"))
	rd := n.Ready()
	if rd.SignState == nil {
		t.Fatal("messages handed out without the guard to persist first")
	}
	if rd.SignState.Height != 1 || rd.SignState.Step != StepPrevote {
		t.Fatalf("guard %v does not cover the last message signed", rd.SignState)
	}
	// Ready twice without Advance hands out the same output.
	again := n.Ready()
	if len(again.Messages) != len(rd.Messages) || again.SignState == nil {
		t.Fatal("second Ready lost output")
	}
	// Output produced between Ready and Advance survives Advance.
	n.Tick()
	st := signed(kr.signers["n3"], "c", Message{Type: MsgStatus, From: "n3", Height: 5})
	_ = n.Step(st) // n3 is ahead: n2 answers with its own status
	n.Advance()
	if n.HasReady() {
		rest := n.Ready()
		if len(rest.Messages) != 1 || rest.Messages[0].Type != MsgStatus || rest.SignState != nil {
			t.Fatalf("after Advance: %+v", rest)
		}
	} else {
		t.Fatal("Advance dropped output produced after Ready")
	}
}
