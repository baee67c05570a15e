package main

import (
	"crypto/ed25519"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
)

func TestTestnet_WritesAValidClusterWithDistinctPorts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tn")
	code, stdout, stderr := runCLI(t, "testnet", "--nodes", "7", "--byzantine", "2", "--out", dir,
		"--mqtt", "tcp://127.0.0.1:1883", "--base-port", "17946", "--cluster", "lab")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing (2 byzantine of 7 is within f)", stderr)
	}
	for i := 1; i <= 7; i++ {
		want := "pact agent --config " + filepath.Join(dir, "node-"+strconv.Itoa(i), "pact.yaml")
		if !strings.Contains(stdout, want) {
			t.Errorf("summary does not say %q:\n%s", want, stdout)
		}
	}

	for _, name := range []string{"operator.key", "node-1/identity.key", "node-7/identity.key"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", name, perm)
		}
	}

	ports := map[string]string{}
	claim := func(what, addr string) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if other, dup := ports[port]; dup {
			t.Errorf("port %s used by %s and %s", port, other, what)
		}
		ports[port] = what
	}
	var cluster *config.Cluster
	for i := 1; i <= 7; i++ {
		node := "node-" + strconv.Itoa(i)
		a, c, err := config.Load(filepath.Join(dir, node, "pact.yaml"))
		if err != nil {
			t.Fatalf("%s does not validate: %v", node, err)
		}
		cluster = c
		claim(node+" bind", a.Bind)
		claim(node+" admin", a.Admin)
		if a.Node != node || a.DataDir != filepath.Join(dir, node, "data") || a.KeyFile != filepath.Join(dir, node, "identity.key") {
			t.Errorf("%s: node %q, data_dir %q, key_file %q", node, a.Node, a.DataDir, a.KeyFile)
		}
		if a.MQTT.URL != "tcp://127.0.0.1:1883" || a.Hardware.Driver != config.DriverSim || a.Zone == "" {
			t.Errorf("%s: mqtt %q, driver %q, zone %q", node, a.MQTT.URL, a.Hardware.Driver, a.Zone)
		}
		if !a.CanPerform(c.Actions["blink"]) {
			t.Errorf("%s cannot blink", node)
		}
		if _, hasLED := a.Output("led"); !hasLED {
			t.Errorf("%s has no led output", node)
		}
		if (a.Adversary != nil) != (i > 5) || (a.Adversary != nil && a.Adversary.Mode != "mixed") {
			t.Errorf("%s adversary = %+v; want mixed on node-6 and node-7 only", node, a.Adversary)
		}
		if len(a.Seeds) == 0 {
			t.Errorf("%s has no seeds", node)
		}
		key, err := identity.Load(a.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := config.CheckIdentity(a, c, key.Public().(ed25519.PublicKey)); err != nil {
			t.Errorf("%s: %v", node, err)
		}
		if ws := config.Warnings(a, c); len(ws) != 0 && a.Adversary == nil {
			t.Errorf("%s has warnings: %v", node, ws)
		}
	}
	if cluster.Name != "lab" || len(cluster.Validators) != 7 || len(cluster.Operators) != 1 {
		t.Errorf("cluster %q with %d validators and %d operators", cluster.Name, len(cluster.Validators), len(cluster.Operators))
	}
	if _, ok := cluster.Actions["ventilate"]; !ok || cluster.Actions["ventilate"].Trigger == nil {
		t.Errorf("no triggered ventilate action")
	}
	opKey, err := identity.Load(filepath.Join(dir, "operator.key"))
	if err != nil {
		t.Fatal(err)
	}
	if cluster.Operators["operator"] != identity.Public(opKey) {
		t.Errorf("operator.key is not the operator listed in cluster.yaml")
	}
	fans := 0
	for i := 1; i <= 7; i++ {
		a, _, _ := config.Load(filepath.Join(dir, "node-"+strconv.Itoa(i), "pact.yaml"))
		if a.CanPerform(cluster.Actions["ventilate"]) {
			fans++
		}
	}
	if fans == 0 || fans == 7 {
		t.Errorf("%d of 7 nodes can ventilate; want some, not all", fans)
	}
}

func TestTestnet_SingleNodeAndAdversaryFlag(t *testing.T) {
	dir := newTestnet(t, "--nodes", "4", "--byzantine", "1", "--adversary", "equivocate", "--bind", "0.0.0.0")
	a, _, err := config.Load(filepath.Join(dir, "node-4", "pact.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Adversary == nil || a.Adversary.Mode != "equivocate" {
		t.Errorf("adversary = %+v", a.Adversary)
	}
	if a.Bind != "0.0.0.0:7949" || a.Seeds[0] != "127.0.0.1:7946" {
		t.Errorf("bind %q, seeds %v: want every interface bound and loopback seeds", a.Bind, a.Seeds)
	}

	one := newTestnet(t, "--nodes", "1")
	if _, _, err := config.Load(filepath.Join(one, "node-1", "pact.yaml")); err != nil {
		t.Errorf("1-node testnet: %v", err)
	}
}

func TestTestnet_RefusesToOverwrite(t *testing.T) {
	dir := newTestnet(t, "--nodes", "4")
	before, err := os.ReadFile(filepath.Join(dir, "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "testnet", "--nodes", "4", "--out", dir)
	if code != exitUsage || stdout != "" || !strings.Contains(stderr, "--force") {
		t.Errorf("second testnet into %s: exit %d, stdout %q, stderr %q; want 2 and advice to use --force", dir, code, stdout, stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "cluster.yaml")); string(after) != string(before) {
		t.Errorf("the refused run changed cluster.yaml")
	}

	// --force replaces the old testnet (stale node dirs included) and
	// leaves other files alone.
	keep := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "testnet", "--nodes", "2", "--out", dir, "--force")
	if code != exitOK {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "node-3")); !os.IsNotExist(err) {
		t.Errorf("node-3 of the old testnet is still there")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("--force removed an unrelated file: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "cluster.yaml")); string(after) == string(before) {
		t.Errorf("--force did not write a new cluster.yaml")
	}
}

func TestTestnet_UsageErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tn")
	tests := []struct {
		name     string
		args     []string
		mentions string
	}{
		{"no out", []string{"testnet"}, "--out"},
		{"zero nodes", []string{"testnet", "--out", out, "--nodes", "0"}, "--nodes"},
		{"all byzantine", []string{"testnet", "--out", out, "--nodes", "4", "--byzantine", "4"}, "--byzantine"},
		{"bad adversary", []string{"testnet", "--out", out, "--adversary", "chaos"}, `"chaos"`},
		{"bad cluster name", []string{"testnet", "--out", out, "--cluster", "My Lab"}, "--cluster"},
		{"bind not an IP", []string{"testnet", "--out", out, "--bind", "localhost"}, "--bind"},
		{"ports overflow", []string{"testnet", "--out", out, "--base-port", "65000"}, "--base-port"},
		{"bad mqtt url", []string{"testnet", "--out", out, "--mqtt", "http://broker"}, "mqtt.url"},
		{"stray argument", []string{"testnet", "--out", out, "extra"}, `"extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.mentions) {
				t.Errorf("stdout %q, stderr %q; want one line mentioning %q", stdout, stderr, tt.mentions)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused run created %s", out)
			}
		})
	}
}
