package store_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/consensus"
)

// The agent makes each consensus Ready durable before it sends anything, and
// after a restart builds its node from what the store holds.
func Example() {
	dir, err := os.MkdirTemp("", "pact-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "state.db")

	st, err := store.Open(path, "greenhouse", "pi-3", nil)
	if err != nil {
		log.Fatal(err) // ErrCorrupt: refuse to sign and alert; never start fresh
	}
	// What node.Ready() might hand out when height 1 is decided.
	guard := consensus.SignState{Height: 2, Round: 0, Step: consensus.StepPropose, POLRound: -1, LockedRound: -1}
	decided := []consensus.Commit{{Block: consensus.Block{Height: 1, Entries: []consensus.Entry{[]byte("assign fan-1")}}}}
	snap := &store.Snapshot{Height: 1, Data: []byte("agreed state after h=1")}
	if err := st.SaveReady(&guard, decided, snap); err != nil {
		log.Fatal(err) // do not send the Ready's messages
	}
	// ... send the messages, node.Advance() ...
	st.Close()

	// After a restart (MustExist: this node has signed before).
	st, err = store.Open(path, "greenhouse", "pi-3", &store.Options{MustExist: true})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	g, err := st.Guard()
	if err != nil {
		log.Fatal(err)
	}
	s, err := st.Snapshot()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("resume at height", st.LastHeight()+1)
	fmt.Println("last signed:", g.Height, g.Step)
	fmt.Printf("state: %s\n", s.Data)
	// Output:
	// resume at height 2
	// last signed: 2 propose
	// state: agreed state after h=1
}
