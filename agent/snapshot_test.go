package agent

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/consensus"
)

// The stored snapshot lags the log by up to snapshotEvery heights; a start
// replays the commits after it. Replaying the whole log onto the genesis
// state must give, byte for byte, the state the agent held when it stopped
// (which a clean stop writes as the snapshot); an agent started again
// resumes with that state. (Starts on a lagging snapshot: the kill -9
// storms of the fault suite.)
func TestSnapshot_ReplayRebuildsTheState(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an agent on real sockets")
	}
	tc := newTestCluster(t, "127.0.72.", 1, actionCatalogue)
	reps := memoryReports{}
	r := reps.start(t, tc, 1)
	for i := range 4 {
		reps.request(t, tc, fmt.Sprintf("snap-%d", i), "blink", map[string]string{"duration": "50ms"})
	}
	eventually(t, 30*time.Second, "four blinks performed", func() (bool, string) {
		n := r.status(t).Counters["actions_performed"]
		return n >= 4, fmt.Sprintf("%d performed", n)
	})
	r.stop()
	if r.err != nil {
		t.Fatal(r.err)
	}
	height := r.a.state.Height
	if height < 3 || height >= snapshotEvery {
		t.Fatalf("height %d: the test needs a few heights, fewer than %d", height, snapshotEvery)
	}
	if r.a.snapHeight != height {
		t.Errorf("a clean stop left the snapshot at %d, the state at %d", r.a.snapHeight, height)
	}
	want := r.a.state.Snapshot()

	acfg, cl, err := config.Load(tc.files["node-1"])
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(acfg.DataDir, "pact.db"), cl.Name, consensus.NodeID("node-1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	genesis := map[string]ed25519.PublicKey{}
	for name := range cl.Validators {
		k, _ := cl.ValidatorKey(name)
		genesis[name] = k
	}
	s, err := agreed.Genesis(cl.Name, genesis, cl.OperatorKeys())
	if err != nil {
		t.Fatal(err)
	}
	s.SetRules(agreed.Rules{Actions: cl.Actions, Now: time.Now})
	if err := replayCommits(st, s); err != nil {
		t.Fatal(err)
	}
	if got := s.Snapshot(); !bytes.Equal(got, want) {
		t.Errorf("genesis + %d replayed commits:\n%s\nthe agent's state:\n%s", height, got, want)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := New(acfg, cl, Options{NoAdmin: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if a.state.Height != height || !bytes.Equal(a.state.Snapshot(), want) {
		t.Errorf("restarted at height %d, want %d with the same state", a.state.Height, height)
	}
}
