package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/seed44533760/pact/internal/version"
)

// runCLI runs the CLI in-process and returns its exit code and outputs.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRun_Version(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("exit code = %d, want %d; stderr: %s", code, exitOK, stderr)
			}
			if want := version.String() + "\n"; stdout != want {
				t.Errorf("stdout = %q, want %q", stdout, want)
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
		})
	}
}

// TestRun_UsageErrors checks the contract for user mistakes: exit code 2,
// nothing on stdout, and exactly one line on stderr that names the problem
// and points at `pact help`.
func TestRun_UsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		mentions string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"flag instead of command", []string{"--nodes", "3"}, `unknown command "--nodes"`},
		{"version with an argument", []string{"version", "extra"}, `"extra"`},
		{"version with an unknown flag", []string{"version", "--json"}, "-json"},
		{"help for an unknown command", []string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{"help with two names", []string{"help", "version", "sim"}, "at most one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if !strings.HasPrefix(stderr, "pact") || !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line starting with \"pact\"", stderr)
			}
			if !strings.Contains(stderr, tt.mentions) {
				t.Errorf("stderr = %q, want it to mention %q", stderr, tt.mentions)
			}
			if !strings.Contains(stderr, "pact help") {
				t.Errorf("stderr = %q, want it to say to run 'pact help'", stderr)
			}
		})
	}
}

func TestRun_Help(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"help", "help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("exit code = %d, want %d; stderr: %s", code, exitOK, stderr)
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
			for name, c := range commands {
				if !strings.Contains(stdout, "  "+name+" ") || !strings.Contains(stdout, c.summary) {
					t.Errorf("help does not list %q with its summary %q:\n%s", name, c.summary, stdout)
				}
			}
		})
	}
}

// TestRun_HelpForEachCommand checks that every registered command answers
// `pact help NAME` (and so -h) with its usage on stdout and exit code 0.
func TestRun_HelpForEachCommand(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "help", name)
			if code != exitOK {
				t.Fatalf("pact help %s: exit code = %d, want %d; stderr: %s", name, code, exitOK, stderr)
			}
			if !strings.Contains(stdout, "pact "+name) {
				t.Errorf("pact help %s: stdout = %q, want a usage line naming the command", name, stdout)
			}
		})
	}
}

func TestRegister_RejectsMistakes(t *testing.T) {
	tests := []struct {
		name string
		cmd  command
	}{
		{"duplicate", command{name: "version", summary: "again", run: runVersion}},
		{"no name", command{summary: "nameless", run: runVersion}},
		{"no summary", command{name: "quiet", run: runVersion}},
		{"no run", command{name: "idle", summary: "does nothing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(commands)
			defer func() {
				if recover() == nil {
					t.Errorf("register(%+v) did not panic", tt.cmd)
				}
				if len(commands) != before {
					t.Errorf("register changed the table from %d to %d commands", before, len(commands))
				}
			}()
			register(tt.cmd)
		})
	}
}
