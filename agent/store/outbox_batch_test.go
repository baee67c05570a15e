package store

import (
	"errors"
	"fmt"
	"testing"
)

func TestOutbox_PutBatch(t *testing.T) {
	s := openTest(t, &Options{OutboxLimit: 5})
	o := s.Outbox()
	if _, err := o.Put("first", []byte{0}); err != nil {
		t.Fatal(err)
	}
	var batch []Outbound
	for i := range 3 {
		batch = append(batch, Outbound{Seq: 99, Topic: fmt.Sprintf("t%d", i), Payload: []byte{byte(i + 1)}})
	}
	seqs, err := o.PutBatch(batch)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seqs) != "[2 3 4]" {
		t.Errorf("seqs = %v, want [2 3 4]", seqs)
	}
	// Two more do not fit under the limit of 5: neither is stored.
	if _, err := o.PutBatch(batch[:2]); !errors.Is(err, ErrOutboxFull) {
		t.Errorf("PutBatch over the limit: %v, want ErrOutboxFull", err)
	}
	s = reopen(t, s, &Options{OutboxLimit: 5})
	got := pending(t, s.Outbox())
	if len(got) != 4 || got[1].Seq != 2 || got[1].Topic != "t0" || got[3].Payload[0] != 3 {
		t.Fatalf("Pending after restart = %+v", got)
	}
	if s.Outbox().Len() != 4 {
		t.Errorf("Len() = %d, want 4", s.Outbox().Len())
	}
	if seqs, err := s.Outbox().PutBatch(nil); err != nil || seqs != nil {
		t.Errorf("PutBatch(nil) = %v, %v", seqs, err)
	}
}
