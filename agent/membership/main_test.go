package membership

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the node program for tests that need separate
// processes (failure detection with SIGKILL/SIGSTOP) or another network
// namespace (mDNS): TestMain runs a child role when childEnv says so.
const (
	childEnv       = "PACT_MEMBERSHIP_CHILD"
	childConfigEnv = "PACT_MEMBERSHIP_CHILD_CONFIG"
)

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "node":
		os.Exit(runChildNode())
	case "mdns":
		os.Exit(runMDNSChild())
	}
	os.Exit(m.Run())
}

// childConfig is what a child node is told through childConfigEnv.
type childConfig struct {
	Name     string
	BindAddr string
	Seeds    []string
	Profile  string
}

// childLine is one line a child node prints: an event, with the wall-clock
// time it happened (all children share the machine's clock).
type childLine struct {
	T       int64  `json:"t"`
	Node    string `json:"node"`
	Ev      string `json:"ev"`
	Peer    string `json:"peer,omitempty"`
	Addr    string `json:"addr,omitempty"`
	N       int    `json:"n,omitempty"`
	Message string `json:"msg,omitempty"`
}

// runChildNode runs one membership node until stdin closes or it is
// signalled, printing every event as a JSON line on stdout.
func runChildNode() int {
	var cc childConfig
	if err := json.Unmarshal([]byte(os.Getenv(childConfigEnv)), &cc); err != nil {
		fmt.Fprintln(os.Stderr, "child config:", err)
		return 2
	}
	out := make(chan childLine, 1024)
	emit := func(l childLine) {
		l.T, l.Node = time.Now().UnixNano(), cc.Name
		select {
		case out <- l:
		default: // never block memberlist; the parent would see a gap
		}
	}
	cfg := DefaultConfig()
	cfg.Name, cfg.Cluster = cc.Name, "measure"
	cfg.BindAddr, cfg.BindPort = cc.BindAddr, 0
	cfg.GossipKeys = [][]byte{testKey}
	cfg.Seeds = cc.Seeds
	cfg.Profile = cc.Profile
	cfg.JoinBackoffMin, cfg.JoinBackoffMax = 100*time.Millisecond, time.Second
	cfg.OnEvent = func(e Event) {
		emit(childLine{Ev: e.Type.String(), Peer: e.Member.Name})
	}
	m, err := New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "new:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := m.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		return 1
	}
	emit(childLine{Ev: "ready", Addr: m.LocalNode().Addr})

	go func() { // the parent closes stdin (or dies): exit
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		stop()
	}()
	go func() { // refutations are counted, not evented
		var last uint64
		for range time.Tick(50 * time.Millisecond) {
			if n := m.Stats().Refutations; n != last {
				last = n
				emit(childLine{Ev: "refuted", N: int(n)})
			}
		}
	}()
	enc := json.NewEncoder(os.Stdout)
	for {
		select {
		case l := <-out:
			_ = enc.Encode(l)
		case <-ctx.Done():
			_ = m.Shutdown()
			return 0
		}
	}
}
