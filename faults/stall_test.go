//go:build faults

package faults

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// A node frozen with SIGSTOP — what a Pi looks like when its SD card stalls
// or the kernel swaps hard — for 2, 10 and 30 s, while the other four keep
// deciding. Frozen is not faulty: nobody may eject it, and once it runs
// again it catches up with what was decided meanwhile and votes again.
func TestFaults_Stall(t *testing.T) {
	base := newCluster(t, 5)
	for k, d := range []time.Duration{2 * time.Second, 10 * time.Second, 30 * time.Second} {
		t.Run(fmt.Sprintf("sigstop_%s", d), func(t *testing.T) {
			c := base.on(t)
			c.checkAtEnd()
			x := 2 + k // a different node each time
			rest := others(c.all(), x)
			c.signal(x, syscall.SIGSTOP)
			stopped := true
			t.Cleanup(func() {
				if stopped {
					c.signal(x, syscall.SIGCONT)
				}
			})
			t.Logf("node-%d stopped for %s", x, d)
			c.hold(d, fmt.Sprintf("node-%d frozen", x))
			c.signal(x, syscall.SIGCONT)
			stopped = false
			var target uint64
			for _, h := range c.heights(rest) {
				target = max(target, h)
			}
			start := time.Now()
			waitFor(t, 30*time.Second, fmt.Sprintf("node-%d to catch up with height %d", x, target), func() (bool, string) {
				s, err := c.status(x)
				if err != nil {
					return false, err.Error()
				}
				return s.Height >= target, fmt.Sprintf("node-%d at height %d", x, s.Height)
			})
			t.Logf("node-%d caught up in %s", x, time.Since(start).Round(100*time.Millisecond))
			c.waitAdvance(30*time.Second, c.all(), "every node deciding, the thawed one included")
			if s, err := c.status(1); err == nil {
				for _, m := range s.Members {
					if m.Name == c.names[x-1] && m.State != "alive" {
						t.Errorf("node-1 sees node-%d as %s after it thawed", x, m.State)
					}
				}
			}
		})
	}
	base.requestWait("after-stalls", 30*time.Second)
}
