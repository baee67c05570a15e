//go:build faults

package faults

import (
	"fmt"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
)

// The broker dies (SIGKILL, no persistence) while a burst of 200 requests
// is being performed, and comes back empty three seconds later. Every
// outcome must still reach a subscriber at least once: what the broker had
// not acknowledged stays in each performer's outbox and goes out again on
// the new connection.
func TestFaults_BrokerRestartMidBurst(t *testing.T) {
	const burst = 200
	c := newCluster(t, 5)
	c.checkAtEnd()
	instances := make([]string, burst)
	for k := range burst {
		id := fmt.Sprintf("burst-%03d", k)
		instances[k] = agreed.InstanceID(clusterName, id)
		c.request(id, "tick")
	}
	okCount := func() int {
		n := 0
		for _, inst := range instances {
			if p, _ := c.obs.okOutcomes(inst); len(p) > 0 {
				n++
			}
		}
		return n
	}
	// Every node has every request (the broker delivered them: after the
	// kill it could not), and performing has begun but not ended.
	waitFor(t, 30*time.Second, "every node to receive the burst and the first outcomes", func() (bool, string) {
		ss, err := c.statuses(c.all())
		if err != nil {
			return false, err.Error()
		}
		for i, s := range ss {
			if s.Counters["requests_received"] < burst {
				return false, fmt.Sprintf("node-%d received %d requests", i, s.Counters["requests_received"])
			}
		}
		return okCount() > 0, "no outcome yet"
	})
	before := okCount()
	if before == burst {
		t.Fatalf("the burst was served before the broker could be killed: lengthen the tick action")
	}
	c.broker.Kill()
	t.Logf("broker killed with %d of %d outcomes delivered", before, burst)
	time.Sleep(3 * time.Second)
	c.broker.Start()
	t.Log("broker back, empty")
	start := time.Now()
	waitFor(t, 90*time.Second, "every outcome of the burst at the subscriber", func() (bool, string) {
		n := okCount()
		return n == burst, fmt.Sprintf("%d of %d", n, burst)
	})
	t.Logf("all %d outcomes delivered %s after the broker came back (%d before the kill)", burst, time.Since(start).Round(100*time.Millisecond), before)
	c.requestWait("after-broker", 30*time.Second)
}
