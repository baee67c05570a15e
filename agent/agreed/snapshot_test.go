package agreed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// history is a run of decided blocks with every kind of action entry, built
// and validated on f as it goes: block i is returned once f has applied it.
func history(t *testing.T, f *actionFixture) [][]consensus.Entry {
	t.Helper()
	var blocks [][]consensus.Entry
	decide := func(entries ...consensus.Entry) {
		t.Helper()
		block := f.prepared(t, entries...)
		f.applyT(t, block...)
		blocks = append(blocks, block)
	}
	decide(f.assign(t, f.request(t, "r-1", "blink", nil)), f.assign(t, f.request(t, "r-2", "blink", map[string]string{"duration": "2s"})),
		f.assign(t, f.request(t, "r-3", "blink", nil)), f.assign(t, f.request(t, "r-4", "ventilate", nil)))
	f.now = f.now.Add(time.Second)
	fire, err := f.state.AssignTrigger("ventilate", f.temperatures(31, 32, 33, 1000))
	if err != nil {
		t.Fatal(err)
	}
	decide(fire.Encode(), f.assign(t, f.request(t, "r-5", "blink", nil)))
	f.outcomes[InstanceID("c", "r-2")] = false
	failed, err := f.state.ReassignInstance(InstanceID("c", "r-2"), ReasonFailed)
	if err != nil {
		t.Fatal(err)
	}
	decide(failed.Encode())
	rec, _ := f.state.Assignment(InstanceID("c", "r-1"))
	decide(NewEjection(f.equivocation(rec.Performer)).Encode())
	ejected, err := f.state.ReassignInstance(InstanceID("c", "r-1"), ReasonPerformerEjected)
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Second)
	rearm, err := f.state.RearmTrigger("ventilate", f.state.TriggerCheck("ventilate", f.temperatures(20, 21, 22, 23)).Used)
	if err != nil {
		t.Fatal(err)
	}
	decide(ejected.Encode(), rearm.Encode())
	return blocks
}

func TestApply_Deterministic(t *testing.T) {
	for run := range 5 { // map order differs from run to run
		f := newActionFixture(t, 4)
		genesis := f.state.Snapshot()
		// Replicas with other clocks (or none), other outcomes known, that
		// only apply.
		var replicas []*State
		for i, now := range []func() time.Time{nil, func() time.Time { return t0.Add(time.Duration(run) * time.Hour) }} {
			r, err := Restore(genesis, "c", f.state.operators)
			if err != nil {
				t.Fatal(err)
			}
			r.SetRules(Rules{Actions: catalogue(), Now: now, Outcome: func(string) (bool, bool) { return i == 0, true }})
			replicas = append(replicas, r)
		}
		for _, block := range history(t, f) {
			for _, r := range replicas {
				r.Apply(r.Height+1, block, r.ValidatorSet())
			}
		}
		want := f.state.Snapshot()
		for i, r := range replicas {
			if got := r.Snapshot(); !bytes.Equal(got, want) {
				t.Fatalf("run %d: replica %d differs:\n%s\nwant\n%s", run, i, got, want)
			}
		}
	}
}

func TestSnapshot_RoundTripWithActions(t *testing.T) {
	f := newActionFixture(t, 4)
	history(t, f)
	if len(f.state.Assigned) != 6 || len(f.state.Disarmed) != 0 || len(f.state.ReadingsUsed) != 4 || len(f.state.LastRun) != 2 {
		t.Fatalf("history left %s", f.state.Snapshot())
	}
	back, err := Restore(f.state.Snapshot(), "c", f.state.operators)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Snapshot(), f.state.Snapshot()) || !back.ValidatorSet().Equal(f.state.ValidatorSet()) {
		t.Fatal("snapshot round trip changed the state")
	}
	back.SetRules(f.rules)
	next := f.assign(t, f.request(t, "r-9", "blink", nil))
	if err := back.Validate(back.Height+1, []consensus.Entry{next}); err != nil {
		t.Fatalf("restored state refuses what the original accepts: %v", err)
	}
}

func TestRestore_SnapshotFromBeforeActions(t *testing.T) {
	f := newActionFixture(t, 4)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(f.state.Snapshot(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"assigned", "last_assigned", "requests", "disarmed", "last_run", "readings_used"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("snapshot lacks %q", k)
		}
		delete(m, k)
	}
	old, _ := json.Marshal(m)
	back, err := Restore(old, "c", f.state.operators)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Snapshot(), f.state.Snapshot()) {
		t.Fatalf("old snapshot restored to\n%s\nwant\n%s", back.Snapshot(), f.state.Snapshot())
	}
	back.SetRules(f.rules)
	entry, err := back.AssignRequest(f.request(t, "r-1", "blink", nil))
	if err != nil {
		t.Fatal(err)
	}
	back.Apply(back.Height+1, []consensus.Entry{entry.Encode()}, back.ValidatorSet())
	if len(back.Assigned) != 1 || len(back.Requests) != 1 {
		t.Fatal("a state restored from an old snapshot does not record assignments")
	}
	if _, err := Restore([]byte(`{"height":1,"validators":{},"ejected":{},"capabilities":{},"admissions":{},"assigned":{"x":null}}`), "c", nil); err == nil {
		t.Fatal("a null assignment restored")
	}
}

func TestApply_BoundsActionMemory(t *testing.T) {
	f := newActionFixture(t, 4)
	f.state.Height = MaxRequests + 10 // above the heights made up below
	for i := range MaxAssigned + 1 {
		id := fmt.Sprintf("old-%05d", i)
		f.state.Assigned[InstanceID("c", id)] = &Assigned{Instance: InstanceID("c", id), RequestID: id, Height: uint64(i + 1)}
	}
	for i := range MaxRequests + 1 {
		f.state.Requests[fmt.Sprintf("old-%05d", i)] = uint64(i + 1)
	}
	f.applyT(t, f.assign(t, f.request(t, "r-new", "blink", nil)))
	if n := len(f.state.Assigned); n > MaxAssigned || n < MaxAssigned*3/4 {
		t.Fatalf("%d assignments kept", n)
	}
	if n := len(f.state.Requests); n > MaxRequests || n < MaxRequests*3/4 {
		t.Fatalf("%d request ids kept", n)
	}
	if _, ok := f.state.Assigned[InstanceID("c", "r-new")]; !ok {
		t.Fatal("the newest assignment was dropped")
	}
	if _, ok := f.state.Assigned[InstanceID("c", "old-00000")]; ok {
		t.Fatal("the oldest assignment was kept")
	}
	if _, ok := f.state.Requests[fmt.Sprintf("old-%05d", MaxRequests)]; !ok {
		t.Fatal("a recent request id was dropped")
	}
	if _, ok := f.state.Requests["old-00000"]; ok {
		t.Fatal("the oldest request id was kept")
	}
}

func BenchmarkValidate_100Assignments(b *testing.B) {
	f := newActionFixture(b, 7)
	block := make([]consensus.Entry, 100)
	for i := range block {
		block[i] = f.assign(b, f.request(b, fmt.Sprintf("r-%03d", i), "blink", map[string]string{"duration": "2s"}))
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := f.state.Validate(f.state.Height+1, block); err != nil {
			b.Fatal(err)
		}
	}
}
