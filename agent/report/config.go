package report

import (
	"bufio"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/agent/wire"
)

// Config configures a Reporter. Start from DefaultConfig; URL, Cluster and
// Node are required.
type Config struct {
	// URL is the broker: tcp://host:1883 (or mqtt://), ssl://host:8883 (or
	// tls://, mqtts://), ws://host/path, wss://host/path.
	URL string

	// Cluster and Node name this node; they build every topic
	// (pact/<cluster>/...) and the default client id.
	Cluster, Node string

	// ClientID is the MQTT client id; default pact-<cluster>-<node>. Two
	// clients with one id throw each other off the broker, so it must be
	// unique on the broker.
	ClientID string

	// Username and Password authenticate to the broker; both optional.
	// PasswordFile, when Password is empty, names a file whose first line is
	// the password; New reads it.
	Username, Password, PasswordFile string

	// TLS configures ssl://, tls://, mqtts:// and wss:// connections. CAFile
	// verifies the broker (default: the system's roots); CertFile and
	// KeyFile are a client certificate, both or neither.
	TLS config.TLS

	// QoS is the quality of service of decisions, outcomes, ejections,
	// capabilities and errors: 0 or 1. States (like the will) always go at
	// QoS 1, readings at QoS 0. Default 1. With 0, an outbox message counts
	// as delivered once it is written to the connection, so a connection
	// that breaks at that moment can lose it.
	QoS byte

	// Outbox keeps decisions, outcomes and ejections on disk (fsynced) until
	// the broker acknowledges them, so neither a broker outage nor an agent
	// restart loses one. Nil publishes them best-effort, like readings.
	Outbox *store.Outbox

	// NextBDSeq returns the next birth/death sequence number and keeps it
	// durably, so that the numbers grow across restarts (FileBDSeq). It is
	// called once per connection. Nil counts from 0 in memory: fine for
	// tests, but after a restart a subscriber may pair a birth with the
	// death of the previous process.
	NextBDSeq func() (uint64, error)

	// Operators are the keys allowed to sign requests, by name (the
	// cluster file's operators). AllowUnsignedRequests accepts requests
	// without a signature.
	Operators             map[string]ed25519.PublicKey
	AllowUnsignedRequests bool

	// RequestBuffer is the capacity of the Requests channel. When the agent
	// falls that far behind, further requests are dropped and counted (and
	// answered on errors) rather than blocking paho's delivery.
	RequestBuffer int

	// SendQueue bounds the best-effort messages (states, capabilities,
	// readings, errors) waiting for the broker; beyond it they are dropped
	// and counted.
	SendQueue int

	// Window is how many outbox messages are in flight to the broker at
	// once; their acknowledgements are written to the outbox together.
	Window int

	// PublishTimeout bounds the wait for one message, or one window of
	// outbox messages, to be acknowledged. Past it the message is dropped
	// (best-effort) or sent again (outbox).
	PublishTimeout time.Duration

	// KeepAlive is the MQTT keepalive: the broker publishes the will this
	// long (times 1.5) after it last heard from a node that vanished.
	KeepAlive time.Duration

	// ConnectTimeout bounds one connection attempt; ConnectRetryInterval is
	// the pause between attempts at start; MaxReconnectInterval caps the
	// back-off between attempts after a connection was lost.
	ConnectTimeout, ConnectRetryInterval, MaxReconnectInterval time.Duration

	// HomeAssistant, when set, announces the node to Home Assistant's MQTT
	// discovery (homeassistant.go): retained entity configurations for its
	// state, sensors and actions, published with the capability document,
	// and each outcome the node performs also on nodes/<node>/last/<action>.
	// Nil: off.
	HomeAssistant *HomeAssistant

	// Logger gets the reporter's log. Nil discards it.
	Logger *slog.Logger

	// Now is the clock for payload times; nil is time.Now.
	Now func() time.Time
}

// DefaultConfig returns settings for a Pi on a LAN broker.
func DefaultConfig() Config {
	return Config{
		QoS:                  1,
		RequestBuffer:        64,
		SendQueue:            256,
		Window:               64,
		PublishTimeout:       10 * time.Second,
		KeepAlive:            15 * time.Second,
		ConnectTimeout:       10 * time.Second,
		ConnectRetryInterval: 2 * time.Second,
		MaxReconnectInterval: 30 * time.Second,
	}
}

// FromAgent returns DefaultConfig with the agent file's mqtt section, the
// cluster and the node filled in. The password file is read by New.
func FromAgent(m config.MQTT, cluster, node string) Config {
	c := DefaultConfig()
	c.URL, c.Cluster, c.Node = m.URL, cluster, node
	c.ClientID, c.Username, c.PasswordFile = m.ClientID, m.Username, m.PasswordFile
	c.TLS = m.TLS
	c.QoS = byte(m.QoS)
	if m.HomeAssistant.Enabled {
		c.HomeAssistant = &HomeAssistant{Prefix: m.HomeAssistant.Prefix}
	}
	return c
}

// FieldError is one problem Validate found, naming the field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return "report: " + e.Field + ": " + e.Msg }

// Unwrap makes every FieldError match ErrConfig.
func (e *FieldError) Unwrap() error { return ErrConfig }

// Schemes paho dials, and those of them that use TLS.
var (
	schemes    = []string{"tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss"}
	tlsSchemes = []string{"ssl", "tls", "mqtts", "wss"}
)

// checkConnection adds the problems of the broker settings that the
// reporter's Config and the tools' ToolConfig share.
func checkConnection(rawURL, clientID, password, passwordFile string, tls config.TLS, bad func(field, format string, args ...any)) {
	if u, err := url.Parse(rawURL); err != nil || u.Host == "" || !slices.Contains(schemes, u.Scheme) {
		bad("URL", "%q is not a broker URL (tcp://host:1883, ssl://host:8883, ws://host/path, ...)", rawURL)
	} else if tls.Enabled() && !slices.Contains(tlsSchemes, u.Scheme) {
		bad("TLS", "TLS settings need a TLS URL (ssl://, mqtts:// or wss://), but URL is %s://", u.Scheme)
	}
	if clientID != "" && (len(clientID) > 65535 || !utf8Printable(clientID)) {
		bad("ClientID", "%q is not a printable UTF-8 string", clientID)
	}
	if password != "" && passwordFile != "" {
		bad("PasswordFile", "set either Password or PasswordFile, not both")
	}
	if (tls.CertFile == "") != (tls.KeyFile == "") {
		bad("TLS.CertFile", "a client certificate needs both CertFile and KeyFile")
	}
}

// Validate reports every problem at once (errors.Join of *FieldError).
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	checkConnection(c.URL, c.ClientID, c.Password, c.PasswordFile, c.TLS, bad)
	if !config.ValidName(c.Cluster) {
		bad("Cluster", "%q is not a valid name", c.Cluster)
	}
	if !config.ValidName(c.Node) {
		bad("Node", "%q is not a valid name", c.Node)
	}
	if c.QoS > 1 {
		bad("QoS", "%d: use 0 or 1", c.QoS)
	}
	for name, k := range c.Operators {
		if len(k) != ed25519.PublicKeySize {
			bad("Operators."+name, "not an Ed25519 public key")
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"RequestBuffer", c.RequestBuffer}, {"SendQueue", c.SendQueue}, {"Window", c.Window}} {
		if f.v < 1 {
			bad(f.name, "must be at least 1")
		}
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{
		{"PublishTimeout", c.PublishTimeout}, {"ConnectTimeout", c.ConnectTimeout},
		{"ConnectRetryInterval", c.ConnectRetryInterval}, {"MaxReconnectInterval", c.MaxReconnectInterval},
	} {
		if f.v <= 0 {
			bad(f.name, "must be positive")
		}
	}
	if c.HomeAssistant != nil && c.HomeAssistant.Prefix != "" {
		if msg := config.CheckTopicPrefix(c.HomeAssistant.Prefix); msg != "" {
			bad("HomeAssistant.Prefix", "%s", msg)
		}
	}
	if c.KeepAlive < time.Second {
		bad("KeepAlive", "%s: MQTT counts it in whole seconds, at least 1s", c.KeepAlive)
	}
	return errors.Join(errs...)
}

func utf8Printable(s string) bool { return wire.Printable(s) }

// clientID is the id used on the broker.
func (c *Config) clientID() string {
	if c.ClientID != "" {
		return c.ClientID
	}
	return "pact-" + c.Cluster + "-" + c.Node
}

// password returns Password, or the first line of PasswordFile.
func (c *Config) password() (string, error) {
	if c.PasswordFile == "" {
		return c.Password, nil
	}
	f, err := os.Open(c.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("report: mqtt password file: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("report: mqtt password file %s: empty or unreadable: %v", c.PasswordFile, err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// tlsConfig builds the TLS settings, or nil for a plain URL without any.
func (c *Config) tlsConfig() (*tls.Config, error) {
	u, _ := url.Parse(c.URL)
	if !c.TLS.Enabled() && !slices.Contains(tlsSchemes, u.Scheme) {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLS.InsecureSkipVerify} //nolint:gosec // a testing-only setting the config validator warns about
	if c.TLS.CAFile != "" {
		pem, err := os.ReadFile(c.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("report: mqtt tls ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("report: mqtt tls ca_file %s: no PEM certificate in it", c.TLS.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("report: mqtt tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
