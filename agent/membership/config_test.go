package membership

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func TestConfig_Validate(t *testing.T) {
	valid := func() Config {
		c := DefaultConfig()
		c.Name, c.Cluster = "n1", "home"
		c.GossipKeys = [][]byte{testKey}
		return c
	}
	tests := []struct {
		name   string
		change func(*Config)
		fields []string // every field the error must name; none means valid
	}{
		{"default plus identity", func(*Config) {}, nil},
		{"lan profile with overrides", func(c *Config) {
			c.Profile, c.ProbeInterval, c.ProbeTimeout, c.SuspicionMult, c.GossipInterval = ProfileLAN, 2*time.Second, time.Second, 5, time.Second
		}, nil},
		{"seeds with and without ports", func(c *Config) { c.Seeds = []string{"10.0.0.1:7946", "pi-2.local", "[fe80::1]:7946"} }, nil},
		{"mdns", func(c *Config) { c.MDNS = true }, nil},
		{"empty", func(c *Config) { *c = Config{} }, []string{"Name", "Cluster", "GossipKeys", "JoinBackoffMin", "AloneCheckInterval", "Profile"}},
		{"bad addresses", func(c *Config) {
			c.BindAddr, c.BindPort, c.AdvertiseAddr, c.AdvertisePort = "eth0", 70000, "0.0.0.0", -1
		}, []string{"BindAddr", "BindPort", "AdvertiseAddr", "AdvertisePort"}},
		{"bad keys", func(c *Config) { c.GossipKeys = [][]byte{testKey, []byte("short"), testKey} }, []string{"GossipKeys[1]", "GossipKeys[2]"}},
		{"bad seeds", func(c *Config) { c.Seeds = []string{"", ":7946", "host:0", "host:x"} }, []string{"Seeds[0]", "Seeds[1]", "Seeds[2]", "Seeds[3]"}},
		{"backoff", func(c *Config) { c.JoinBackoffMax = time.Millisecond }, []string{"JoinBackoffMax"}},
		{"timeout not below interval", func(c *Config) { c.ProbeTimeout = time.Second }, []string{"ProbeTimeout"}},
		{"negative overrides", func(c *Config) {
			c.ProbeInterval, c.GossipInterval, c.SuspicionMult = -1, -1, -1
		}, []string{"ProbeInterval", "GossipInterval", "SuspicionMult"}},
		{"mdns service", func(c *Config) { c.MDNS, c.MDNSService, c.MDNSInterval = true, "pact", 0 }, []string{"MDNSService", "MDNSInterval"}},
		{"long cluster", func(c *Config) { c.Cluster = strings.Repeat("c", 300) }, []string{"Cluster"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(&c)
			err := c.Validate()
			if len(tt.fields) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("Validate() = %v, want ErrConfig", err)
			}
			for _, f := range tt.fields {
				if !strings.Contains(err.Error(), "membership: "+f+": ") {
					t.Errorf("error does not name %s:\n%v", f, err)
				}
			}
		})
	}
}

func TestConfig_Profiles(t *testing.T) {
	c := DefaultConfig()
	pi := c.memberlistTimings()
	c.Profile = ProfileLAN
	lan := c.memberlistTimings()
	if pi.ProbeInterval*2 != lan.ProbeInterval || pi.SuspicionMult != lan.SuspicionMult {
		t.Errorf("pi probes every %v with mult %d; lan every %v with mult %d", pi.ProbeInterval, pi.SuspicionMult, lan.ProbeInterval, lan.SuspicionMult)
	}
	if pi.AwarenessMaxMultiplier == 0 || pi.AwarenessMaxMultiplier != lan.AwarenessMaxMultiplier {
		t.Error("the pi profile must keep Lifeguard's awareness")
	}
	c.ProbeInterval, c.GossipInterval = 3*time.Second, time.Second
	if got := c.memberlistTimings(); got.ProbeInterval != 3*time.Second || got.GossipInterval != time.Second || got.ProbeTimeout != lan.ProbeTimeout {
		t.Errorf("overrides not applied: %+v", got)
	}
}

func TestConfig_MDNSServiceDerivedFromCluster(t *testing.T) {
	for cluster, want := range map[string]string{
		"home":                   "_pact-home._udp",
		"Green House #2":         "_pact-green-house--2._udp",
		strings.Repeat("x", 100): "_pact-" + strings.Repeat("x", 57) + "._udp",
	} {
		c := Config{Cluster: cluster}
		got := c.mdnsService()
		if got != want {
			t.Errorf("cluster %q: service %q, want %q", cluster, got, want)
		}
		if !validService(got) {
			t.Errorf("derived service %q is not valid", got)
		}
	}
	if a, b := mdnsInstance("pi 1"), mdnsInstance("pi-1"); a == b {
		t.Errorf("names that sanitize alike share the instance %q", a)
	}
}

func TestMeta_HeaderRoundTrip(t *testing.T) {
	for _, leaving := range []bool{false, true} {
		meta, l, err := decodeMeta(encodeMeta([]byte("digest"), leaving))
		if err != nil || string(meta) != "digest" || l != leaving {
			t.Errorf("round trip (leaving %v): %q %v %v", leaving, meta, l, err)
		}
	}
	for _, raw := range [][]byte{nil, {0x20}, {0x1f}, {0x00, 'x'}} {
		if _, _, err := decodeMeta(raw); !errors.Is(err, ErrBadMeta) {
			t.Errorf("decodeMeta(%x) = %v, want ErrBadMeta", raw, err)
		}
	}
}

func TestSuspicion_FromLogClearedByPingOrRefutation(t *testing.T) {
	var rec recorder
	cfg := testConfig(t, "n1")
	cfg.OnEvent = rec.record
	m := &Membership{cfg: cfg, view: newView()}
	m.log = slog.New(slog.DiscardHandler)
	now := time.Now()
	m.view.update("n2", true, func(e *entry) bool { return e.setState(StateAlive, now) })
	w := &logWriter{m: m, src: "memberlist", observe: true}
	for _, line := range []string{
		"[INFO] memberlist: Suspect n2 has failed, no acks received\n",
		"[INFO] memberlist: Suspect ghost has failed, no acks received\n",
		"[WARN] memberlist: Refuting a suspect message (from: n3)\n",
		"[WARN] memberlist: Refuting a dead message (from: n3)\n",
		"[DEBUG] memberlist: Stream connection from=127.0.0.1:4000\n",
	} {
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if mem, _ := m.Member("n2"); mem.State != StateSuspect {
		t.Errorf("n2 is %v, want suspect", mem.State)
	}
	if !rec.seen("n2", EventSuspect) {
		t.Error("no EventSuspect for n2")
	}
	if _, ok := m.Member("ghost"); ok {
		t.Error("a suspicion of an unknown node created a member")
	}
	if s := m.Stats(); s.Suspicions != 2 || s.Refutations != 2 {
		t.Errorf("Suspicions %d, Refutations %d; want 2 and 2", s.Suspicions, s.Refutations)
	}
	// A successful probe clears the suspicion.
	hooks{m}.NotifyPingComplete(&memberlist.Node{Name: "n2"}, time.Millisecond, nil)
	if mem, _ := m.Member("n2"); mem.State != StateAlive || !rec.seen("n2", EventAlive) {
		t.Errorf("after a ping n2 is %v", mem.State)
	}
	// So does its refutation: an alive message about it that the gate lets
	// through.
	_, _ = w.Write([]byte("[INFO] memberlist: Suspect n2 has failed, no acks received\n"))
	if mem, _ := m.Member("n2"); mem.State != StateSuspect {
		t.Fatalf("n2 is %v, want suspect again", mem.State)
	}
	if err := (hooks{m}).NotifyAlive(&memberlist.Node{Name: "n2", Meta: encodeMeta(nil, false)}); err != nil {
		t.Fatal(err)
	}
	if mem, _ := m.Member("n2"); mem.State != StateAlive {
		t.Errorf("after its alive message n2 is %v", mem.State)
	}
}
