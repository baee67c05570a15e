package store

import (
	"errors"
	"fmt"
	"testing"
)

func pending(t *testing.T, o *Outbox) []Outbound {
	t.Helper()
	var out []Outbound
	for m, err := range o.Pending() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestOutbox_FIFOAcrossRestarts(t *testing.T) {
	s := openTest(t, nil)
	for i := range 3 {
		seq, err := s.Outbox().Put(fmt.Sprintf("pact/greenhouse/%d", i), []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		if seq != uint64(i+1) {
			t.Errorf("Put #%d got seq %d", i, seq)
		}
	}
	if err := s.Outbox().Ack(1); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, nil)
	o := s.Outbox()
	got := pending(t, o)
	if len(got) != 2 || got[0].Seq != 2 || got[0].Topic != "pact/greenhouse/1" || got[0].Payload[0] != 1 || got[1].Seq != 3 {
		t.Fatalf("Pending after restart = %+v", got)
	}
	if o.Len() != 2 {
		t.Errorf("Len() = %d, want 2", o.Len())
	}
	// Sequence numbers are never reused, even for a queue emptied and
	// reopened.
	if err := o.Ack(2, 3, 3, 99); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, nil)
	seq, err := s.Outbox().Put("t", nil)
	if err != nil {
		t.Fatal(err)
	}
	if seq != 4 {
		t.Errorf("seq after restart = %d, want 4", seq)
	}
	if got := pending(t, s.Outbox()); len(got) != 1 || len(got[0].Payload) != 0 {
		t.Errorf("Pending = %+v", got)
	}
}

// The loop body may Ack and Put: Pending holds no transaction while it runs.
func TestOutbox_AckWhileIterating(t *testing.T) {
	s := openTest(t, nil)
	o := s.Outbox()
	const n = 2*pendingBatch + 5
	for i := range n {
		if _, err := o.Put("t", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	seen := 0
	for m, err := range o.Pending() {
		if err != nil {
			t.Fatal(err)
		}
		if m.Seq != uint64(seen+1) {
			t.Fatalf("message %d has seq %d", seen, m.Seq)
		}
		if err := o.Ack(m.Seq); err != nil {
			t.Fatal(err)
		}
		if seen == 0 {
			if _, err := o.Put("late", nil); err != nil { // joins the end of the queue
				t.Fatal(err)
			}
		}
		seen++
	}
	if seen != n+1 || o.Len() != 0 {
		t.Errorf("saw %d messages, %d left; want %d and 0", seen, o.Len(), n+1)
	}
}

func TestOutbox_Limit(t *testing.T) {
	s := openTest(t, &Options{OutboxLimit: 2})
	o := s.Outbox()
	for range 2 {
		if _, err := o.Put("t", nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.Put("t", nil); !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("third Put: %v, want ErrOutboxFull", err)
	}
	if s.Err() != nil {
		t.Errorf("a full outbox made the store unusable: %v", s.Err())
	}
	if err := o.Ack(1); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Put("t", nil); err != nil {
		t.Errorf("Put after an Ack: %v", err)
	}
	// The count survives a restart.
	s = reopen(t, s, &Options{OutboxLimit: 2})
	if _, err := s.Outbox().Put("t", nil); !errors.Is(err, ErrOutboxFull) {
		t.Errorf("Put over the limit after restart: %v", err)
	}
}

func TestOutbox_BreakStopsIteration(t *testing.T) {
	s := openTest(t, nil)
	for range 5 {
		if _, err := s.Outbox().Put("t", nil); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for range s.Outbox().Pending() {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("loop ran %d times", n)
	}
}
