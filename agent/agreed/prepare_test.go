package agreed

import (
	"fmt"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

// A burst of requests in one block goes round every eligible node before
// any node gets a second one, and the block validates on every replica.
func TestPrepare_SpreadsABurst(t *testing.T) {
	f := newActionFixture(t, 4)
	var pending []consensus.Entry
	for i := range 8 {
		pending = append(pending, f.assign(t, f.request(t, fmt.Sprintf("r-%d", i), "blink", nil)))
	}
	block := f.prepared(t, pending...)
	count := map[string]int{}
	for i, raw := range block {
		e, err := Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		count[e.Assign.Performer]++
		if i < 4 && count[e.Assign.Performer] > 1 {
			t.Errorf("entry %d goes to %s a second time before every node had one", i, e.Assign.Performer)
		}
	}
	if len(count) != 4 {
		t.Errorf("performers %v, want all four nodes", count)
	}
	if err := f.validate(block...); err != nil {
		t.Fatalf("the prepared block does not validate: %v", err)
	}
	// An entry built against the state alone that names the first entry's
	// performer is valid alone, and wrong right after it: Validate judges
	// each entry after the ones before it.
	b0, _ := Decode(block[0])
	checked := false
	for _, raw := range pending[1:] {
		if e, _ := Decode(raw); e.Assign.Performer == b0.Assign.Performer {
			if err := f.validate(raw); err != nil {
				t.Fatalf("alone: %v", err)
			}
			if err := f.validate(block[0], raw); err == nil {
				t.Errorf("%s after %s validates although %s was just assigned", e.Assign.RequestID, b0.Assign.RequestID, b0.Assign.Performer)
			}
			checked = true
			break
		}
	}
	if !checked {
		t.Fatal("no request of the burst picks the first performer alone: change the ids")
	}
	f.applyT(t, block...)

	// The entries as first built are now stale: decided requests are
	// discarded, and nothing of them is proposed again.
	again, discard := f.state.Prepare(f.state.Height+1, pending)
	if len(again) != 0 || len(discard) != len(pending) {
		t.Errorf("after the decision: Prepare proposes %d, discards %d of %d", len(again), len(discard), len(pending))
	}
}

// Two versions of one request's assignment (built at different heights) go
// into a block once.
func TestPrepare_OneVersionPerRequest(t *testing.T) {
	f := newActionFixture(t, 4)
	r0 := f.assign(t, f.request(t, "r-0", "blink", nil))
	e0, _ := Decode(r0)
	// A request whose assignment, built now, names r-0's performer too.
	var old consensus.Entry
	var req = f.request(t, "r-1", "blink", nil)
	for i := 1; old == nil && i < 100; i++ {
		req = f.request(t, fmt.Sprintf("r-%d", i), "blink", nil)
		if e, _ := f.state.AssignRequest(req); e.Assign.Performer == e0.Assign.Performer {
			old = e.Encode()
		}
	}
	f.applyT(t, r0)
	fresh := f.assign(t, req)
	if string(old) == string(fresh) {
		t.Fatal("the performer did not move on: the test needs two versions")
	}
	block, discard := f.state.Prepare(f.state.Height+1, []consensus.Entry{old, fresh})
	if len(block) != 1 || len(discard) != 0 {
		t.Fatalf("Prepare: %d entries, %d discarded; want one entry", len(block), len(discard))
	}
	if err := f.validate(block...); err != nil {
		t.Fatal(err)
	}
}
