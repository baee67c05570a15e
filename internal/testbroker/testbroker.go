package testbroker

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// LogName is the broker's log file in its directory; a configuration from
// Options.Config must log there for the log to reach a failed test.
const LogName = "mosquitto.log"

const (
	startTimeout = 10 * time.Second // to accept connections after a start
	stopTimeout  = 10 * time.Second // to exit after SIGTERM, before SIGKILL
	logTail      = 40               // lines of the log a failed test shows
)

// Options say where a test broker listens and how it is configured. The
// zero value is the fleet configuration on a free port of 127.0.0.1.
type Options struct {
	// Host is the address the listener binds; "" is 127.0.0.1. The fault
	// suite gives its lab bridge's, where the agents' namespaces reach it.
	Host string

	// Port is the listener's port; 0 is a free port of Host. Either way
	// the broker keeps it across Stop, Kill and Start.
	Port int

	// NoPersistence turns the fleet configuration's persistence off: a
	// broker started again holds nothing it had, so what a subscriber gets
	// afterwards came from the clients' own outboxes.
	NoPersistence bool

	// Config, when set, writes the whole configuration instead of the
	// fleet's, for a broker on port with its files in dir (TLS and password
	// tests). It must listen on Host:port, log to dir/LogName and, when the
	// test runs as root, say "user root" (mosquitto would otherwise switch
	// to a user who cannot write dir). NoPersistence does not apply to it.
	Config func(port int, dir string) ([]byte, error)
}

// Broker is a mosquitto process of a test's own.
type Broker struct {
	t    testing.TB
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd // nil while stopped
	done chan error
}

// Binary is the mosquitto executable, or skips the test when there is none.
// A test calls it early to skip before costly setup.
func Binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto" // Debian's, when /usr/sbin is not on PATH
	}
	t.Skip("mosquitto not installed: scripts/need-mosquitto.sh installs it (make test and make test-faults run it), or apt-get install -y mosquitto")
	return ""
}

// Start writes the broker's configuration, starts it and waits until it
// accepts connections. The broker is stopped when the test ends, and the
// end of its log is shown if the test failed.
func Start(t testing.TB, opts Options) *Broker {
	t.Helper()
	bin := Binary(t)
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := opts.Port
	if port == 0 {
		port = FreePort(t, host)
	}
	b := &Broker{t: t, bin: bin, dir: t.TempDir(), addr: net.JoinHostPort(host, strconv.Itoa(port))}
	var text []byte
	var err error
	if opts.Config != nil {
		text, err = opts.Config(port, b.dir)
	} else {
		text, err = fleetConfig(host, port, b.dir, !opts.NoPersistence)
	}
	if err != nil {
		t.Fatalf("test broker configuration: %v", err)
	}
	if err := os.WriteFile(b.confPath(), text, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			t.Logf("mosquitto log (end):\n%s", b.Log())
		}
	})
	b.Start()
	return b
}

// FreePort is a TCP port of host that nothing listens on at the moment.
func FreePort(t testing.TB, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string { return b.addr }

// URL is the broker's address as MQTT clients take it.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Start starts the stopped broker again on its port, with what its
// persistence file kept, and waits until it accepts connections.
func (b *Broker) Start() {
	b.t.Helper()
	if b.cmd != nil {
		b.t.Fatal("test broker already running")
	}
	cmd := exec.Command(b.bin, "-c", b.confPath())
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard // it logs to LogName
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start mosquitto: %v", err)
	}
	b.cmd, b.done = cmd, make(chan error, 1)
	go func() { b.done <- cmd.Wait() }()
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", b.addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-b.done:
			b.cmd = nil
			b.t.Fatalf("mosquitto exited at start: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("mosquitto does not accept connections on %s after %s", b.addr, startTimeout)
		}
	}
}

// Stop ends the broker with SIGTERM, so that it says goodbye to its clients
// and saves its persistence file; it is killed if it has not exited within
// 10 s. Stopping a stopped broker does nothing.
func (b *Broker) Stop() {
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(stopTimeout):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
	b.cmd = nil
}

// Kill ends the broker with SIGKILL, as a power cut would: its clients get
// no goodbye and nothing since its last save is written.
func (b *Broker) Kill() {
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Kill()
	<-b.done
	b.cmd = nil
}

// Log is the end of the broker's log.
func (b *Broker) Log() string {
	text, err := os.ReadFile(filepath.Join(b.dir, LogName))
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	if len(lines) > logTail {
		lines = lines[len(lines)-logTail:]
	}
	return strings.Join(lines, "\n")
}

func (b *Broker) confPath() string { return filepath.Join(b.dir, "mosquitto.conf") }
