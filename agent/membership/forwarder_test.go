package membership

import (
	"io"
	"net"
	"sync"
	"testing"
)

// startForwarder relays TCP connections and UDP datagrams arriving at public
// to private, and UDP replies back, like a NAT box with a port forward. It
// stops when the test ends.
func startForwarder(t testing.TB, public, private string) {
	t.Helper()
	tl, err := net.Listen("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	up, err := net.ListenPacket("udp", public)
	if err != nil {
		t.Fatal(err)
	}
	privUDP, err := net.ResolveUDPAddr("udp", private)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []io.Closer
	track := func(c io.Closer) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		tl.Close()
		up.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})

	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", private)
			if err != nil {
				c.Close()
				continue
			}
			track(c)
			track(s)
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(s, c); s.Close() }()
			go func() { defer wg.Done(); io.Copy(c, s); c.Close() }()
		}
	}()

	wg.Add(1)
	go func() {
		defer wg.Done()
		upstream := map[string]*net.UDPConn{}
		buf := make([]byte, 65536)
		for {
			n, from, err := up.ReadFrom(buf)
			if err != nil {
				return
			}
			u, ok := upstream[from.String()]
			if !ok {
				u, err = net.DialUDP("udp", nil, privUDP)
				if err != nil {
					continue
				}
				upstream[from.String()] = u
				track(u)
				wg.Add(1)
				go func(u *net.UDPConn, client net.Addr) {
					defer wg.Done()
					b := make([]byte, 65536)
					for {
						n, err := u.Read(b)
						if err != nil {
							return
						}
						up.WriteTo(b[:n], client)
					}
				}(u, from)
			}
			u.Write(buf[:n])
		}
	}()
}
