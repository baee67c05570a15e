package agent

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingNotifier is a Notifier that keeps what it is sent.
type recordingNotifier struct {
	watchdog time.Duration

	mu   sync.Mutex
	sent []string // one entry per datagram
}

var _ Notifier = (*recordingNotifier)(nil)

func (n *recordingNotifier) Notify(state string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, state)
	return nil
}

func (n *recordingNotifier) WatchdogInterval() time.Duration { return n.watchdog }

// lines returns every assignment sent so far, in order.
func (n *recordingNotifier) lines() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, s := range n.sent {
		out = append(out, strings.Split(s, "\n")...)
	}
	return out
}

func (n *recordingNotifier) count(line string) int {
	c := 0
	for _, l := range n.lines() {
		if l == line {
			c++
		}
	}
	return c
}

// READY=1 follows the start with a status line, the loop feeds the
// watchdog while it runs and stops feeding it while it is stuck, the
// status is refreshed, and shutdown begins with STOPPING=1.
func TestNotify_ReadyWatchdogStopping(t *testing.T) {
	tc := newTestCluster(t, "127.0.10.", 1)
	path := tc.addNode(t, 1, "../cluster.yaml")
	n := &recordingNotifier{watchdog: 400 * time.Millisecond}
	r := startAgentWith(t, path, Options{NoAdmin: true, Notifier: n}, func(a *Agent) { a.sd.every = 300 * time.Millisecond })

	eventually(t, 5*time.Second, "READY=1", func() (bool, string) {
		return n.count("READY=1") == 1, strings.Join(n.lines(), " | ")
	})
	first := n.lines()
	if first[0] != "READY=1" || !strings.HasPrefix(first[1], "STATUS=waiting for seeds 127.0.10.2:7946") {
		t.Fatalf("first datagram %q, want READY=1 then STATUS=waiting for seeds 127.0.10.2:7946…", first)
	}
	eventually(t, 5*time.Second, "the watchdog fed and the status refreshed", func() (bool, string) {
		return n.count("WATCHDOG=1") >= 4 && countPrefix(n.lines(), "STATUS=") >= 3, strings.Join(n.lines(), " | ")
	})

	// Block the loop through the tests' window on it: the watchdog starves.
	blocked, release := make(chan struct{}), make(chan struct{})
	go func() { r.a.inspectReq <- func() { close(blocked); <-release } }()
	<-blocked
	time.Sleep(250 * time.Millisecond) // what was queued before the block is written
	fed := n.count("WATCHDOG=1")
	time.Sleep(1200 * time.Millisecond) // three watchdog periods
	if got := n.count("WATCHDOG=1"); got != fed {
		t.Fatalf("WATCHDOG=1 sent %d times while the loop was stuck", got-fed)
	}
	close(release)
	eventually(t, 5*time.Second, "the watchdog fed again", func() (bool, string) {
		return n.count("WATCHDOG=1") >= fed+2, ""
	})

	r.stop()
	lines := n.lines()
	if n.count("STOPPING=1") != 1 || !slices.Contains(lines[len(lines)-2:], "STOPPING=1") {
		t.Fatalf("last datagram %q, want STOPPING=1", lines[len(lines)-2:])
	}
	if n.count("READY=1") != 1 {
		t.Fatalf("READY=1 sent %d times, want once", n.count("READY=1"))
	}
}

// Without NOTIFY_SOCKET and without a Notifier, nothing is set up.
func TestNotify_NoSocketIsANoOp(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	sd := newNotifier(nil, nil)
	if sd != nil {
		t.Fatalf("notifier %+v without NOTIFY_SOCKET", sd)
	}
	sd.ready("x", time.Now())
	sd.tick(time.Now(), func() string { t.Fatal("status asked for"); return "" })
	sd.stopping()
}

// A writer that is stuck (systemd not reading) never blocks the loop: the
// loop's messages are dropped instead.
func TestNotify_StuckWriterDoesNotBlockTheLoop(t *testing.T) {
	stuck := make(chan struct{})
	defer close(stuck)
	n := blockingNotifier{stuck}
	sd := newNotifier(n, discard)
	now := time.Now()
	sd.ready("starting", now)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			sd.tick(now.Add(time.Duration(i)*time.Minute), func() string { return "ok" })
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("tick blocked on a stuck writer")
	}
	if sd.dropped == 0 {
		t.Fatal("nothing dropped with a stuck writer")
	}
}

type blockingNotifier struct{ stuck chan struct{} }

func (b blockingNotifier) Notify(string) error {
	<-b.stuck
	return nil
}
func (blockingNotifier) WatchdogInterval() time.Duration { return time.Second }

func countPrefix(lines []string, prefix string) int {
	c := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			c++
		}
	}
	return c
}
