package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/seed44533760/pact/agent/identity"
)

// newTestnet writes a testnet into a fresh directory and returns it.
func newTestnet(t *testing.T, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tn")
	code, _, stderr := runCLI(t, append([]string{"testnet", "--out", dir}, args...)...)
	if code != exitOK {
		t.Fatalf("pact testnet: exit %d: %s", code, stderr)
	}
	return dir
}

func TestConfigValidate_OK(t *testing.T) {
	dir := newTestnet(t, "--nodes", "4")
	agentFile := filepath.Join(dir, "node-2", "pact.yaml")
	clusterFile := filepath.Join(dir, "cluster.yaml")

	code, stdout, stderr := runCLI(t, "config", "validate", agentFile, clusterFile)
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	want := agentFile + ": ok\n" + clusterFile + ": ok\n" + clusterFile + ": ok\n"
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want no warnings for a clean testnet node", stderr)
	}
}

func TestConfigValidate_ReportsEveryProblemAndExits2(t *testing.T) {
	dir := newTestnet(t, "--nodes", "4")
	agentFile := filepath.Join(dir, "node-1", "pact.yaml")
	edit(t, agentFile,
		"mdns: false", "mdns: false\nmdsn: true",
		"pin: GPIO27", "pin: GPIO17",
		"watches: node-2/led", "watches: node-2.led")
	edit(t, filepath.Join(dir, "cluster.yaml"),
		"prevote: 500ms", "prevote: 450ms",
		"below: 26", "below: 30")

	code, stdout, stderr := runCLI(t, "config", "validate", agentFile)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing for a failed file", stdout)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	wants := []string{
		agentFile + `:\d+: mdsn: unknown key "mdsn"; did you mean "mdns"\?`,
		agentFile + `:\d+: hardware.outputs\[1\].pin: pin GPIO17 is already used by hardware.outputs\[0\]`,
		agentFile + `:\d+: hardware.inputs\[0\].watches: "node-2.led" must be node/output`,
		`cluster.yaml:\d+: timings.prevote: 450ms is not a whole number of ticks`,
		`cluster.yaml:\d+: actions.ventilate.trigger.below: 30 must be less than above`,
	}
	if len(lines) != len(wants) {
		t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(wants), stderr)
	}
	for i, w := range wants {
		if !regexp.MustCompile(w).MatchString(lines[i]) {
			t.Errorf("line %d = %q, want it to match %q", i+1, lines[i], w)
		}
	}
}

func TestConfigValidate_KeyFileChecks(t *testing.T) {
	dir := newTestnet(t, "--nodes", "4")
	// node-2 gets node-3's key: it could never sign as node-2.
	data, err := os.ReadFile(filepath.Join(dir, "node-3", "identity.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "node-2", "identity.key"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "config", "validate", filepath.Join(dir, "node-2", "pact.yaml"))
	if code != exitUsage || !strings.Contains(stderr, "key_file:") || !strings.Contains(stderr, "validators.node-2") {
		t.Errorf("exit %d, stderr %q; want 2 and a key_file mismatch", code, stderr)
	}

	// node-4's key readable by everyone: the agent would refuse it.
	if err := os.Chmod(filepath.Join(dir, "node-4", "identity.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "config", "validate", filepath.Join(dir, "node-4", "pact.yaml"))
	if code != exitUsage || !strings.Contains(stderr, "chmod 600") {
		t.Errorf("exit %d, stderr %q; want 2 and chmod advice", code, stderr)
	}

	// A key not created yet is fine: the agent creates it on first start.
	if err := os.Remove(filepath.Join(dir, "node-1", "identity.key")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "config", "validate", filepath.Join(dir, "node-1", "pact.yaml")); code != exitOK {
		t.Errorf("missing key: exit %d: %s", code, stderr)
	}
}

func TestConfigValidate_UsageAndUnreadable(t *testing.T) {
	dir := t.TempDir()
	notConfig := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(notConfig, []byte("log: {level: info}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("node: a\n  bind: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		mentions string
	}{
		{"no subcommand", []string{"config"}, "expected validate"},
		{"unknown subcommand", []string{"config", "check"}, `"check"`},
		{"no file", []string{"config", "validate"}, "at least one file"},
		{"missing file", []string{"config", "validate", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"neither kind", []string{"config", "validate", notConfig}, "neither an agent file nor a cluster file"},
		{"syntax error", []string{"config", "validate", broken}, broken + ":2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout = %q", stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.mentions) {
				t.Errorf("stderr = %q, want one line mentioning %q", stderr, tt.mentions)
			}
		})
	}
}

func TestConfigKeygenAndPubkey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "operator.key")
	code, stdout, stderr := runCLI(t, "config", "keygen", path)
	if code != exitOK {
		t.Fatalf("keygen: exit %d: %s", code, stderr)
	}
	key, err := identity.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := identity.Public(key) + "\n"; stdout != want {
		t.Errorf("keygen printed %q, want %q", stdout, want)
	}
	code, again, _ := runCLI(t, "config", "pubkey", path)
	if code != exitOK || again != stdout {
		t.Errorf("pubkey: exit %d, printed %q, want %q", code, again, stdout)
	}
	code, _, stderr = runCLI(t, "config", "keygen", path)
	if code != exitFailure || !strings.Contains(stderr, "never overwritten") {
		t.Errorf("keygen over an existing key: exit %d, stderr %q", code, stderr)
	}
	if after, _ := identity.Load(path); !after.Equal(key) {
		t.Errorf("keygen replaced an existing key")
	}
}

// edit replaces old with new in file, for each pair, failing if one is
// missing.
func edit(t *testing.T, file string, pairs ...string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("%s has no %q", file, pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
