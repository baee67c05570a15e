package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// broker is a mosquitto process of the benchmark's own on a free port of
// 127.0.0.1, configured with configs/mosquitto.conf (max_queued_messages
// raised: with mosquitto's default of 1,000 a 5,000-message QoS 1 burst
// loses about 12% at a subscriber), with the listener, paths and logging
// replaced, as agent/report's tests do.
type broker struct {
	cmd  *exec.Cmd
	done chan error
	addr string
}

func (b *broker) URL() string { return "tcp://" + b.addr }

// startBroker starts the broker, or skips when mosquitto is not installed.
func startBroker(tb testing.TB) *broker {
	tb.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/mosquitto"); err != nil {
			tb.Skip("mosquitto not installed (scripts/need-mosquitto.sh installs it)")
		}
		bin = "/usr/sbin/mosquitto"
	}
	dir := tb.TempDir()
	port := freePort(tb)
	conf, err := fleetConfig(port, dir)
	if err != nil {
		tb.Fatal(err)
	}
	confPath := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(confPath, conf, 0o600); err != nil {
		tb.Fatal(err)
	}
	b := &broker{cmd: exec.Command(bin, "-c", confPath), done: make(chan error, 1), addr: fmt.Sprintf("127.0.0.1:%d", port)}
	b.cmd.Stdout, b.cmd.Stderr = io.Discard, io.Discard
	if err := b.cmd.Start(); err != nil {
		tb.Fatalf("start mosquitto: %v", err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	tb.Cleanup(func() {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.done
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", b.addr, time.Second)
		if err == nil {
			c.Close()
			return b
		}
		select {
		case err := <-b.done:
			tb.Fatalf("mosquitto exited at start: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mosquitto does not accept connections on %s after 10 s", b.addr)
		}
	}
}

// fleetConfig is configs/mosquitto.conf for a broker of the benchmark's.
func fleetConfig(port int, dir string) ([]byte, error) {
	src, err := os.ReadFile(filepath.Join("..", "configs", "mosquitto.conf"))
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(src, []byte("\nmax_queued_messages ")) {
		return nil, fmt.Errorf("configs/mosquitto.conf no longer sets max_queued_messages")
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

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
