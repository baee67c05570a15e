package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// demoBroker is the demo's embedded MQTT broker (mochi-mqtt): TCP on
// loopback, anyone may connect and publish, nothing is persisted. The
// agents connect to it like to any broker, through their own MQTT clients;
// the demo itself publishes through the broker's inline client and watches
// every message through a hook, as a subscriber to pact/# would.
type demoBroker struct {
	server    *mqtt.Server
	port      int
	hook      *demoObserver
	closeOnce sync.Once
}

// errDemoPortTaken: the MQTT port is in use (by mosquitto, most likely).
var errDemoPortTaken = errors.New("port taken")

// startDemoBroker listens on 127.0.0.1:port (0: any free port) and hands
// every published message, and every will the broker sends, to observe.
// requests is the topic filter the agents subscribe to for requests; the
// broker counts the clients that did (RequestSubscribers).
func startDemoBroker(port int, requests string, observe func(topic string, payload []byte), log *slog.Logger) (*demoBroker, error) {
	s := mqtt.New(&mqtt.Options{InlineClient: true, Logger: log})
	if err := s.AddHook(new(demoAllowAll), nil); err != nil {
		return nil, err
	}
	hook := &demoObserver{observe: observe, requests: requests}
	if err := s.AddHook(hook, nil); err != nil {
		return nil, err
	}
	l := listeners.NewTCP(listeners.Config{ID: "pact-demo", Address: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))})
	if err := s.AddListener(l); err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%w: %w", errDemoPortTaken, err)
		}
		return nil, err
	}
	_, p, err := net.SplitHostPort(l.Address())
	if err != nil {
		return nil, err
	}
	actual, _ := strconv.Atoi(p)
	if err := s.Serve(); err != nil {
		_ = s.Close()
		return nil, err
	}
	return &demoBroker{server: s, port: actual, hook: hook}, nil
}

// Publish publishes payload as the broker's inline client.
func (b *demoBroker) Publish(topic string, payload []byte) error {
	return b.server.Publish(topic, payload, false, 1)
}

// RequestSubscribers is how many subscriptions to the requests filter
// clients have made.
func (b *demoBroker) RequestSubscribers() int { return int(b.hook.subscribed.Load()) }

// Close disconnects every client and stops listening; safe to call twice
// (mochi's own Close is not).
func (b *demoBroker) Close() {
	b.closeOnce.Do(func() { _ = b.server.Close() })
}

// demoObserver is the mochi hook that shows the demo what goes through the
// broker. mochi calls it on the publishing client's goroutine; observe
// must be safe for concurrent use.
type demoObserver struct {
	mqtt.HookBase
	observe    func(topic string, payload []byte)
	requests   string
	subscribed atomic.Int32
}

func (h *demoObserver) ID() string { return "pact-demo-observer" }

func (h *demoObserver) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnPublished, mqtt.OnWillSent, mqtt.OnSubscribed}, []byte{b})
}

func (h *demoObserver) OnPublished(_ *mqtt.Client, pk packets.Packet) {
	h.observe(pk.TopicName, slices.Clone(pk.Payload))
}

// OnWillSent sees a will: the broker publishes it for a client whose
// connection ended without a goodbye, and OnPublished does not.
func (h *demoObserver) OnWillSent(_ *mqtt.Client, pk packets.Packet) {
	h.observe(pk.TopicName, slices.Clone(pk.Payload))
}

func (h *demoObserver) OnSubscribed(_ *mqtt.Client, pk packets.Packet, codes []byte) {
	for i, f := range pk.Filters {
		if f.Filter == h.requests && (i >= len(codes) || codes[i] < 0x80) {
			h.subscribed.Add(1)
		}
	}
}

// demoAllowAll lets any client connect, publish and subscribe: the broker
// listens on loopback only, for the length of one demo. (mochi's own
// auth.AllowHook does the same, but its package brings in a second YAML
// module for its ledger.)
type demoAllowAll struct{ mqtt.HookBase }

func (h *demoAllowAll) ID() string { return "pact-demo-allow-all" }

func (h *demoAllowAll) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (h *demoAllowAll) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

func (h *demoAllowAll) OnACLCheck(*mqtt.Client, string, bool) bool { return true }
