package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestSim_JSONContract(t *testing.T) {
	code, stdout, stderr := runCLI(t, "sim", "--nodes", "4", "--byzantine", "1", "--strategy", "equivocate",
		"--heights", "20", "--seed", "3", "--drop", "0.1", "--fake-sigs", "--json")
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	for _, key := range []string{"seed", "decided_heights", "safety_violations", "ejected", "liveness_ok", "violations", "rounds", "messages", "wall_ms"} {
		if _, ok := got[key]; !ok {
			t.Errorf("JSON lacks %q", key)
		}
	}
	if got["seed"] != float64(3) || got["decided_heights"].(float64) < 20 || got["safety_violations"] != float64(0) {
		t.Errorf("seed %v, decided %v, violations %v", got["seed"], got["decided_heights"], got["safety_violations"])
	}
	if ej, _ := got["ejected"].([]any); len(ej) != 1 || ej[0] != "node-4" {
		t.Errorf("ejected %v, want [node-4]", got["ejected"])
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
}

// TestSim_LiarsAreEjected is the done-when through the command:
// with 7 nodes and 2 adversaries lying about the world, the JSON lists both
// as ejected by accusation, nobody else, and the command exits 0.
func TestSim_LiarsAreEjected(t *testing.T) {
	for _, strategy := range []string{"lie-sensor", "false-outcome"} {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, "sim", "--nodes", "7", "--byzantine", "2", "--strategy", strategy,
				"--heights", "30", "--seed", "5", "--fake-sigs", "--json")
			if code != exitOK {
				t.Fatalf("exit %d; stderr: %s\n%s", code, stderr, stdout)
			}
			var got struct {
				SafetyViolations int      `json:"safety_violations"`
				DetectionOK      bool     `json:"detection_ok"`
				Ejected          []string `json:"ejected"`
				Ejections        []struct {
					Node     string   `json:"node"`
					Reason   string   `json:"reason"`
					Accusers []string `json:"accusers"`
				} `json:"ejections"`
			}
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
			}
			if !slices.Equal(got.Ejected, []string{"node-6", "node-7"}) || got.SafetyViolations != 0 || !got.DetectionOK {
				t.Fatalf("ejected %v, %d safety violations, detection ok %t", got.Ejected, got.SafetyViolations, got.DetectionOK)
			}
			for _, e := range got.Ejections {
				if e.Reason != "accused" || len(e.Accusers) < 2 {
					t.Errorf("ejection %+v: want one by accusation", e)
				}
			}
		})
	}
}

// TestSim_UndetectedLiarExitsOne: a run too short for the audit to judge a
// lying sensor fails its detection check, and says why.
func TestSim_UndetectedLiarExitsOne(t *testing.T) {
	code, stdout, stderr := runCLI(t, "sim", "--nodes", "4", "--byzantine", "1", "--strategy", "lie-sensor",
		"--heights", "5", "--seed", "1", "--fake-sigs", "--max-time", "10s")
	if code != exitFailure {
		t.Fatalf("exit %d, want %d\n%s", code, exitFailure, stdout)
	}
	if !strings.Contains(stdout, "not-ejected: adversary node-4 (lie-sensor)") || !strings.Contains(stderr, "detection ok: false") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}

func TestSim_HumanOutputPrintsSeedAndReplay(t *testing.T) {
	code, stdout, _ := runCLI(t, "sim", "--nodes", "4", "--byzantine", "1", "--heights", "10", "--fake-sigs",
		"--partition", "1|2-4@100ms-200ms")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stdout)
	}
	for _, want := range []string{"pact sim: seed ", "replay: pact sim --nodes 4 --byzantine 1 --heights 10 --seed ", "--partition '1|2-4@100ms-200ms'", "checks    ok"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestSim_Narrate(t *testing.T) {
	code, stdout, _ := runCLI(t, "sim", "--nodes", "7", "--byzantine", "2", "--strategy", "equivocate",
		"--heights", "20", "--seed", "1", "--fake-sigs", "--narrate")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stdout)
	}
	for _, want := range []string{"start", "evidence", "ejection", "progress", "done"} {
		if !strings.Contains(stdout, "] "+want) {
			t.Errorf("narration lacks %q:\n%s", want, stdout)
		}
	}
}

// TestSim_FailureExitsOne: a run whose checks fail exits 1 and says how to
// replay it.
func TestSim_FailureExitsOne(t *testing.T) {
	code, stdout, stderr := runCLI(t, "sim", "--nodes", "4", "--byzantine", "2", "--strategy", "silent",
		"--heights", "5", "--seed", "1", "--fake-sigs", "--max-time", "3s")
	if code != exitFailure {
		t.Fatalf("exit %d, want %d\n%s", code, exitFailure, stdout)
	}
	if !strings.Contains(stdout, "liveness: ") || !strings.Contains(stderr, "replay with: pact sim --nodes 4 --byzantine 2 --heights 5 --seed 1 --strategy silent") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}

func TestSim_UsageErrors(t *testing.T) {
	tests := []struct {
		args     []string
		mentions string
	}{
		{[]string{"--drop", "1.5"}, "--drop"},
		{[]string{"--strategy", "bogus"}, "none, silent, equivocate"},
		{[]string{"--strategy", "none"}, "--byzantine 0"},
		{[]string{"--nodes", "0"}, "--nodes"},
		{[]string{"--partition", "1|9"}, "--partition"},
		{[]string{"--crash", "2"}, "--crash"},
		{[]string{"--nodes", "x"}, "-nodes"},
		{[]string{"extra"}, `"extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"sim"}, tt.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.mentions) {
				t.Errorf("stderr = %q: want one line mentioning %q", stderr, tt.mentions)
			}
		})
	}
}
