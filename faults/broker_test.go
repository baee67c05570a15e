//go:build faults

package faults

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// broker is a mosquitto on the host side of a lab's bridge, with the queue
// limits of configs/mosquitto.conf and no persistence: after a restart it
// holds nothing, so whatever a subscriber gets afterwards came from the
// agents' outboxes.
type broker struct {
	t    *testing.T
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func newBroker(t *testing.T, ip string, port int) *broker {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/mosquitto"); serr != nil {
			t.Skip("mosquitto not installed: `make test-faults` installs it (scripts/need-mosquitto.sh)")
		}
		bin = "/usr/sbin/mosquitto"
	}
	b := &broker{t: t, bin: bin, dir: t.TempDir(), addr: net.JoinHostPort(ip, strconv.Itoa(port))}
	conf := fmt.Sprintf("listener %d %s\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\nmax_queued_bytes 0\nlog_dest file %s\nuser root\n",
		port, ip, filepath.Join(b.dir, "mosquitto.log"))
	if err := os.WriteFile(filepath.Join(b.dir, "mosquitto.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.kill()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(b.dir, "mosquitto.log"))
			if len(log) > 4000 {
				log = log[len(log)-4000:]
			}
			t.Logf("mosquitto log (end):\n%s", log)
		}
	})
	b.start()
	return b
}

// start runs mosquitto and waits until it listens.
func (b *broker) start() {
	b.t.Helper()
	b.cmd = exec.Command(b.bin, "-c", filepath.Join(b.dir, "mosquitto.conf"))
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		b.t.Fatalf("start mosquitto: %v", err)
	}
	b.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(b.cmd, b.done)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", b.addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.t.Fatalf("mosquitto does not listen on %s", b.addr)
}

// kill stops mosquitto with SIGKILL: no goodbye to its clients, nothing
// flushed.
func (b *broker) kill() {
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGKILL)
	<-b.done
	b.cmd = nil
}
