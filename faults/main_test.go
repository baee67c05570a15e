//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

// pactBin is the pact binary the agents run: $PACT_BIN (make test-faults
// passes the one it built), or one built here for the test run.
var pactBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	pactBin = os.Getenv("PACT_BIN")
	if pactBin == "" {
		dir, err := os.MkdirTemp("", "pact-faults-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "faults:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		pactBin = filepath.Join(dir, "pact")
		build := exec.Command("go", "build", "-o", pactBin, "github.com/seed44533760/pact/cmd/pact")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "faults: building pact:", err)
			return 1
		}
	} else if abs, err := filepath.Abs(pactBin); err == nil {
		pactBin = abs
	}
	return m.Run()
}

// request publishes a signed request for action with id, as `pact request`
// would, from the test process (spawning a process per request would make a
// burst measure fork and exec). It retries while the broker is away.
func (c *cluster) request(id, action string) {
	c.t.Helper()
	req := &wire.Request{Header: wire.Header{TS: wire.Timestamp(time.Now())}, ID: id, Action: action}
	if err := wire.SignRequest(clusterName, req, c.operator); err != nil {
		c.t.Fatal(err)
	}
	payload, _ := json.Marshal(req)
	topic := wire.Topics{Cluster: clusterName}.Request(action)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(c.t.Context(), 5*time.Second)
		err := c.obs.tool.Publish(ctx, topic, 1, false, payload)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("publish request %s: %v", id, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
