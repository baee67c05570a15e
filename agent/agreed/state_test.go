package agreed

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/consensus"
)

type fixture struct {
	keys     map[string]ed25519.PrivateKey
	operator ed25519.PrivateKey
	state    *State
}

func newFixture(t testing.TB, n int) *fixture {
	f := &fixture{keys: map[string]ed25519.PrivateKey{}, operator: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{99}, 32))}
	vals := map[string]ed25519.PublicKey{}
	for i := 1; i <= n+2; i++ { // spare keys for candidates
		name := fmt.Sprintf("node-%d", i)
		f.keys[name] = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i)}, 32))
		if i <= n {
			vals[name] = f.keys[name].Public().(ed25519.PublicKey)
		}
	}
	s, err := Genesis("c", vals, map[string]ed25519.PublicKey{"ops": f.operator.Public().(ed25519.PublicKey)})
	if err != nil {
		t.Fatal(err)
	}
	f.state = s
	return f
}

func (f *fixture) advert(node string, seq uint64) consensus.Entry {
	d := &capability.Document{Cluster: "c", Node: node, Zone: "z", Seq: seq, Outputs: []capability.Output{{Name: "led", Kind: "led"}}}
	d.Sign(f.keys[node])
	return (&Entry{Type: TypeAdvertise, Doc: d}).Encode()
}

func (f *fixture) admit(node, nonce string, key ed25519.PrivateKey) consensus.Entry {
	a := &Admission{Node: node, Key: pubB64(f.keys[node]), Operator: "ops", Nonce: nonce}
	a.Sign("c", key)
	return (&Entry{Type: TypeAdmit, Admit: a}).Encode()
}

func (f *fixture) equivocation(node string) *consensus.Evidence {
	s := consensus.Ed25519Signer{Key: f.keys[node]}
	m := func(h consensus.Hash) *consensus.Message {
		msg := &consensus.Message{Type: consensus.MsgPrevote, From: consensus.NodeID(node), Height: 1, BlockHash: h}
		msg.Signature = s.Sign(consensus.SignBytes("c", msg))
		return msg
	}
	ev := &consensus.Evidence{A: *m(consensus.Hash{1}), B: *m(consensus.Hash{2})}
	if err := ev.Verify("c", s.PublicKey(), consensus.Ed25519Verifier{}); err != nil {
		panic(err)
	}
	return ev
}

func pubB64(k ed25519.PrivateKey) string {
	d := &capability.Document{}
	d.Sign(k)
	return d.Key
}

func (f *fixture) apply(t *testing.T, entries ...consensus.Entry) {
	t.Helper()
	if err := f.state.Validate(f.state.Height+1, entries); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	f.state.Apply(f.state.Height+1, entries, f.state.ValidatorSet())
}

func TestState_AdvertiseAdmitEject(t *testing.T) {
	f := newFixture(t, 4)
	f.apply(t, f.advert("node-1", 1), f.advert("node-2", 1))
	if len(f.state.Capabilities) != 2 || f.state.Height != 1 {
		t.Fatalf("capabilities %v at height %d", f.state.Capabilities, f.state.Height)
	}
	f.apply(t, f.admit("node-5", "n1", f.operator))
	if f.state.ValidatorSet().Len() != 5 {
		t.Fatal("admission did not add a validator")
	}
	f.apply(t, NewEjection(f.equivocation("node-3")).Encode())
	if f.state.ValidatorSet().Has("node-3") || !f.state.IsEjected("node-3") {
		t.Fatal("ejection did not remove the validator")
	}
	if got := f.state.EjectedNames(); fmt.Sprint(got) != "[node-3]" {
		t.Fatalf("ejected %v", got)
	}

	// The snapshot restores to the same state and the same validator set.
	back, err := Restore(f.state.Snapshot(), "c", f.state.operators)
	if err != nil {
		t.Fatal(err)
	}
	if !back.ValidatorSet().Equal(f.state.ValidatorSet()) || back.Height != f.state.Height || !bytes.Equal(back.Snapshot(), f.state.Snapshot()) {
		t.Fatal("snapshot round trip changed the state")
	}
}

func TestState_RefusesInvalidEntries(t *testing.T) {
	f := newFixture(t, 4)
	f.apply(t, f.advert("node-1", 5), f.admit("node-5", "first", f.operator))
	forged := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{42}, 32))
	stranger := f.advert("node-1", 9)
	// A document signed by someone else's key in node-2's name.
	d := &capability.Document{Cluster: "c", Node: "node-2", Seq: 1}
	d.Sign(forged)
	impostor := (&Entry{Type: TypeAdvertise, Doc: d}).Encode()
	honestEv := f.equivocation("node-2")
	mismatched := NewEjection(honestEv)
	mismatched.Eject.Node = "node-4"
	wrongReason := NewEjection(honestEv)
	wrongReason.Eject.Reason = "dislike"

	for name, tc := range map[string][]consensus.Entry{
		"garbage":                     {consensus.Entry("not json")},
		"unknown type":                {consensus.Entry(`{"type":"launch"}`)},
		"type without payload":        {consensus.Entry(`{"type":"advertise"}`)},
		"unknown field":               {consensus.Entry(`{"type":"eject","eject":{"node":"x"},"extra":1}`)},
		"stale advert":                {f.advert("node-1", 5)},
		"advert from non-validator":   {f.advert("node-6", 1)},
		"impostor advert":             {impostor},
		"advert twice in one block":   {stranger, f.advert("node-1", 10)},
		"admission replayed":          {f.admit("node-5", "first", f.operator)},
		"admission by a non-operator": {f.admit("node-6", "x", forged)},
		"evidence against another":    {mismatched.Encode()},
		"unknown reason":              {wrongReason.Encode()},
		"eject non-validator":         {NewEjection(f.equivocation("node-6")).Encode()},
	} {
		if err := f.state.Validate(f.state.Height+1, tc); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
	}
	if err := f.state.Validate(f.state.Height+5, []consensus.Entry{f.advert("node-2", 1)}); err == nil {
		t.Error("a block for the wrong height validated")
	}
}

func TestState_EjectedNodeComesBackOnlyByNewAdmission(t *testing.T) {
	f := newFixture(t, 4)
	f.apply(t, f.admit("node-5", "a", f.operator))
	f.apply(t, NewEjection(f.equivocation("node-5")).Encode())
	if err := f.state.Validate(f.state.Height+1, []consensus.Entry{f.admit("node-5", "a", f.operator)}); err == nil {
		t.Fatal("the old admission brought back an ejected node")
	}
	f.apply(t, f.admit("node-5", "b", f.operator))
	if f.state.IsEjected("node-5") || !f.state.ValidatorSet().Has("node-5") {
		t.Fatal("a fresh admission did not restore the node")
	}
}
