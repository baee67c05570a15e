package agreed

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

// retirement is a retire entry of node's current key, signed by key as
// operator "ops"; change, if given, spoils it before it is signed.
func (f *fixture) retirement(node, nonce string, key ed25519.PrivateKey, change ...func(*Retirement)) consensus.Entry {
	r := &Retirement{Node: node, Key: f.state.Validators[node], Operator: "ops", Nonce: nonce, Reason: "SD card died"}
	for _, c := range change {
		c(r)
	}
	r.Sign("c", key)
	return (&Entry{Type: TypeRetire, Retire: r}).Encode()
}

// admitKey admits node with the public key of k.
func (f *fixture) admitKey(node, nonce string, k ed25519.PrivateKey) consensus.Entry {
	a := &Admission{Node: node, Key: pubB64(k), Operator: "ops", Nonce: nonce}
	a.Sign("c", f.operator)
	return (&Entry{Type: TypeAdmit, Admit: a}).Encode()
}

func TestRetire_Applies(t *testing.T) {
	f := newFixture(t, 4)
	f.apply(t, f.advert("node-4", 1))
	key := f.state.Validators["node-4"]
	f.apply(t, f.retirement("node-4", "r1", f.operator))
	if f.state.ValidatorSet().Has("node-4") || f.state.ValidatorSet().Len() != 3 || f.state.ValidatorSet().Faulty() != 0 {
		t.Fatalf("validators after retiring node-4: %v", f.state.ValidatorNames())
	}
	if f.state.Capabilities["node-4"] != nil {
		t.Error("a retired node's capability document is still committed")
	}
	want := Retired{Height: 2, Operator: "ops", Key: key, Reason: "SD card died"}
	if got := f.state.Retired["node-4"]; got != want || fmt.Sprint(f.state.RetiredNames()) != "[node-4]" {
		t.Errorf("retired record %+v, names %v; want %+v", got, f.state.RetiredNames(), want)
	}
	if f.state.IsEjected("node-4") || len(f.state.EjectedNames()) != 0 {
		t.Error("a retired node counts as ejected")
	}
	if why := f.state.Forged(f.retirement("node-3", "r2", f.operator)); why != "" {
		t.Errorf("an honest retirement looks forged: %s", why)
	}
}

func TestRetire_Refused(t *testing.T) {
	f := newFixture(t, 4)
	f.apply(t, f.retirement("node-4", "used", f.operator))
	forged := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{42}, 32))
	badSig := f.retirement("node-3", "b", f.operator)
	var e Entry
	_ = json.Unmarshal(badSig, &e)
	e.Retire.Reason = "changed after signing"
	for name, tc := range map[string]struct {
		entries []consensus.Entry
		why     string
	}{
		"bad signature":             {[]consensus.Entry{e.Encode()}, "signature"},
		"signed by a non-operator":  {[]consensus.Entry{f.retirement("node-3", "x", forged)}, "signature"},
		"unknown operator":          {[]consensus.Entry{f.retirement("node-3", "x", f.operator, func(r *Retirement) { r.Operator = "eve" })}, "not an operator"},
		"not a validator":           {[]consensus.Entry{f.retirement("node-6", "x", f.operator)}, "not a validator"},
		"already retired":           {[]consensus.Entry{f.retirement("node-4", "y", f.operator, func(r *Retirement) { r.Key = pubB64(f.keys["node-4"]) })}, "not a validator"},
		"another key":               {[]consensus.Entry{f.retirement("node-3", "x", f.operator, func(r *Retirement) { r.Key = pubB64(forged) })}, "holds key"},
		"reason too long":           {[]consensus.Entry{f.retirement("node-3", "x", f.operator, func(r *Retirement) { r.Reason = strings.Repeat("x", MaxRetireReason+1) })}, "reason"},
		"reason of two lines":       {[]consensus.Entry{f.retirement("node-3", "x", f.operator, func(r *Retirement) { r.Reason = "a\nb" })}, "reason"},
		"no nonce":                  {[]consensus.Entry{f.retirement("node-3", "", f.operator)}, "nonce"},
		"one node twice in a block": {[]consensus.Entry{f.retirement("node-3", "x", f.operator), f.retirement("node-3", "y", f.operator)}, "twice"},
	} {
		err := f.state.Validate(f.state.Height+1, tc.entries)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: Validate = %v, want ErrInvalid about %q", name, err, tc.why)
		}
	}
	if why := f.state.Forged(e.Encode()); why == "" {
		t.Error("a retirement with a bad operator signature does not look forged")
	}
}

// The last validator cannot be retired; two retirements in one block that
// would leave none apply only the first.
func TestRetire_KeepsOneValidator(t *testing.T) {
	f := newFixture(t, 2)
	both := []consensus.Entry{f.retirement("node-1", "a", f.operator), f.retirement("node-2", "b", f.operator)}
	f.apply(t, both...)
	if fmt.Sprint(f.state.ValidatorNames()) != "[node-2]" || fmt.Sprint(f.state.RetiredNames()) != "[node-1]" {
		t.Fatalf("validators %v, retired %v", f.state.ValidatorNames(), f.state.RetiredNames())
	}
	err := f.state.Validate(f.state.Height+1, []consensus.Entry{f.retirement("node-2", "c", f.operator)})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "last validator") {
		t.Fatalf("retiring the last validator: %v", err)
	}
	// The skipped retirement of node-2 is used up all the same.
	if err := f.state.Validate(f.state.Height+1, both[1:]); err == nil {
		t.Fatal("a decided retirement validated again")
	}
}

// A retired node comes back through pact admit, with its old key or a new
// one, and the retirement cannot be replayed to remove it again.
func TestRetire_AdmittedAgain(t *testing.T) {
	for _, newKey := range []bool{false, true} {
		t.Run(fmt.Sprintf("new key %v", newKey), func(t *testing.T) {
			f := newFixture(t, 4)
			retire := f.retirement("node-4", "r", f.operator)
			f.apply(t, retire)
			key := f.keys["node-4"]
			if newKey {
				key = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{44}, 32))
			}
			f.apply(t, f.admitKey("node-4", "back", key))
			if !f.state.ValidatorSet().Has("node-4") || f.state.ValidatorSet().Len() != 4 || f.state.Validators["node-4"] != pubB64(key) {
				t.Fatalf("validators %v, node-4's key %s", f.state.ValidatorNames(), f.state.Validators["node-4"])
			}
			if f.state.IsRetired("node-4") || len(f.state.RetiredNames()) != 0 {
				t.Error("an admitted node is still listed as retired")
			}
			err := f.state.Validate(f.state.Height+1, []consensus.Entry{retire})
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("the old retirement was accepted again: %v", err)
			}
			// With the same key the digest refuses it, with a new one the key.
			want := map[bool]string{false: "already used", true: "holds key"}[newKey]
			if !strings.Contains(err.Error(), want) {
				t.Errorf("replayed retirement refused with %v, want %q", err, want)
			}
			// A fresh retirement of the new key works.
			f.apply(t, f.retirement("node-4", "r2", f.operator))
			if f.state.ValidatorSet().Has("node-4") {
				t.Fatal("a fresh retirement did not remove node-4")
			}
		})
	}
}

// An open assignment of a retired performer moves on with the reason
// performer-retired, which is refused while the performer is a validator.
func TestRetire_ReassignsOpenWork(t *testing.T) {
	f := newActionFixture(t, 4)
	inst := InstanceID("c", "r-1")
	f.applyT(t, f.assign(t, f.request(t, "r-1", "blink", nil)))
	rec, _ := f.state.Assignment(inst)
	if _, err := f.state.ReassignInstance(inst, ReasonPerformerRetired); err == nil || !strings.Contains(err.Error(), "not retired") {
		t.Fatalf("reassign of a validator's work as performer-retired: %v", err)
	}
	f.applyT(t, f.retirement(rec.Performer, "r", f.operator))
	if f.state.Eligible("blink", "r-2", nil) == nil || contains(f.state.Eligible("blink", "r-2", nil), rec.Performer) {
		t.Fatalf("eligible after retiring %s: %v", rec.Performer, f.state.Eligible("blink", "r-2", nil))
	}
	if _, err := f.state.ReassignInstance(inst, ReasonPerformerEjected); err == nil {
		t.Fatal("a retired performer's work moved as performer-ejected")
	}
	e, err := f.state.ReassignInstance(inst, ReasonPerformerRetired)
	if err != nil {
		t.Fatal(err)
	}
	f.applyT(t, e.Encode())
	after, _ := f.state.Assignment(inst)
	if after.Performer == rec.Performer || fmt.Sprint(after.Tried) != fmt.Sprintf("[%s]", rec.Performer) {
		t.Fatalf("after the reassign: performer %s, tried %v", after.Performer, after.Tried)
	}
}

// The retired nodes and used retirements survive a snapshot; a snapshot
// from before retirements existed restores with none.
func TestRetire_Snapshot(t *testing.T) {
	f := newFixture(t, 4)
	retire := f.retirement("node-4", "r", f.operator)
	f.apply(t, retire)
	back, err := Restore(f.state.Snapshot(), "c", f.state.operators)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Snapshot(), f.state.Snapshot()) || !back.ValidatorSet().Equal(f.state.ValidatorSet()) {
		t.Fatal("snapshot round trip changed the state")
	}
	if back.Retired["node-4"] != f.state.Retired["node-4"] || len(back.Retirements) != 1 {
		t.Fatalf("restored retired %v, retirements %v", back.Retired, back.Retirements)
	}
	f2 := &fixture{keys: f.keys, operator: f.operator, state: back}
	f2.apply(t, f2.admitKey("node-4", "a", f.keys["node-4"]))
	if err := back.Validate(back.Height+1, []consensus.Entry{retire}); err == nil {
		t.Fatal("a restored state accepts a used retirement again")
	}

	var m map[string]json.RawMessage
	if err := json.Unmarshal(newFixture(t, 4).state.Snapshot(), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "retired")
	delete(m, "retirements")
	old, _ := json.Marshal(m)
	s, err := Restore(old, "c", f.state.operators)
	if err != nil {
		t.Fatal(err)
	}
	if s.Retired == nil || s.Retirements == nil {
		t.Fatal("an old snapshot restored with nil retirement maps")
	}
}

func TestDecode_Retire(t *testing.T) {
	for _, raw := range []string{
		`{"type":"retire"}`,
		`{"type":"retire","admit":{"node":"x"}}`,
		`{"type":"eject","retire":{"node":"x"}}`,
		`{"type":"retire","retire":{"node":"x","extra":1}}`,
	} {
		if _, err := Decode(consensus.Entry(raw)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Decode = %v, want ErrInvalid", raw, err)
		}
	}
}
