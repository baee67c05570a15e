package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testBroker is a mosquitto process of the test's own, on a free port of
// 127.0.0.1, configured with configs/mosquitto.conf (the fleet settings:
// max_queued_messages raised, persistence on) with the listener, paths and
// logging replaced. Stop and Start restart it on the same port with its
// persistence file, like a broker that goes down and comes back.
type testBroker struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan error
}

// mosquittoBin finds the broker, or skips the test.
func mosquittoBin(t testing.TB) string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto" // Debian's, when /usr/sbin is not on PATH
	}
	t.Skip("mosquitto not installed: `make test` installs it (scripts/need-mosquitto.sh), or apt-get install -y mosquitto")
	return ""
}

// startBroker starts a broker with the fleet configuration and stops it
// when the test ends.
func startBroker(t testing.TB) *testBroker { return startBrokerWith(t, fleetConfig) }

// startBrokerWith starts a broker with the configuration conf writes for a
// port and a directory.
func startBrokerWith(t testing.TB, conf func(port int, dir string) ([]byte, error)) *testBroker {
	t.Helper()
	b := &testBroker{t: t, bin: mosquittoBin(t), dir: t.TempDir(), port: freePort(t)}
	text, err := conf(b.port, b.dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "mosquitto.conf"), text, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			b.dumpLog()
		}
	})
	b.Start()
	return b
}

// fleetConfig is configs/mosquitto.conf for a test broker.
func fleetConfig(port int, dir string) ([]byte, error) {
	src, err := os.ReadFile(filepath.Join("..", "..", "configs", "mosquitto.conf"))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	replaced := map[string]bool{"listener": true, "persistence_location": true, "pid_file": true, "log_dest": true, "include_dir": true, "user": true}
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 && replaced[f[0]] {
			continue
		}
		out.WriteString(sc.Text() + "\n")
	}
	fmt.Fprintf(&out, "listener %d 127.0.0.1\npersistence_location %s/\nlog_dest file %s\n", port, dir, filepath.Join(dir, "mosquitto.log"))
	if os.Geteuid() == 0 {
		out.WriteString("user root\n") // as root, mosquitto would become "mosquitto", who cannot write dir
	}
	return out.Bytes(), nil
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (b *testBroker) Addr() string { return fmt.Sprintf("127.0.0.1:%d", b.port) }
func (b *testBroker) URL() string  { return "tcp://" + b.Addr() }

// Start starts the process and waits until it accepts connections.
func (b *testBroker) Start() {
	b.t.Helper()
	if b.cmd != nil {
		b.t.Fatal("broker already running")
	}
	cmd := exec.Command(b.bin, "-c", filepath.Join(b.dir, "mosquitto.conf"))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start mosquitto: %v", err)
	}
	b.cmd, b.done = cmd, make(chan error, 1)
	go func() { b.done <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", b.Addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-b.done:
			b.cmd = nil
			b.dumpLog()
			b.t.Fatalf("mosquitto exited at start: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("mosquitto does not accept connections on %s after 10s", b.Addr())
		}
	}
}

// Stop ends the process with SIGTERM, so it saves its persistence file.
func (b *testBroker) Stop() {
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
	b.cmd = nil
}

func (b *testBroker) dumpLog() {
	log, _ := os.ReadFile(filepath.Join(b.dir, "mosquitto.log"))
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	b.t.Logf("mosquitto log (tail):\n%s", strings.Join(lines, "\n"))
}

// tcpProxy forwards connections to a broker, so a test can cut a client's
// connection abruptly — the broker sees the socket close without a
// DISCONNECT, as when a Pi loses power or its Wi-Fi, and publishes the will.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newProxy(t testing.TB, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

func (p *tcpProxy) URL() string { return "tcp://" + p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); _, _ = io.Copy(up, c); up.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(c, up); c.Close() }()
	}
}

// Cut closes every connection through the proxy; new ones are accepted.
func (p *tcpProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) Close() {
	if err := p.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return
	}
	p.Cut()
	p.wg.Wait()
}
