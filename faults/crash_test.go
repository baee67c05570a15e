//go:build faults

package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
)

// kill -9 and restart storms: at every step the proposer of the next height
// dies without a goodbye, on every other step with a second node (which
// leaves three of five, below the quorum of four, until they are back), and
// comes back after a random pause, while requests keep arriving. Afterwards:
// no node was ejected and none proved an equivocation (an honest node that
// signed two conflicting votes across a restart would be), no two nodes
// decided different blocks at one height, and every request has exactly one
// successful outcome — none lost, none performed twice — and no node started
// one instance twice. The pauses come from a seed the log prints;
// FAULTS_SEED replays one.
func TestFaults_KillStorm(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FAULTS_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (FAULTS_SEED=%d replays these pauses)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	c := newCluster(t, 5)
	c.checkAtEnd()
	var ids []string
	ask := func(n int) {
		for range n {
			id := fmt.Sprintf("storm-%d", len(ids))
			c.request(id, "tick")
			ids = append(ids, id)
		}
	}
	ask(3)
	const steps = 8
	for step := range steps {
		victims := []int{c.nextProposer()}
		if step%2 == 1 {
			victims = append(victims, others(c.all(), victims[0])[rng.IntN(c.n-1)])
		}
		for _, v := range victims {
			c.kill(v)
		}
		down := time.Duration(300+rng.IntN(2000)) * time.Millisecond
		t.Logf("step %d: kill -9 %v, down for %s", step+1, victims, down)
		ask(2)
		time.Sleep(down)
		for _, v := range victims {
			c.start(v)
		}
		ask(2)
		// The next step's victim is chosen by a running node; give the
		// restarted ones a moment to open their admin API.
		waitFor(t, 20*time.Second, "the restarted nodes to answer", func() (bool, string) {
			_, err := c.statuses(victims)
			return err == nil, fmt.Sprint(err)
		})
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
	}

	c.waitAgreed(60*time.Second, "all five at one height after the storm")
	waitFor(t, 90*time.Second, "an ok outcome for every request of the storm", func() (bool, string) {
		var missing []string
		for _, id := range ids {
			if p, _ := c.obs.okOutcomes(agreed.InstanceID(clusterName, id)); len(p) == 0 {
				missing = append(missing, id)
			}
		}
		return len(missing) == 0, fmt.Sprintf("%d of %d without an ok outcome: %v", len(missing), len(ids), missing)
	})
	time.Sleep(2 * time.Second) // a duplicate would be on its way by now
	for _, id := range ids {
		instance := agreed.InstanceID(clusterName, id)
		if p, msgs := c.obs.okOutcomes(instance); len(p) != 1 {
			t.Errorf("%s (%s): ok outcomes from %v (%d messages), want exactly one performer", id, instance, p, msgs)
		}
		for _, i := range c.all() {
			if n := c.grepLogs(i, "msg=performing node="+c.names[i-1]+" action=tick instance="+instance); n > 1 {
				t.Errorf("node-%d started %s %d times: an instance must run at most once per node, across crashes", i, instance, n)
			}
		}
	}
	for _, i := range c.all() {
		if n := c.grepLogs(i, "panic"); n > 0 {
			t.Errorf("node-%d's log mentions panic %d times", i, n)
		}
	}
	c.requestWait("after-storm", 30*time.Second)
	t.Logf("%d requests, each performed once; %s", len(ids), strings.TrimSpace(c.obs.summary()))
}

// A performer finishes an action but its outcome never reaches its peers:
// cut off from them while it drives, it is killed right after recording the
// outcome (the frames it still had queued die with it) and comes back. The
// broker has the outcome; the peers do not. At the deadline they must ask
// the performer, which answers from its store, and not give the work to
// somebody else: a lost report is no reason to run an action twice.
func TestFaults_OutcomeLostWithItsPerformer(t *testing.T) {
	c := newCluster(t, 5)
	c.checkAtEnd()
	c.request("lost-1", "hold")
	instance := agreed.InstanceID(clusterName, "lost-1")
	x, began := 0, time.Time{}
	waitFor(t, 20*time.Second, "a node performing hold", func() (bool, string) {
		for _, i := range c.all() {
			if c.grepLogs(i, "msg=performing node="+c.names[i-1]+" action=hold instance="+instance) > 0 {
				x, began = i, time.Now()
				return true, ""
			}
		}
		return false, "nobody yet"
	})
	for _, to := range others(c.all(), x) {
		c.lab.block(x, to)
	}
	t.Logf("node-%d performs hold; nothing it sends reaches its peers", x)
	waitFor(t, 10*time.Second, "node-"+strconv.Itoa(x)+" to record its outcome", func() (bool, string) {
		return c.grepLogs(x, "msg=performed node="+c.names[x-1]+" action=hold instance="+instance) > 0, ""
	})
	c.kill(x)
	c.lab.heal()
	c.start(x)
	t.Logf("node-%d killed after performing, restarted", x)

	// Peers reassign a grace (1.2 s) after the deadline; wait for that,
	// and for the work a reassignment would start.
	time.Sleep(time.Until(began.Add(hold.Deadline + 10*time.Second)))
	if p, msgs := c.obs.okOutcomes(instance); len(p) != 1 || p[0] != c.names[x-1] {
		t.Errorf("ok outcomes of %s from %v (%d messages), want node-%d's alone", instance, p, msgs, x)
	}
	for _, i := range c.all() {
		if n := c.grepLogs(i, "msg=performing node="+c.names[i-1]+" action=hold instance="+instance); i != x && n > 0 {
			t.Errorf("node-%d performed %s too: the lost outcome was taken for undone work", i, instance)
		}
	}
	st, err := c.statuses(others(c.all(), x))
	if err != nil {
		t.Fatal(err)
	}
	queries := 0
	for _, s := range st {
		queries += int(s.Counters["outcome_queries"])
	}
	if queries == 0 {
		t.Errorf("no peer asked node-%d for its outcome (outcome_queries 0 everywhere)", x)
	}
	c.requestWait("after-lost-outcome", 30*time.Second)
}
