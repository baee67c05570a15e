package agent

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

func TestReloadable_WhichKeysApplyLive(t *testing.T) {
	for _, tc := range []struct {
		name          string
		changed       []string
		live, restart []string
	}{
		{"log level", []string{"log.level"}, []string{"log.level"}, nil},
		{"log format", []string{"log.format"}, nil, []string{"log.format"}},
		{"every mqtt key", []string{"mqtt.url", "mqtt.username", "mqtt.password_file", "mqtt.tls.ca_file", "mqtt.client_id", "mqtt.qos"},
			[]string{"mqtt.url", "mqtt.username", "mqtt.password_file", "mqtt.tls.ca_file", "mqtt.client_id", "mqtt.qos"}, nil},
		{"limits", []string{"hardware.outputs[0].max_on", "hardware.outputs[1].min_off", "constraints.max_duty"},
			[]string{"hardware.outputs[0].max_on", "hardware.outputs[1].min_off", "constraints.max_duty"}, nil},
		{"limits of an output that changed otherwise", []string{"hardware.outputs[0].pin", "hardware.outputs[0].max_on", "hardware.outputs[1].max_on"},
			[]string{"hardware.outputs[1].max_on"}, []string{"hardware.outputs[0].pin", "hardware.outputs[0].max_on"}},
		{"outputs added", []string{"hardware.outputs"}, nil, []string{"hardware.outputs"}},
		{"identity and addresses", []string{"node", "cluster_file", "data_dir", "key_file", "bind", "advertise", "seeds", "mdns", "admin", "zone", "keep_heights", "adversary"},
			nil, []string{"node", "cluster_file", "data_dir", "key_file", "bind", "advertise", "seeds", "mdns", "admin", "zone", "keep_heights", "adversary"}},
		{"hardware beyond limits", []string{"hardware.driver", "hardware.sensors[0].bus", "hardware.inputs[0].pin", "constraints.power"},
			nil, []string{"hardware.driver", "hardware.sensors[0].bus", "hardware.inputs[0].pin", "constraints.power"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var changes []config.Change
			for _, k := range tc.changed {
				changes = append(changes, config.Change{Key: k})
			}
			live, restart := reloadable(changes)
			if got := changeKeys(live); !slices.Equal(got, tc.live) {
				t.Errorf("live %q, want %q", got, tc.live)
			}
			if got := changeKeys(restart); !slices.Equal(got, tc.restart) {
				t.Errorf("restart %q, want %q", got, tc.restart)
			}
		})
	}
}

func changeKeys(cs []config.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Key)
	}
	return out
}

// A running agent reloads its file: the new log level takes effect at
// once, the MQTT side moves to another broker and takes the outbox along,
// an output's limit changes on the board; a key that needs a restart and a
// changed cluster file are only logged; an invalid file changes nothing.
func TestReload_AppliesLevelMQTTAndLimits(t *testing.T) {
	brokerA, brokerB := startTestBroker(t), startTestBroker(t)
	tc := newTestCluster(t, "127.0.11.", 1)
	path := tc.addNode(t, 1, "../cluster.yaml")
	original := mustRead(t, path)
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit := func(pairs ...string) string { return strings.NewReplacer(pairs...).Replace(original) }
	withBroker := func(url string) string { return "log: {level: info}\nmqtt: {url: " + url + "}\n" }
	write(edit("log: {level: debug}\n", withBroker(brokerA.url())))

	out := &lockedBuffer{}
	level := new(slog.LevelVar)
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
	r := startAgentWith(t, path, Options{NoAdmin: true, Logger: log, LogLevel: level})
	eventually(t, 10*time.Second, "the agent on broker A with height 1 decided", func() (bool, string) {
		return brokerA.connected("pact-itest-node-1") && r.status(t).Height >= 1, ""
	})
	onLoop := func(f func()) {
		done := make(chan struct{})
		r.a.inspectReq <- func() { f(); close(done) }
		<-done
	}

	// Broker A goes away; a decision published meanwhile waits in the
	// outbox (height 1's, published again).
	brokerA.close()
	eventually(t, 10*time.Second, "the reporter to notice broker A is gone", func() (bool, string) {
		var connected bool
		onLoop(func() { connected = r.a.reports.Stats().Connected })
		return !connected, ""
	})
	onLoop(func() {
		c, ok := r.a.store.Commit(1)
		if !ok {
			t.Error("height 1 not stored")
			return
		}
		r.a.publishDecision(c, nil)
		r.a.log.Debug("probe before the reload")
	})
	var pending int
	onLoop(func() { pending = r.a.reports.Stats().Pending })
	if pending == 0 {
		t.Fatal("nothing pending in the outbox with the broker down")
	}

	// Reload: level, broker, an output's cap, the duty; the zone needs a
	// restart; the cluster file's trigger-free timings changed too.
	write(edit("log: {level: debug}\n", "log: {level: debug}\nmqtt: {url: "+brokerB.url()+"}\nconstraints: {max_duty: 0.5}\n",
		"{name: led, kind: led, pin: GPIO17}", "{name: led, kind: led, pin: GPIO17, max_on: 3s}",
		"zone: zone-1", "zone: shed"))
	clusterFile := tc.dir + "/cluster.yaml"
	clusterWas := mustRead(t, clusterFile)
	if err := os.WriteFile(clusterFile, []byte(strings.Replace(clusterWas, "status: 1s", "status: 2s", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := r.a.Reload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantApplied := []string{"log.level", "constraints.max_duty", "hardware.outputs[0].max_on", "mqtt.url"}
	if keys := changeKeys(got.Applied); !slices.Equal(keys, wantApplied) {
		t.Errorf("applied %q, want %q", keys, wantApplied)
	}
	if keys := changeKeys(got.Restart); !slices.Equal(keys, []string{"zone"}) {
		t.Errorf("needs a restart %q, want [zone]", keys)
	}
	if !slices.Equal(got.Cluster, []string{"timings.status"}) || len(got.Failed) > 0 {
		t.Errorf("cluster %q failed %q, want [timings.status] and no failure", got.Cluster, got.Failed)
	}
	if level.Level() != slog.LevelDebug {
		t.Errorf("level %v after the reload, want debug", level.Level())
	}
	onLoop(func() { r.a.log.Debug("probe after the reload") })
	logText := out.String()
	for _, want := range []string{
		"probe after the reload",
		`msg=reloaded node=node-1 applied="log.level info→debug, constraints.max_duty 1→0.5, hardware.outputs[0].max_on 0s→3s, mqtt.url tcp://` + brokerA.addr + "→tcp://" + brokerB.addr + `"`,
		`msg="changed, needs a restart" node=node-1 keys="zone zone-1→shed"`,
		"cluster-file changes need a restart of every node",
	} {
		if !strings.Contains(logText, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(logText, "probe before the reload") {
		t.Error("a debug line was logged at level info")
	}
	eventually(t, 10*time.Second, "the outbox delivered to broker B", func() (bool, string) {
		return brokerB.connected("pact-itest-node-1") && brokerB.decision(1), ""
	})
	eventually(t, 10*time.Second, "the new duty decided", func() (bool, string) {
		doc := r.status(t).Capabilities["node-1"]
		return doc != nil && doc.Constraints.MaxDuty == 0.5, ""
	})
	onLoop(func() {
		out, err := r.a.board.Output("led")
		if err != nil {
			t.Error(err)
			return
		}
		_ = out.Set(true)
	})
	eventually(t, 10*time.Second, "the led switched off by its new 3s cap", func() (bool, string) {
		var on bool
		onLoop(func() { o, _ := r.a.board.Output("led"); on, _ = o.Read() })
		return !on, ""
	})

	// An invalid file: every problem logged, nothing changed.
	write(edit("log: {level: debug}\n", "log: {level: loud}\nmqtt: {url: "+brokerA.url()+", qos: 7}\n"))
	if _, err := r.a.Reload(ctx); err == nil {
		t.Fatal("an invalid file reloaded")
	}
	logText = out.String()
	for _, want := range []string{"reload refused", "log.level", "mqtt.qos"} {
		if !strings.Contains(logText, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	var url string
	onLoop(func() { url = r.a.acfg.MQTT.URL })
	if level.Level() != slog.LevelDebug || url != brokerB.url() {
		t.Errorf("after an invalid file: level %v, broker %s; want debug and %s", level.Level(), url, brokerB.url())
	}
}

// lockedBuffer is a log destination for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testBroker is an embedded MQTT broker (mochi-mqtt) on loopback that
// remembers who connected and what was published.
type testBroker struct {
	server    *mqtt.Server
	addr      string
	closeOnce sync.Once

	mu        sync.Mutex
	sessions  map[string]bool // client id → connected now
	decisions map[uint64]bool // heights published on a decisions topic
}

func startTestBroker(t *testing.T) *testBroker {
	t.Helper()
	b := &testBroker{sessions: map[string]bool{}, decisions: map[uint64]bool{}}
	b.server = mqtt.New(&mqtt.Options{Logger: slog.New(slog.DiscardHandler)})
	if err := b.server.AddHook(&testBrokerHook{b: b}, nil); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.addr = ln.Addr().String()
	ln.Close()
	if err := b.server.AddListener(listeners.NewTCP(listeners.Config{ID: "t", Address: b.addr})); err != nil {
		t.Fatal(err)
	}
	if err := b.server.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)
	return b
}

func (b *testBroker) url() string { return "tcp://" + b.addr }
func (b *testBroker) close()      { b.closeOnce.Do(func() { _ = b.server.Close() }) }

func (b *testBroker) connected(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sessions[id]
}

func (b *testBroker) decision(height uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.decisions[height]
}

type testBrokerHook struct {
	mqtt.HookBase
	b *testBroker
}

func (h *testBrokerHook) ID() string { return "pact-agent-test" }

func (h *testBrokerHook) Provides(b byte) bool {
	return slices.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnSessionEstablished, mqtt.OnDisconnect, mqtt.OnPublished}, b)
}

func (h *testBrokerHook) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }
func (h *testBrokerHook) OnACLCheck(*mqtt.Client, string, bool) bool              { return true }

func (h *testBrokerHook) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) {
	h.b.mu.Lock()
	defer h.b.mu.Unlock()
	h.b.sessions[cl.ID] = true
}

func (h *testBrokerHook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	h.b.mu.Lock()
	defer h.b.mu.Unlock()
	h.b.sessions[cl.ID] = false
}

func (h *testBrokerHook) OnPublished(_ *mqtt.Client, pk packets.Packet) {
	if !strings.HasSuffix(pk.TopicName, "/decisions") {
		return
	}
	var d wire.Decision
	if err := wire.Unmarshal(pk.Payload, &d); err != nil {
		return
	}
	h.b.mu.Lock()
	defer h.b.mu.Unlock()
	h.b.decisions[d.Height] = true
}
