package agent

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Telling systemd how the agent is doing
//
// The unit runs the agent as Type=notify with WatchdogSec. Run sends
// READY=1 once the node's listeners are up and membership has started
// joining its seeds (Start returned: the node is in the cluster, or its
// join loop is retrying with backoff — either way it is doing what it is
// meant to do, and a node whose seeds are all down must still count as
// started). STATUS= lines say how far it got ("joined 3 of 4 validators,
// height 120" or "waiting for seeds …"), at READY and then every
// statusEvery. WATCHDOG=1 is fed by the loop itself, from its ticker: a
// loop that is stuck stops feeding, and systemd restarts the agent.
// STOPPING=1 opens the shutdown.
//
// The datagrams are written by a goroutine of their own (notifier), never
// by the loop: a unixgram send to a service manager that does not read
// blocks once the socket's queue is full, and the loop must not stall on
// it. The loop hands messages over without waiting and drops them when the
// writer is behind. Without NOTIFY_SOCKET (not under systemd) there is no
// notifier at all, and every method below is a no-op on its nil receiver.

// Notifier sends sd_notify(3) state lines to the service manager.
// SystemdNotifier is the real one; tests record instead.
type Notifier interface {
	// Notify sends one datagram of newline-separated assignments
	// ("READY=1\nSTATUS=…"). It may block while the socket is full; the
	// agent calls it from a goroutine of its own.
	Notify(state string) error

	// WatchdogInterval is the service's watchdog timeout (WatchdogSec), or
	// zero when the watchdog is off.
	WatchdogInterval() time.Duration
}

// SystemdNotifier is the Notifier of a process started by systemd: it
// writes to $NOTIFY_SOCKET and reads $WATCHDOG_USEC (and $WATCHDOG_PID)
// through coreos/go-systemd's daemon package. Without NOTIFY_SOCKET it
// sends nothing.
type SystemdNotifier struct{}

var _ Notifier = SystemdNotifier{}

// Notify sends state to $NOTIFY_SOCKET.
func (SystemdNotifier) Notify(state string) error {
	_, err := daemon.SdNotify(false, state)
	return err
}

// WatchdogInterval reads $WATCHDOG_USEC; zero when it is unset or meant
// for another process.
func (SystemdNotifier) WatchdogInterval() time.Duration {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0
	}
	return d
}

// statusEvery is how often the STATUS= line is refreshed.
const statusEvery = 10 * time.Second

// notifyQueue bounds the messages waiting for the notifier's writer.
const notifyQueue = 8

// notifier is the agent's side of sd_notify: the loop's bookkeeping (when
// the watchdog and the status were last sent) and the writer goroutine.
// Everything but the writer belongs to the Run goroutine, which is the
// loop's.
type notifier struct {
	n        Notifier
	log      *slog.Logger
	watchdog time.Duration // feed every half of it; zero: no watchdog
	every    time.Duration // status refresh

	out     chan string
	done    chan struct{} // closed when the writer returned
	started bool

	lastFed, lastStatus time.Time
	dropped             uint64
}

// newNotifier returns the agent's notifier: n when given, the real one
// when the process runs under systemd (NOTIFY_SOCKET set), nil otherwise.
func newNotifier(n Notifier, log *slog.Logger) *notifier {
	if n == nil {
		if os.Getenv("NOTIFY_SOCKET") == "" {
			return nil
		}
		n = SystemdNotifier{}
	}
	sd := &notifier{n: n, log: log, watchdog: n.WatchdogInterval(), every: statusEvery,
		out: make(chan string, notifyQueue), done: make(chan struct{})}
	if sd.watchdog > 0 {
		log.Info("systemd watchdog on: the loop feeds it", "every", sd.watchdog/2, "timeout", sd.watchdog)
	}
	return sd
}

// write runs on its own goroutine until out is closed.
func (sd *notifier) write() {
	defer close(sd.done)
	failing := false
	for s := range sd.out {
		err := sd.n.Notify(s)
		switch {
		case err != nil && !failing:
			sd.log.Warn("cannot notify systemd; going on without it", "err", err)
		case err == nil && failing:
			sd.log.Info("notifying systemd again")
		}
		failing = err != nil
	}
}

// ready starts the writer and sends READY=1 with the first status line.
func (sd *notifier) ready(status string, now time.Time) {
	if sd == nil || sd.started {
		return
	}
	sd.started = true
	go sd.write()
	sd.lastFed, sd.lastStatus = now, now
	msg := "READY=1\nSTATUS=" + status
	if sd.watchdog > 0 {
		msg += "\nWATCHDOG=1"
	}
	sd.out <- msg // the queue is empty: this does not wait
}

// tick is the loop's: it feeds the watchdog every half interval and
// refreshes the status every statusEvery. status is called only when the
// line is due. It never waits.
func (sd *notifier) tick(now time.Time, status func() string) {
	if sd == nil || !sd.started {
		return
	}
	if sd.watchdog > 0 && now.Sub(sd.lastFed) >= sd.watchdog/2 {
		if sd.offer("WATCHDOG=1") {
			sd.lastFed = now
		}
	}
	if now.Sub(sd.lastStatus) >= sd.every {
		if sd.offer("STATUS=" + status()) {
			sd.lastStatus = now
		}
	}
}

// offer queues msg unless the writer is behind.
func (sd *notifier) offer(msg string) bool {
	select {
	case sd.out <- msg:
		return true
	default:
		sd.dropped++
		return false
	}
}

// stopping sends STOPPING=1 and stops the writer, waiting at most a second
// for a service manager that does not read.
func (sd *notifier) stopping() {
	if sd == nil || !sd.started {
		return
	}
	sd.started = false
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case sd.out <- "STOPPING=1\nSTATUS=stopping":
	case <-t.C:
	}
	close(sd.out)
	select {
	case <-sd.done:
	case <-t.C:
	}
}

// statusLine is the STATUS= text: how much of the cluster this node sees
// and how far it got. Loop goroutine only.
func (a *Agent) statusLine() string {
	if a.halted != nil {
		return fmt.Sprintf("halted at height %d: cannot persist consensus state; repair and restart", a.state.Height)
	}
	validators := a.state.ValidatorNames()
	peers, seen := 0, 0
	reachable := func(name string) bool { return name == a.name }
	switch {
	case a.members != nil:
		peers = len(a.members.Peers())
		reachable = func(name string) bool {
			m, ok := a.members.Member(name)
			return name == a.name || ok && m.State.Reachable()
		}
	case a.memLink != nil:
		ps := a.memLink.Peers()
		peers = len(ps)
		reachable = func(name string) bool { return name == a.name || slices.Contains(ps, name) }
	}
	for _, v := range validators {
		if reachable(v) {
			seen++
		}
	}
	role := ""
	if !a.node.Validators().Has(consensusID(a.name)) {
		role = "; not a validator: awaiting pact admit " + a.name
	}
	if peers == 0 {
		switch {
		case len(a.otherSeeds()) > 0:
			return "waiting for seeds " + strings.Join(a.otherSeeds(), ", ") + "…" + role
		case a.acfg.MDNS:
			return "waiting for peers (mDNS)…" + role
		case a.members != nil:
			return fmt.Sprintf("alone: no seeds configured, height %d%s", a.state.Height, role)
		}
	}
	return fmt.Sprintf("joined %d of %d validators, height %d%s", seen, len(validators), a.state.Height, role)
}

// otherSeeds are the seeds that are not this node's own address.
func (a *Agent) otherSeeds() []string {
	var out []string
	for _, s := range a.acfg.Seeds {
		if s != a.acfg.Bind && s != a.acfg.Advertise {
			out = append(out, s)
		}
	}
	return out
}
