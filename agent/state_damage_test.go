package agent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/config"
)

// A damaged state file stops the agent before it can sign anything, with an
// error that names the file and tells the operator what to do; the file is
// left as it was for them to look at.
func TestNew_DamagedStateFileRefused(t *testing.T) {
	cl := newTestCluster(t, "127.0.71.", 1)
	path := cl.addNode(t, 1, "../cluster.yaml")
	acfg, c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(acfg, c, Options{NoAdmin: true})
	if err != nil {
		t.Fatal(err)
	}
	a.close()
	db := filepath.Join(acfg.DataDir, "pact.db")
	good, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"empty", func([]byte) []byte { return nil }},
		{"bytes flipped after the meta pages", func(b []byte) []byte {
			b = bytes.Clone(b)
			for i := 2 * os.Getpagesize(); i < len(b); i++ {
				b[i] ^= 0x5a
			}
			return b
		}},
		{"not a state file", func(b []byte) []byte { return bytes.Repeat([]byte("pact"), len(b)/4) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := tc.damage(good)
			if err := os.WriteFile(db, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			a, err := New(acfg, c, Options{NoAdmin: true})
			if err == nil {
				a.close()
				t.Fatal("New started an agent on a damaged state file")
			}
			msg := err.Error()
			for _, want := range []string{db, "corrupt", "will not sign", "pact retire node-1", "pact admit node-1", "OPERATIONS.md"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the error does not say %q: %v", want, err)
				}
			}
			if after, _ := os.ReadFile(db); !bytes.Equal(after, bad) {
				t.Error("New changed the damaged state file")
			}
		})
	}
}

// A node that has signed and then lost pact.db alone (deleted to "fix" it,
// say) must not start over with an empty double-sign guard: the marker in
// its data directory says it signed, and the agent refuses with the advice.
func TestNew_DeletedStateFileRefusedAfterSigning(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an agent on real sockets")
	}
	tc := newTestCluster(t, "127.0.73.", 1)
	path := tc.addNode(t, 1, "../cluster.yaml")
	r := startAgentWith(t, path, Options{NoAdmin: true})
	eventually(t, 20*time.Second, "a decided height", func() (bool, string) {
		h := r.status(t).Height
		return h >= 1, fmt.Sprintf("height %d", h)
	})
	r.stop()
	acfg, c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(acfg.DataDir, "pact.db")); err != nil {
		t.Fatal(err)
	}
	a, err := New(acfg, c, Options{NoAdmin: true})
	if err == nil {
		a.close()
		t.Fatal("New started a node that has signed on a recreated, empty state file")
	}
	for _, want := range []string{"pact.db is missing", "signed before", "pact retire node-1", "OPERATIONS.md"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
