package report

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/seed44533760/pact/internal/testbroker"
)

// startBroker starts a mosquitto of the test's own with the fleet
// configuration (configs/mosquitto.conf: max_queued_messages raised,
// persistence on) on a free port of 127.0.0.1. Stop and Start restart it on
// the same port with its persistence file, like a broker that goes down and
// comes back.
func startBroker(t testing.TB) *testbroker.Broker {
	t.Helper()
	return testbroker.Start(t, testbroker.Options{})
}

// startBrokerWith starts a broker with the configuration conf writes for a
// port and a directory (see testbroker.Options.Config).
func startBrokerWith(t testing.TB, conf func(port int, dir string) ([]byte, error)) *testbroker.Broker {
	t.Helper()
	return testbroker.Start(t, testbroker.Options{Config: conf})
}

// mosquittoBin finds the broker, or skips the test.
func mosquittoBin(t testing.TB) string {
	t.Helper()
	return testbroker.Binary(t)
}

// freePort is a port of 127.0.0.1 where no broker listens.
func freePort(t testing.TB) int {
	t.Helper()
	return testbroker.FreePort(t, "127.0.0.1")
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
