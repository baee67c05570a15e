package store

import (
	"errors"
	"fmt"
	"testing"
)

func TestExecution_Fencing(t *testing.T) {
	s := openTest(t, nil)
	if err := s.BeginExecution("i-1", "led", 10); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		instance, output string
		token            uint64
	}{
		{"i-2", "led", 10}, // same token: not newer
		{"i-3", "led", 9},  // older
		{"i-1", "fan", 1},  // the instance again, on another output
	} {
		if err := s.BeginExecution(c.instance, c.output, c.token); !errors.Is(err, ErrFenced) {
			t.Errorf("BeginExecution(%s, %s, %d) = %v, want ErrFenced", c.instance, c.output, c.token, err)
		}
	}
	if err := s.BeginExecution("i-4", "fan", 3); err != nil {
		t.Errorf("another output has its own fence: %v", err)
	}
	if f, _ := s.Fence("led"); f != 10 {
		t.Errorf("fence = %d, want 10", f)
	}
	un, err := s.Unfinished()
	if err != nil || len(un) != 2 {
		t.Fatalf("Unfinished = %v, %v; want i-1 and i-4", un, err)
	}
	if err := s.FinishExecution("i-1", []byte(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	e, err := s.Execution("i-1")
	if err != nil || e == nil || !e.Done || string(e.Outcome) != `{"ok":true}` || e.Output != "led" || e.Token != 10 {
		t.Fatalf("Execution = %+v, %v", e, err)
	}
	if err := s.FinishExecution("i-9", nil); err == nil {
		t.Error("finishing an instance never begun succeeded")
	}
}

// The fence and the record of an interrupted execution survive a reopen:
// a restarted agent must not run it again.
func TestExecution_SurvivesReopen(t *testing.T) {
	s := openTest(t, nil)
	if err := s.BeginExecution("i-1", "led", 7); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, nil)
	if err := s.BeginExecution("i-1", "led", 8); !errors.Is(err, ErrFenced) {
		t.Errorf("begun instance ran again after reopen: %v", err)
	}
	if un, _ := s.Unfinished(); len(un) != 1 || un[0].Instance != "i-1" {
		t.Errorf("Unfinished after reopen = %+v", un)
	}
}

func TestExecution_Pruned(t *testing.T) {
	defer func(n int) { maxExecutions = n }(maxExecutions)
	maxExecutions = 64
	s := openTest(t, nil)
	for i := 1; i <= maxExecutions+1; i++ {
		if err := s.BeginExecution(fmt.Sprintf("i-%d", i), fmt.Sprintf("o-%d", i%4), uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if e, _ := s.Execution("i-1"); e != nil {
		t.Error("the oldest record was kept past the bound")
	}
	if e, _ := s.Execution(fmt.Sprintf("i-%d", maxExecutions+1)); e == nil {
		t.Error("the newest record was dropped")
	}
}
