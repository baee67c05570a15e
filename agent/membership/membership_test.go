package membership

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCluster_Converges(t *testing.T) {
	for _, n := range []int{4, 7} {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			nodes := cluster(t, n, nil)
			for _, m := range nodes {
				if got := m.Peers(); len(got) != n-1 || slices.Contains(got, m.cfg.Name) {
					t.Errorf("%s: Peers() = %v, want the %d others", m.cfg.Name, got, n-1)
				}
				if self := m.LocalNode(); self.Name != m.cfg.Name || self.State != StateAlive {
					t.Errorf("LocalNode() = %+v", self)
				}
			}
		})
	}
}

func TestGossipKey_MismatchNeverAMember(t *testing.T) {
	nodes := cluster(t, 3, nil)
	var rec recorder
	watcher := testConfig(t, "watcher")
	watcher.Seeds = []string{addr(nodes[0])}
	watcher.OnEvent = rec.record
	nodes = append(nodes, start(t, watcher))
	waitConverged(t, nodes, names(nodes), 10*time.Second)

	cfg := testConfig(t, "intruder")
	cfg.GossipKeys = [][]byte{otherKey}
	cfg.Seeds = []string{addr(nodes[0]), addr(nodes[1])}
	intruder := start(t, cfg)

	// Give the intruder time for several join attempts and gossip rounds.
	waitFor(t, 10*time.Second, func() string {
		if s := intruder.Stats(); s.JoinFailures < 3 {
			return fmt.Sprintf("intruder made %d failed joins, waiting for 3", s.JoinFailures)
		}
		return ""
	})
	for _, m := range nodes {
		if _, ok := m.Member("intruder"); ok {
			t.Errorf("%s lists the intruder", m.cfg.Name)
		}
	}
	if rec.seen("intruder", 0) {
		t.Error("watcher got an event about the intruder")
	}
	if got := intruder.Members(); len(got) != 1 {
		t.Errorf("intruder sees %v, want only itself", got)
	}
}

func TestGossipKey_Rotation(t *testing.T) {
	nodes := cluster(t, 3, nil)
	newKey := bytes.Repeat([]byte{0x99}, 16)
	steps := []struct {
		name string
		do   func(*Membership) error
	}{
		{"install", func(m *Membership) error { return m.InstallKey(newKey) }},
		{"use", func(m *Membership) error { return m.UseKey(newKey) }},
		{"remove", func(m *Membership) error { return m.RemoveKey(testKey) }},
	}
	for _, s := range steps {
		for _, m := range nodes {
			if err := s.do(m); err != nil {
				t.Fatalf("%s on %s: %v", s.name, m.cfg.Name, err)
			}
		}
	}
	// A newcomer with only the new key joins; one with only the old cannot.
	late := testConfig(t, "late")
	late.GossipKeys = [][]byte{newKey}
	late.Seeds = []string{addr(nodes[1])}
	nodes = append(nodes, start(t, late))
	waitConverged(t, nodes, names(nodes), 10*time.Second)

	stale := testConfig(t, "stale")
	stale.Seeds = []string{addr(nodes[1])}
	st := start(t, stale)
	waitFor(t, 10*time.Second, func() string {
		if st.Stats().JoinFailures < 2 {
			return "waiting for the stale node to fail twice"
		}
		return ""
	})
	if _, ok := nodes[0].Member("stale"); ok {
		t.Error("a node holding only the removed key became a member")
	}
}

// vettingGate plays the agent's gate: validators are bound to keys (carried
// as the whole meta here), some names are ejected, unknown names are
// candidates and pass.
type vettingGate struct {
	keys    map[string]string
	ejected map[string]bool

	mu      sync.Mutex
	refused map[string]int
}

func (g *vettingGate) Allow(name string, meta []byte) (err error) {
	defer func() {
		if err != nil {
			g.mu.Lock()
			g.refused[name]++
			g.mu.Unlock()
		}
	}()
	if g.ejected[name] {
		return fmt.Errorf("%s: %w", name, ErrEjected)
	}
	if k, ok := g.keys[name]; ok && k != string(meta) {
		return fmt.Errorf("%s announces key %q: %w", name, meta, ErrWrongKey)
	}
	return nil
}

func (g *vettingGate) refusals(name string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.refused[name]
}

func TestGate_RefusesEjectedAndImpostorsButShowsCandidates(t *testing.T) {
	gate := &vettingGate{
		keys:    map[string]string{"n1": "key-n1", "n2": "key-n2", "n3": "key-n3", "n5": "key-n5"},
		ejected: map[string]bool{"mallory": true},
		refused: map[string]int{},
	}
	var rec recorder
	withGate := func(c *Config) {
		key := []byte("key-" + c.Name)
		c.Meta = func() []byte { return key }
		c.Gate = gate
	}
	nodes := cluster(t, 3, func(c *Config) {
		withGate(c)
		if c.Name == "n3" {
			c.OnEvent = rec.record
		}
	})

	// mallory is ejected; the impostors claim validators' names with
	// another key, one while the real n2 runs, one while n5 is offline; c9 is
	// unknown: a candidate.
	mallory := testConfig(t, "mallory")
	mallory.Seeds = []string{addr(nodes[0])}
	mallory.Meta = func() []byte { return []byte("key-mallory") }
	impostor := testConfig(t, "n4")
	impostor.Name = "n2"
	impostor.Seeds = []string{addr(nodes[2])}
	impostor.Meta = func() []byte { return []byte("key-evil") }
	impostor5 := testConfig(t, "n5")
	impostor5.Seeds = []string{addr(nodes[1])}
	impostor5.Meta = func() []byte { return []byte("key-evil") }
	candidate := testConfig(t, "c9")
	candidate.Seeds = []string{addr(nodes[1])}
	candidate.Meta = func() []byte { return []byte("key-c9") }
	start(t, mallory)
	start(t, impostor)
	start(t, impostor5)
	start(t, candidate)

	want := []string{"c9", "n1", "n2", "n3"}
	waitConverged(t, nodes, want, 10*time.Second)
	// The intruders' joins are cancelled by the seed's merge check, but
	// they still learn the members from the seed's reply and keep gossiping
	// and probing; every alive message about them is refused again.
	waitFor(t, 10*time.Second, func() string {
		for _, name := range []string{"mallory", "n2", "n5"} {
			if n := gate.refusals(name); n < 5 {
				return fmt.Sprintf("%s refused %d times, waiting for 5", name, n)
			}
		}
		return ""
	})
	var ejected, wrongKey, merges uint64
	for _, m := range nodes {
		s := m.Stats()
		ejected += s.RefusedEjected
		wrongKey += s.RefusedWrongKey
		merges += s.MergesRefused
	}
	if ejected == 0 || wrongKey == 0 || merges == 0 {
		t.Errorf("refusals counted: ejected %d, wrong key %d, merges %d; want all > 0", ejected, wrongKey, merges)
	}
	for _, m := range nodes {
		for _, name := range []string{"mallory", "n5"} {
			if _, ok := m.Member(name); ok {
				t.Errorf("%s lists %s", m.cfg.Name, name)
			}
		}
		if mem, _ := m.Member("n2"); string(mem.Meta) != "key-n2" {
			t.Errorf("%s sees n2 with meta %q, want the real n2's", m.cfg.Name, mem.Meta)
		}
		if mem, ok := m.Member("c9"); !ok || mem.State != StateAlive {
			t.Errorf("%s does not see candidate c9 alive: %+v", m.cfg.Name, mem)
		}
	}
	if rec.seen("mallory", 0) || rec.seen("n5", 0) {
		t.Error("an event was reported about mallory or n5")
	}
}

func TestRecheckGate_HidesNewlyEjected(t *testing.T) {
	var ejected sync.Map
	gate := GateFunc(func(name string, meta []byte) error {
		if _, ok := ejected.Load(name); ok {
			return ErrEjected
		}
		return nil
	})
	var rec recorder
	nodes := cluster(t, 3, func(c *Config) {
		if c.Name == "n1" {
			c.Gate = gate
			c.OnEvent = rec.record
		}
	})
	ejected.Store("n3", true)
	nodes[0].RecheckGate()
	if _, ok := nodes[0].Member("n3"); ok {
		t.Error("n3 still listed after RecheckGate")
	}
	if slices.Contains(nodes[0].Peers(), "n3") {
		t.Error("n3 still a peer after RecheckGate")
	}
	if err := nodes[0].SendBestEffort("n3", []byte("x")); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("send to hidden member: err = %v, want ErrUnknownMember", err)
	}
	if !rec.seen("n3", EventHidden) {
		t.Error("no EventHidden for n3")
	}
	if s := nodes[0].Stats(); s.Hidden != 1 {
		t.Errorf("Stats.Hidden = %d, want 1", s.Hidden)
	}
}

func TestAdvertise_DistinctFromBind(t *testing.T) {
	seed := start(t, testConfig(t, "seed"))

	// natted binds one address and port and advertises another; a small
	// forwarder on the advertised address plays the NAT box.
	cfg := testConfig(t, "natted")
	cfg.BindPort = freePort(t, cfg.BindAddr)
	public := loopbackIP()
	for public == cfg.BindAddr || public == seed.cfg.BindAddr {
		public = loopbackIP()
	}
	publicPort := freePort(t, public)
	startForwarder(t, net.JoinHostPort(public, strconv.Itoa(publicPort)), net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.BindPort)))
	cfg.AdvertiseAddr = public
	cfg.AdvertisePort = publicPort
	cfg.Seeds = []string{addr(seed)}
	got := make(chan []byte, 1)
	cfg.OnMessage = func(p []byte) { got <- p }
	natted := start(t, cfg)

	want := net.JoinHostPort(public, strconv.Itoa(publicPort))
	waitFor(t, 10*time.Second, func() string {
		mem, ok := seed.Member("natted")
		if !ok || mem.State != StateAlive {
			return "seed does not see natted alive"
		}
		if mem.Addr != want {
			return fmt.Sprintf("seed sees natted at %s, want %s", mem.Addr, want)
		}
		return ""
	})
	if got := natted.LocalNode().Addr; got != want {
		t.Errorf("natted's own address = %s, want %s", got, want)
	}
	// Traffic to the advertised address arrives: a reliable message goes
	// through the forwarder.
	if err := seed.SendReliable("natted", []byte("through the NAT")); err != nil {
		t.Fatalf("SendReliable via the advertised address: %v", err)
	}
	select {
	case p := <-got:
		if string(p) != "through the NAT" {
			t.Errorf("natted got %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Error("message to the advertised address never arrived")
	}
	// And probes through it keep natted alive for a few probe rounds.
	time.Sleep(2 * time.Second)
	if mem, _ := seed.Member("natted"); mem.State != StateAlive {
		t.Errorf("natted is %v from the seed after 2 s, want alive", mem.State)
	}
}

func TestJoin_NodeStartedBeforeItsSeedKeepsTrying(t *testing.T) {
	seedCfg := testConfig(t, "seed")
	seedCfg.BindPort = freePort(t, seedCfg.BindAddr)
	seedAddr := net.JoinHostPort(seedCfg.BindAddr, strconv.Itoa(seedCfg.BindPort))

	early := testConfig(t, "early")
	early.Seeds = []string{seedAddr}
	e := start(t, early)
	waitFor(t, 10*time.Second, func() string {
		if n := e.Stats().JoinFailures; n < 3 {
			return fmt.Sprintf("%d failed joins, waiting for 3", n)
		}
		return ""
	})
	s := start(t, seedCfg)
	waitConverged(t, []*Membership{e, s}, []string{"early", "seed"}, 10*time.Second)
}

func TestJoin_RejoinsAfterBeingAlone(t *testing.T) {
	seedCfg := testConfig(t, "seed")
	seedCfg.BindPort = freePort(t, seedCfg.BindAddr)
	seed := start(t, seedCfg)
	other := testConfig(t, "other")
	other.Seeds = []string{addr(seed)}
	o := start(t, other)
	waitConverged(t, []*Membership{seed, o}, []string{"other", "seed"}, 10*time.Second)

	// The seed restarts on the same address; other must find it again.
	if err := seed.Leave(time.Second); err != nil {
		t.Fatal(err)
	}
	_ = seed.Shutdown()
	waitFor(t, 10*time.Second, func() string {
		if mem, _ := o.Member("seed"); mem.State.Reachable() {
			return "other still sees the seed"
		}
		return ""
	})
	seed2Cfg := seedCfg
	seed2Cfg.Seeds = nil
	seed2 := start(t, seed2Cfg)
	waitConverged(t, []*Membership{seed2, o}, []string{"other", "seed"}, 15*time.Second)
}

func TestLeave_Propagates(t *testing.T) {
	var rec recorder
	nodes := cluster(t, 4, func(c *Config) {
		if c.Name == "n1" {
			c.OnEvent = rec.record
		}
	})
	if err := nodes[3].Leave(2 * time.Second); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	if err := nodes[3].Leave(time.Second); err != nil {
		t.Errorf("second Leave: %v", err)
	}
	waitFor(t, 5*time.Second, func() string {
		for _, m := range nodes[:3] {
			if mem, _ := m.Member("n4"); mem.State != StateLeft {
				return fmt.Sprintf("%s sees n4 %v, want left", m.cfg.Name, mem.State)
			}
		}
		return ""
	})
	if !rec.seen("n4", EventLeft) || rec.seen("n4", EventDead) {
		t.Error("want an EventLeft and no EventDead for n4")
	}
	for _, m := range nodes[:3] {
		if slices.Contains(m.Peers(), "n4") {
			t.Errorf("%s still sends to n4", m.cfg.Name)
		}
	}
	if err := nodes[3].Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := nodes[3].Shutdown(); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if err := nodes[3].Leave(time.Second); !errors.Is(err, ErrShutdown) {
		t.Errorf("Leave after Shutdown: %v, want ErrShutdown", err)
	}
}

func TestFailure_DetectedAsDead(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for failure detection")
	}
	var rec recorder
	nodes := cluster(t, 4, func(c *Config) {
		if c.Name == "n1" {
			c.OnEvent = rec.record
		}
	})
	_ = nodes[3].Shutdown() // no goodbye: a crash
	waitFor(t, 20*time.Second, func() string {
		for _, m := range nodes[:3] {
			if mem, _ := m.Member("n4"); mem.State != StateDead {
				return fmt.Sprintf("%s sees n4 %v, want dead", m.cfg.Name, mem.State)
			}
		}
		return ""
	})
	if !rec.seen("n4", EventDead) || rec.seen("n4", EventLeft) {
		t.Error("want an EventDead and no EventLeft for n4")
	}
}

func TestMessages_BestEffortAndReliable(t *testing.T) {
	got := make(chan string, 4)
	nodes := cluster(t, 2, func(c *Config) {
		c.OnMessage = func(p []byte) { got <- string(p) }
	})
	a := nodes[0]
	if err := a.SendReliable("n2", []byte("reliable")); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 10_000)
	if err := a.SendReliable("n2", big); err != nil {
		t.Fatal(err)
	}
	// UDP on loopback does not lose packets in practice, but allow retries.
	deadline := time.After(5 * time.Second)
	seen := map[string]bool{}
	for !seen["best effort"] || !seen["reliable"] || !seen[string(big)] {
		if !seen["best effort"] {
			if err := a.SendBestEffort("n2", []byte("best effort")); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case s := <-got:
			seen[s] = true
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatalf("received %d of 3 messages", len(seen))
		}
	}
	tooBig := make([]byte, a.BestEffortLimit()+1)
	if err := a.SendBestEffort("n2", tooBig); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized best effort: %v, want ErrTooLarge", err)
	}
	if err := a.SendBestEffort("nobody", []byte("x")); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("send to nobody: %v, want ErrUnknownMember", err)
	}
	if err := a.SendReliable("nobody", []byte("x")); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("send to nobody: %v, want ErrUnknownMember", err)
	}
}

func TestMeta_TooLargeIsAClearError(t *testing.T) {
	cfg := testConfig(t, "fat")
	cfg.Meta = func() []byte { return make([]byte, 600) }
	_, err := New(cfg)
	if !errors.Is(err, ErrMetaTooLarge) {
		t.Fatalf("New with 600 bytes of meta: %v, want ErrMetaTooLarge", err)
	}
	for _, want := range []string{"600 bytes", "511", "memberlist#191"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	size := MaxMetaSize
	cfg.Meta = func() []byte { return bytes.Repeat([]byte{'m'}, size) }
	m := start(t, cfg)
	size = MaxMetaSize + 1
	if err := m.UpdateMeta(time.Second); !errors.Is(err, ErrMetaTooLarge) {
		t.Fatalf("UpdateMeta over the limit: %v, want ErrMetaTooLarge", err)
	}
	if got := len(m.LocalNode().Meta); got != MaxMetaSize {
		t.Errorf("meta after a refused update is %d bytes, want the old %d", got, MaxMetaSize)
	}
}

func TestMeta_UpdatePropagates(t *testing.T) {
	version := "v1"
	var rec recorder
	nodes := cluster(t, 3, func(c *Config) {
		if c.Name == "n1" {
			c.Meta = func() []byte { return []byte(version) }
		}
		if c.Name == "n3" {
			c.OnEvent = rec.record
		}
	})
	version = "v2"
	if err := nodes[0].UpdateMeta(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() string {
		for _, m := range nodes {
			if mem, _ := m.Member("n1"); string(mem.Meta) != "v2" {
				return fmt.Sprintf("%s sees n1's meta %q", m.cfg.Name, mem.Meta)
			}
		}
		return ""
	})
	if !rec.seen("n1", EventUpdate) {
		t.Error("no EventUpdate for n1")
	}
}

func TestStart_Twice(t *testing.T) {
	m := start(t, testConfig(t, "once"))
	if err := m.Start(context.Background()); !errors.Is(err, ErrAlreadyStarted) {
		t.Errorf("second Start: %v", err)
	}
	_ = m.Shutdown()
	if err := m.Start(context.Background()); !errors.Is(err, ErrShutdown) {
		t.Errorf("Start after Shutdown: %v", err)
	}
}

func TestMessages_NotDeliveredBeforeStart(t *testing.T) {
	got := make(chan []byte, 1)
	a := start(t, testConfig(t, "a"))
	cfg := testConfig(t, "b")
	cfg.OnMessage = func(p []byte) { got <- p }
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown() })
	// b has not started, but a can reach it once they are joined.
	if _, err := a.ml.Join([]string{addr(b)}); err != nil {
		t.Fatal(err)
	}
	waitConverged(t, []*Membership{a, b}, []string{"a", "b"}, 5*time.Second)
	if err := a.SendReliable("b", []byte("early")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() string {
		if b.Stats().MessagesDropped == 0 {
			return "message not counted as dropped"
		}
		return ""
	})
	select {
	case p := <-got:
		t.Fatalf("OnMessage called before Start with %q", p)
	default:
	}
}
