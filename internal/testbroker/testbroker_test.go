package testbroker

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// The broker accepts connections, comes back on the same port after a stop
// and after a kill, and refuses them while it is down.
func TestBroker_StartRestartStop(t *testing.T) {
	b := Start(t, Options{})
	dial(t, b.Addr())

	b.Stop()
	if c, err := net.DialTimeout("tcp", b.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("a stopped broker accepted a connection")
	}
	b.Start()
	dial(t, b.Addr())

	b.Kill()
	b.Start()
	dial(t, b.Addr())
	b.Stop()
	b.Stop() // a second stop does nothing
	if !strings.Contains(b.Log(), "mosquitto") {
		t.Errorf("the log says nothing of mosquitto:\n%s", b.Log())
	}
}

// The fleet configuration keeps the shipped settings and replaces only the
// machine's own listener, paths and logging.
func TestFleetConfig_ReplacesTheMachinesSettings(t *testing.T) {
	// Settings, each with the line's start and end, so comments do not count.
	cases := []struct {
		name        string
		persistence bool
		want, not   []string
	}{
		{"persistent", true,
			[]string{"\nlistener 1884 10.0.0.1\n", "\npersistence true\n", "\npersistence_location /tmp/b/\n", "\nlog_dest file /tmp/b/mosquitto.log\n", "\nmax_queued_messages 100000\n"},
			[]string{"\nlistener 1883 ", "\npid_file ", "\ninclude_dir ", "\nlog_dest file /var/", "\npersistence false\n"}},
		{"no persistence", false,
			[]string{"\nlistener 1884 10.0.0.1\n", "\npersistence false\n", "\nmax_queued_messages 100000\n"},
			[]string{"\npersistence true\n", "\npid_file ", "\ninclude_dir "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := fleetConfig("10.0.0.1", 1884, "/tmp/b", c.persistence)
			if err != nil {
				t.Fatal(err)
			}
			conf := string(b)
			for _, w := range c.want {
				if !strings.Contains(conf, w) {
					t.Errorf("no %q in:\n%s", w, conf)
				}
			}
			for _, n := range c.not {
				if strings.Contains(conf, n) {
					t.Errorf("%q in:\n%s", n, conf)
				}
			}
			if root := os.Geteuid() == 0; strings.Contains(conf, "\nuser root\n") != root {
				t.Errorf("as euid %d, the configuration says user root: %v", os.Geteuid(), !root)
			}
		})
	}
}

func dial(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("dial the broker: %v", err)
	}
	c.Close()
}
