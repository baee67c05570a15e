//go:build faults

package faults

import (
	"testing"
	"time"
)

// Delay, jitter and random loss on every link, where the kernel has netem
// (skipped where it does not, as in many containers): 40 ms ± 20 ms each
// way and 5 % loss for 20 s, with requests throughout. The cluster may slow
// down but must stay safe, eject nobody, and be live once the links are
// clean again.
func TestFaults_DelayAndLoss(t *testing.T) {
	if !netemAvailable(t) {
		t.Skip("the kernel has no netem qdisc (tc: unknown qdisc kind): delay, jitter and random loss are not exercised here; partitions and one-way loss are")
	}
	c := newCluster(t, 5)
	c.checkAtEnd()
	for _, i := range c.all() {
		c.lab.netem(i, "delay", "40ms", "20ms", "loss", "5%")
	}
	c.hold(20*time.Second, "delay and loss")
	for _, i := range c.all() {
		c.lab.netem(i, "delay", "0ms")
	}
	c.waitAdvance(30*time.Second, c.all(), "every node deciding on clean links")
	c.requestWait("after-netem", 30*time.Second)
}
