package report

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/seed44533760/pact/agent/config"
)

// ToolConfig configures a Tool: the broker connection of a command-line
// tool (`pact request`, `pact watch`). Start from DefaultToolConfig or
// ToolFromAgent; URL is required.
type ToolConfig struct {
	// URL is the broker, in the forms Config.URL accepts.
	URL string

	// ClientID is the MQTT client id; "" picks a random one,
	// pact-tool-<16 hex digits>. It must not be an agent's: two clients
	// with one id throw each other off the broker.
	ClientID string

	// Username and Password authenticate to the broker; both optional.
	// PasswordFile, when Password is empty, names a file whose first line is
	// the password; DialTool reads it.
	Username, Password, PasswordFile string

	// TLS configures ssl://, tls://, mqtts:// and wss:// connections, as
	// Config.TLS does.
	TLS config.TLS

	// ConnectTimeout bounds the first connection (and each reconnection
	// attempt). Default 10s.
	ConnectTimeout time.Duration

	// Logger gets the connection's log (connects, losses). Nil discards it.
	Logger *slog.Logger
}

// DefaultToolConfig returns the settings of a tool on a LAN broker.
func DefaultToolConfig() ToolConfig { return ToolConfig{ConnectTimeout: 10 * time.Second} }

// ToolFromAgent returns DefaultToolConfig with the agent file's mqtt
// section: the broker, credentials and TLS the local agent uses. The
// agent's client id is deliberately not copied — a tool using it would
// throw the agent off the broker — so the tool gets a random one.
func ToolFromAgent(m config.MQTT) ToolConfig {
	c := DefaultToolConfig()
	c.URL, c.Username, c.PasswordFile, c.TLS = m.URL, m.Username, m.PasswordFile, m.TLS
	return c
}

// Validate reports every problem at once (errors.Join of *FieldError).
func (c *ToolConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	checkConnection(c.URL, c.ClientID, c.Password, c.PasswordFile, c.TLS, bad)
	if c.ConnectTimeout < 0 {
		bad("ConnectTimeout", "must not be negative")
	}
	return errors.Join(errs...)
}

// connection returns the Reporter's Config carrying the fields the
// connection code reads (password, tlsConfig), so both clients share it.
func (c *ToolConfig) connection() *Config {
	return &Config{URL: c.URL, Password: c.Password, PasswordFile: c.PasswordFile, TLS: c.TLS}
}

// Tool is an MQTT connection for command-line tools: publish a request,
// subscribe to the cluster's topics. Unlike a Reporter it has no birth, no
// will and no outbox; it connects once, reports a broker it cannot reach
// at once, and later reconnects on its own, subscribing again. Its methods
// are safe for concurrent use.
type Tool struct {
	cfg    ToolConfig
	log    *slog.Logger
	client mqtt.Client

	mu      sync.Mutex
	subs    []toolSub // subscribed again at every reconnection
	lastSub uint64

	closeOnce sync.Once
}

// toolSub is one Subscribe call, kept for reconnections.
type toolSub struct {
	id     uint64
	filter string
	qos    byte
	cb     mqtt.MessageHandler
}

// DialTool connects to the broker with a clean session and returns once
// connected. It fails, naming the broker, when the broker cannot be reached
// within ConnectTimeout or ctx ends first.
func DialTool(ctx context.Context, c ToolConfig) (*Tool, error) {
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultToolConfig().ConnectTimeout
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	conn := c.connection()
	password, err := conn.password()
	if err != nil {
		return nil, err
	}
	tlsCfg, err := conn.tlsConfig()
	if err != nil {
		return nil, err
	}
	if c.ClientID == "" {
		c.ClientID = randomToolID()
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	t := &Tool{cfg: c, log: log.With("component", "mqtt")}
	opts := mqtt.NewClientOptions().
		AddBroker(c.URL).
		SetClientID(c.ClientID).
		SetUsername(c.Username).
		SetPassword(password).
		SetTLSConfig(tlsCfg).
		SetCleanSession(true).
		SetAutoReconnect(true).
		// The first attempt's failure is the caller's answer: no retry.
		SetConnectRetry(false).
		SetConnectTimeout(c.ConnectTimeout).
		SetMaxReconnectInterval(10 * time.Second).
		SetKeepAlive(30 * time.Second).
		SetWriteTimeout(c.ConnectTimeout).
		SetOnConnectHandler(t.onConnect).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			t.log.Warn("connection lost; reconnecting", "broker", redacted(c.URL), "err", err)
		})
	t.client = mqtt.NewClient(opts)
	// The connect token is bounded by ConnectTimeout inside paho; the extra
	// second lets paho's own error through before ours.
	if err := wait(ctx, t.client.Connect(), c.ConnectTimeout+time.Second); err != nil {
		t.client.Disconnect(0)
		return nil, fmt.Errorf("report: connect to %s: %w", redacted(c.URL), err)
	}
	t.log.Debug("connected", "broker", redacted(c.URL), "client_id", c.ClientID)
	return t, nil
}

// randomToolID is pact-tool-<16 hex digits>.
func randomToolID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "pact-tool-" + hex.EncodeToString(b)
}

// onConnect runs on a goroutine of paho's after every connection: a clean
// session has no subscriptions, so they are made again (paho#22, #238). At
// the first connection there are none yet.
func (t *Tool) onConnect(mqtt.Client) {
	t.mu.Lock()
	subs := slices.Clone(t.subs)
	t.mu.Unlock()
	for _, s := range subs {
		ctx, cancel := context.WithTimeout(context.Background(), t.cfg.ConnectTimeout)
		err := t.subscribe(ctx, s.filter, s.qos, s.cb)
		cancel()
		if err != nil {
			t.log.Warn("subscribe again after reconnecting failed", "filter", s.filter, "err", err)
		}
	}
}

// Subscribe subscribes to filter and waits, within ctx, for the broker to
// grant it. handle is called on paho's goroutine for every message, one at
// a time and in order; it must not block (hand the message off to a
// channel or a queue), or the connection's keepalive starves (paho#453).
// payload is the handler's to keep. The subscription is made again after a
// reconnection.
func (t *Tool) Subscribe(ctx context.Context, filter string, qos byte, handle func(topic string, payload []byte, retained bool)) error {
	if qos > 1 {
		return fmt.Errorf("report: subscribe %s: qos %d: use 0 or 1", filter, qos)
	}
	cb := func(_ mqtt.Client, m mqtt.Message) { handle(m.Topic(), m.Payload(), m.Retained()) }
	// Kept before subscribing, so that a reconnection in between cannot
	// miss it; a second SUBSCRIBE of the same filter is harmless.
	t.mu.Lock()
	t.lastSub++
	id := t.lastSub
	t.subs = append(t.subs, toolSub{id: id, filter: filter, qos: qos, cb: cb})
	t.mu.Unlock()
	if err := t.subscribe(ctx, filter, qos, cb); err != nil {
		t.mu.Lock()
		t.subs = slices.DeleteFunc(t.subs, func(s toolSub) bool { return s.id == id })
		t.mu.Unlock()
		return err
	}
	return nil
}

func (t *Tool) subscribe(ctx context.Context, filter string, qos byte, cb mqtt.MessageHandler) error {
	tok := t.client.Subscribe(filter, qos, cb)
	if err := waitCtx(ctx, tok); err != nil {
		return fmt.Errorf("report: subscribe %s: %w", filter, err)
	}
	// A broker refuses a filter (an ACL, a malformed filter) in the SUBACK,
	// not with an error: 0x80 is "failure".
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		for f, code := range st.Result() {
			if code == 0x80 {
				return fmt.Errorf("report: subscribe %s: the broker refused it (check its ACL for this user)", f)
			}
		}
	}
	return nil
}

// Publish publishes payload on topic and waits for the broker's
// acknowledgement (QoS 1) or for the write (QoS 0), within ctx: ctx is the
// only bound, so give it a deadline.
func (t *Tool) Publish(ctx context.Context, topic string, qos byte, retained bool, payload []byte) error {
	if qos > 1 {
		return fmt.Errorf("report: publish %s: qos %d: use 0 or 1", topic, qos)
	}
	if err := waitCtx(ctx, t.client.Publish(topic, qos, retained, payload)); err != nil {
		return fmt.Errorf("report: publish %s to %s: %w", topic, redacted(t.cfg.URL), err)
	}
	return nil
}

// Close disconnects, leaving a quarter of a second for what is in flight.
// Later calls do nothing.
func (t *Tool) Close() {
	t.closeOnce.Do(func() { t.client.Disconnect(250) })
}

// waitCtx waits for a token until ctx ends.
func waitCtx(ctx context.Context, t mqtt.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}
