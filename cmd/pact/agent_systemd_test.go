package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// notifySocket is a service manager's end of NOTIFY_SOCKET: it keeps every
// datagram it receives.
type notifySocket struct {
	path string
	conn *net.UnixConn

	mu   sync.Mutex
	got  []string // one entry per assignment line
	done chan struct{}
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "pact-sd") // short: a socket path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &notifySocket{path: filepath.Join(dir, "notify"), done: make(chan struct{})}
	s.conn, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := s.conn.Read(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.got = append(s.got, strings.Split(string(buf[:n]), "\n")...)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { s.conn.Close(); <-s.done })
	return s
}

func (s *notifySocket) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func (s *notifySocket) count(prefix string) int {
	n := 0
	for _, l := range s.lines() {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// `pact agent` as systemd runs it (Type=notify, WatchdogSec=1s here):
// READY=1 with a status once it listens and is joining its seeds,
// WATCHDOG=1 every half second, SIGHUP reloads the agent file (the log
// level here), and SIGTERM opens with STOPPING=1 and exits 0.
func TestProcesses_AgentUnderSystemdNotifiesAndReloads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an agent process")
	}
	dir := t.TempDir()
	if _, errOut, code := pactRun(t, "testnet", "--nodes", "4", "--out", dir, "--bind", "127.0.14.1", "--base-port", "31946"); code != 0 {
		t.Fatalf("testnet: %s", errOut)
	}
	sd := listenNotify(t)
	cfg := filepath.Join(dir, "node-1", "pact.yaml")
	logPath := filepath.Join(dir, "node-1.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	p := &agentProc{name: "node-1", cfg: cfg, cmd: pactCmd("agent", "--config", cfg), log: logFile}
	p.cmd.Env = append(p.cmd.Env, "NOTIFY_SOCKET="+sd.path, "WATCHDOG_USEC=1000000")
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.kill)
	logText := func() string { b, _ := os.ReadFile(logPath); return string(b) }

	waitFor(t, 30*time.Second, "READY=1", func() (bool, string) {
		return sd.count("READY=1") == 1, strings.Join(sd.lines(), " | ")
	})
	lines := sd.lines()
	if lines[0] != "READY=1" || lines[1] != "STATUS=waiting for seeds 127.0.14.1:31947, 127.0.14.1:31948…" {
		t.Errorf("first datagram %q, want READY=1 and the seeds it waits for", lines[:2])
	}
	waitFor(t, 10*time.Second, "the watchdog fed every half second", func() (bool, string) {
		return sd.count("WATCHDOG=1") >= 4, strings.Join(sd.lines(), " | ")
	})

	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), "level: info", "level: debug", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the reload in the log, and a debug line after it", func() (bool, string) {
		_, after, ok := strings.Cut(logText(), `msg=reloaded node=node-1 applied="log.level info→debug"`)
		return ok && strings.Contains(after, "level=DEBUG"), ""
	})

	if code := p.term(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0; log:\n%s", code, logText())
	}
	if sd.count("STOPPING=1") != 1 {
		t.Fatalf("no STOPPING=1; got %q", sd.lines())
	}
	if strings.Contains(logText(), "cannot notify systemd") {
		t.Fatalf("notification errors in the log:\n%s", logText())
	}
}
