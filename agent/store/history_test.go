package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

// durable is the state file as it stood after one write returned: its
// bytes, and the guard, last height and snapshot height it holds.
type durable struct {
	op       string
	image    []byte
	guard    consensus.SignState
	height   uint64 // LastHeight
	snapshot uint64 // Snapshot().Height, 0 for none
}

// writeHistory creates a state file at path and runs the agent's write
// pattern for heights 1..heights: a prevote guard, then the Ready that
// decides the height (precommit guard, commit, and every third height a
// snapshot of several pages), with outbox puts and acks and an execution
// record along the way. It returns the file as it was after creation and
// after every write. The store is closed on return.
func writeHistory(t testing.TB, path string, heights uint64) []durable {
	t.Helper()
	s, err := Open(path, testCluster, testNode, &Options{KeepHeights: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []durable
	var snapHeight, seq uint64
	record := func(op string, g consensus.SignState) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, durable{op: op, image: b, guard: g, height: s.LastHeight(), snapshot: snapHeight})
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	record("create", consensus.SignState{})
	for h := uint64(1); h <= heights; h++ {
		pv := testGuard(h, 0, consensus.StepPrevote)
		must(s.SaveGuard(pv))
		record(fmt.Sprintf("prevote guard h=%d", h), pv)

		pc := testGuard(h, 0, consensus.StepPrecommit)
		var snap *Snapshot
		if h%3 == 0 {
			snap = &Snapshot{Height: h, Data: bytes.Repeat([]byte{byte(h)}, 3*4096+int(h)*100)}
			snapHeight = h
		}
		must(s.SaveReady(&pc, []consensus.Commit{testCommit(h, 7, 0)}, snap))
		record(fmt.Sprintf("ready h=%d", h), pc)

		switch h % 4 {
		case 1:
			seq, err = s.Outbox().Put("pact/greenhouse/nodes/pi-3/decisions", bytes.Repeat([]byte{'d'}, 200))
			must(err)
			record(fmt.Sprintf("outbox put h=%d", h), pc)
		case 2:
			must(s.Outbox().Ack(seq))
			record(fmt.Sprintf("outbox ack h=%d", h), pc)
		case 3:
			must(s.BeginExecution(fmt.Sprintf("i-%d", h), "fan", h))
			record(fmt.Sprintf("begin execution h=%d", h), pc)
			must(s.FinishExecution(fmt.Sprintf("i-%d", h), []byte(`{"ok":true}`)))
			record(fmt.Sprintf("finish execution h=%d", h), pc)
		}
	}
	return out
}

// checkDurable opens the state file at path and reports how it differs from
// one of want: the guard, the decided log's end and the snapshot must all
// come from the same write.
func checkDurable(path string, want ...durable) (got durable, err error) {
	s, err := Open(path, testCluster, testNode, &Options{MustExist: true, KeepHeights: 4})
	if err != nil {
		return durable{}, err
	}
	defer s.Close()
	g, err := s.Guard()
	if err != nil {
		return durable{}, err
	}
	got = durable{guard: g, height: s.LastHeight()}
	if snap, err := s.Snapshot(); err != nil {
		return got, err
	} else if snap != nil {
		got.snapshot = snap.Height
	}
	if h := got.height; h > 0 {
		c, ok := s.Commit(h)
		if want := testCommit(h, 7, 0); !ok || !commitsEqual(c, &want) {
			return got, fmt.Errorf("the commit of h=%d reads back as %v", h, c)
		}
	}
	for _, err := range s.Outbox().Pending() {
		if err != nil {
			return got, err
		}
	}
	if err := s.Err(); err != nil {
		return got, err
	}
	for _, w := range want {
		if got.guard == w.guard && got.height == w.height && got.snapshot == w.snapshot {
			return got, nil
		}
	}
	return got, fmt.Errorf("%w: the file holds guard h=%d %s, last height %d, snapshot %d",
		errNotDurable, got.guard.Height, got.guard.Step, got.height, got.snapshot)
}

// errNotDurable: the file opened, but holds none of the states wanted.
var errNotDurable = errors.New("not a state the file may hold")

func tempStatePath(t testing.TB) string { return filepath.Join(t.TempDir(), "state.db") }
