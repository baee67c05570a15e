package membership

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestMDNS_FindsPeersWithoutSeeds runs two nodes with mDNS on and no seeds
// inside a network namespace of its own (loopback only, with multicast
// routed to it), and checks that they find each other. It needs root and
// `ip netns`; it skips without them.
func TestMDNS_FindsPeersWithoutSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a network namespace; skipped in -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("no ip command")
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	ns := "pact-mdns-" + hex.EncodeToString(rnd[:])
	if out, err := exec.Command(ip, "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command(ip, "netns", "delete", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", ns, err, out)
		}
	})
	for _, args := range [][]string{
		{"link", "set", "lo", "up", "multicast", "on"},
		{"route", "add", "224.0.0.0/4", "dev", "lo"},
	} {
		cmd := append([]string{"netns", "exec", ns, ip}, args...)
		if out, err := exec.Command(ip, cmd...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", cmd, err, out)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ip, "netns", "exec", ns, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=mdns")
	out, err := cmd.CombinedOutput()
	t.Logf("child in %s:\n%s", ns, out)
	if err != nil {
		t.Fatalf("mDNS child failed: %v", err)
	}
}

// runMDNSChild is the namespace side of TestMDNS_FindsPeersWithoutSeeds.
func runMDNSChild() int {
	const timeout = 20 * time.Second
	var nodes []*Membership
	defer func() {
		for _, m := range nodes {
			_ = m.Shutdown()
		}
	}()
	for i, ip := range []string{"127.0.0.21", "127.0.0.22"} {
		cfg := DefaultConfig()
		cfg.Name = fmt.Sprintf("m%d", i+1)
		cfg.Cluster = "mdns test"
		cfg.BindAddr, cfg.BindPort = ip, 0
		cfg.GossipKeys = [][]byte{testKey}
		cfg.MDNS = true
		cfg.MDNSInterface = "lo"
		cfg.JoinBackoffMin = 100 * time.Millisecond
		m, err := New(cfg)
		if err != nil {
			fmt.Println("new:", err)
			return 1
		}
		nodes = append(nodes, m)
		if err := m.Start(context.Background()); err != nil {
			fmt.Println("start:", err)
			return 1
		}
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if len(nodes[0].Peers()) == 1 && len(nodes[1].Peers()) == 1 {
			for _, m := range nodes {
				fmt.Printf("%s sees %v (stats %+v)\n", m.cfg.Name, m.Peers(), m.Stats())
			}
			return 0
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, m := range nodes {
		fmt.Printf("%s sees %v after %v (stats %+v)\n", m.cfg.Name, m.Peers(), timeout, m.Stats())
	}
	return 1
}
