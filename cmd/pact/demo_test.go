package main

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func freeDemoPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The real command: a broker, four agents (node-4 equivocating) on
// loopback with simulated hardware, the narration and the invariants.
func TestDemo_EndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a four-agent cluster for 45 seconds")
	}
	t.Setenv("TMPDIR", t.TempDir())
	port := freeDemoPort(t)
	var stdout, stderr bytes.Buffer
	code := runDemo(context.Background(), []string{"--nodes", "4", "--byzantine", "1", "--duration", "45s", "--mqtt-port", strconv.Itoa(port), "--seed", "1"}, &stdout, &stderr)
	out := stdout.String()
	if code != exitOK {
		t.Fatalf("exit %d\nstderr: %s\nstdout:\n%s", code, stderr.String(), out)
	}
	for _, phase := range []string{"discover", "negotiate", "sense", "request", "agree", "act", "detect"} {
		if !regexp.MustCompile(`(?m)^ +[0-9]+\.[0-9]s  ` + phase + ` `).MatchString(out) {
			t.Errorf("no %s line in the narration:\n%s", phase, out)
		}
	}
	for _, want := range []string{
		"mosquitto_sub -h 127.0.0.1 -p " + strconv.Itoa(port) + " -t 'pact/#' -v",
		"pact watch --mqtt tcp://127.0.0.1:" + strconv.Itoa(port),
		"capabilities agreed: ",
		"node-4 ejected at height ",
		"(trigger)",
		"drove fan high",
		"drove led high",
		"confirmed by ",
		"ok    each request got an outcome: 3/3",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAIL") || stderr.Len() > 0 {
		t.Errorf("stderr: %s\nstdout:\n%s", stderr.String(), out)
	}
}

func TestDemo_UsageAndTakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	t.Setenv("TMPDIR", t.TempDir())
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--mqtt-port", taken}, "pact demo: port " + taken + " on 127.0.0.1 is taken"},
		{[]string{"--nodes", "4", "--byzantine", "2"}, "--byzantine 2 needs at least 7 nodes"},
		{[]string{"--nodes", "0"}, "--nodes must be from 1 to 16"},
		{[]string{"--duration", "0s"}, "--duration must be positive"},
		{[]string{"--mqtt-port", "70000"}, "--mqtt-port must be from 0 to 65535"},
		{[]string{"extra"}, "takes no arguments"},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		code := runDemo(context.Background(), tc.args, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("pact demo %v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}
