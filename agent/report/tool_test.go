package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/config"
)

// toolMsg is one message a tool's handler got.
type toolMsg struct {
	topic    string
	payload  string
	retained bool
}

// collect subscribes tool to filter and returns the channel its handler
// hands messages to, as a command-line tool would.
func collect(t *testing.T, tool *Tool, filter string) <-chan toolMsg {
	t.Helper()
	ch := make(chan toolMsg, 64)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := tool.Subscribe(ctx, filter, 1, func(topic string, payload []byte, retained bool) {
		select {
		case ch <- toolMsg{topic, string(payload), retained}:
		default:
			t.Errorf("handler would block: %s", topic)
		}
	})
	if err != nil {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
	return ch
}

func dialTool(t *testing.T, cfg ToolConfig) *Tool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tool, err := DialTool(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tool.Close)
	return tool
}

func toolConfig(url string) ToolConfig {
	c := DefaultToolConfig()
	c.URL, c.ConnectTimeout = url, 2*time.Second
	return c
}

// next waits for a message, failing the test after limit (a bound for a
// broken run, not a speed expectation).
func next(t *testing.T, ch <-chan toolMsg, limit time.Duration, what string) toolMsg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(limit):
		t.Fatalf("no %s within %s", what, limit)
		return toolMsg{}
	}
}

func publish(t *testing.T, tool *Tool, topic string, retained bool, payload string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := tool.Publish(ctx, topic, 1, retained, []byte(payload)); err != nil {
		t.Fatal(err)
	}
}

// One tool publishes, another subscribed to a wildcard gets it; a retained
// message reaches a subscriber that comes later, flagged as retained.
func TestTool_PublishSubscribeAndRetained(t *testing.T) {
	b := startBroker(t)
	pub, sub := dialTool(t, toolConfig(b.URL())), dialTool(t, toolConfig(b.URL()))

	live := collect(t, sub, "pact/greenhouse/#")
	publish(t, pub, "pact/greenhouse/requests/blink", false, `{"id":"r-1"}`)
	if m := next(t, live, 10*time.Second, "live message"); m.topic != "pact/greenhouse/requests/blink" || m.payload != `{"id":"r-1"}` || m.retained {
		t.Errorf("live message = %+v", m)
	}

	publish(t, pub, "pact/greenhouse/outcomes/blink/i-1", true, `{"ok":true}`)
	next(t, live, 10*time.Second, "the retained message, live")
	late := dialTool(t, toolConfig(b.URL()))
	old := collect(t, late, "pact/greenhouse/outcomes/+/+")
	if m := next(t, old, 10*time.Second, "retained message"); m.payload != `{"ok":true}` || !m.retained {
		t.Errorf("retained message = %+v", m)
	}
}

// A clean session loses its subscriptions with the connection: after the
// broker restarts, the tool reconnects and subscribes again by itself.
func TestTool_SubscribesAgainAfterReconnecting(t *testing.T) {
	b := startBroker(t)
	cfg := toolConfig(b.URL())
	sub := dialTool(t, cfg)
	ch := collect(t, sub, "pact/greenhouse/errors")

	b.Stop()
	b.Start()
	pub := dialTool(t, cfg)
	// The subscriber reconnects on paho's back-off: publish until it is
	// back, bounded for a broken run.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		publish(t, pub, "pact/greenhouse/errors", false, fmt.Sprint(i))
		select {
		case <-ch:
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no message after the broker restarted: not subscribed again")
		}
	}
}

// A broker nobody listens on: the error names it, within the timeout.
func TestDialTool_UnreachableBrokerNamesTheURL(t *testing.T) {
	url := fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
	cfg := toolConfig(url)
	cfg.ConnectTimeout = time.Second
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tool, err := DialTool(ctx, cfg)
	if err == nil {
		tool.Close()
		t.Fatal("DialTool succeeded without a broker")
	}
	if !strings.Contains(err.Error(), url) {
		t.Errorf("error %q does not name %s", err, url)
	}
}

// A cancelled context ends the dial at once.
func TestDialTool_ContextEndsTheDial(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := DialTool(ctx, toolConfig(fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))))
	if err == nil {
		t.Fatal("DialTool succeeded with a cancelled context")
	}
}

func TestToolConfig_ValidateReportsEverything(t *testing.T) {
	c := ToolConfig{URL: "http://x", Password: "a", PasswordFile: "b", ClientID: "a\x00b", ConnectTimeout: -1}
	c.TLS.CertFile = "c.pem"
	err := c.Validate()
	for _, field := range []string{"URL", "PasswordFile", "ClientID", "TLS.CertFile", "ConnectTimeout"} {
		if err == nil || !strings.Contains(err.Error(), field+":") {
			t.Errorf("Validate() = %v, want a problem with %s", err, field)
		}
	}
	if !errors.Is(err, ErrConfig) {
		t.Errorf("Validate() = %v, want ErrConfig", err)
	}
	if _, err := DialTool(t.Context(), c); !errors.Is(err, ErrConfig) {
		t.Errorf("DialTool with a bad config = %v, want ErrConfig", err)
	}
}

// The tool takes the agent's broker, credentials and TLS, but never its
// client id: the broker would throw the agent off.
func TestToolFromAgent(t *testing.T) {
	m := config.MQTT{URL: "ssl://broker:8883", Username: "u", PasswordFile: "/etc/pact/pw", ClientID: "pact-gh-gh-1", QoS: 1}
	m.TLS.CAFile = "/etc/pact/ca.pem"
	c := ToolFromAgent(m)
	if c.URL != m.URL || c.Username != "u" || c.PasswordFile != m.PasswordFile || c.TLS != m.TLS {
		t.Errorf("ToolFromAgent = %+v", c)
	}
	if c.ClientID != "" {
		t.Errorf("ClientID = %q, want the agent's left out", c.ClientID)
	}
	if c.ConnectTimeout != DefaultToolConfig().ConnectTimeout {
		t.Errorf("ConnectTimeout = %s", c.ConnectTimeout)
	}
	if a, b := randomToolID(), randomToolID(); a == b || !strings.HasPrefix(a, "pact-tool-") || len(a) != len("pact-tool-")+16 {
		t.Errorf("random client ids %q, %q", a, b)
	}
}

// A broker that wants TLS, a client certificate and a password: the tool
// connects with the agent file's settings, through the reporter's code; a
// wrong password is refused with an error naming the broker.
func TestTool_TLSClientCertAndPassword(t *testing.T) {
	passwd, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Skip("mosquitto_passwd not installed (it comes with mosquitto)")
	}
	mosquittoBin(t)
	pki := t.TempDir()
	writeTestPKI(t, pki)
	pwFile := filepath.Join(pki, "passwd")
	if out, err := exec.Command(passwd, "-c", "-b", pwFile, "operator", "s3cret").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v: %s", err, out)
	}
	if err := os.Chmod(pwFile, 0o600); err != nil {
		t.Fatal(err)
	}
	b := startBrokerWith(t, func(port int, dir string) ([]byte, error) {
		conf := fmt.Sprintf("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\npassword_file %s\nallow_anonymous false\nlog_dest file %s\n",
			port, filepath.Join(pki, "ca.pem"), filepath.Join(pki, "server.pem"), filepath.Join(pki, "server.key"), pwFile, filepath.Join(dir, "mosquitto.log"))
		if os.Geteuid() == 0 {
			conf += "user root\n"
		}
		return []byte(conf), nil
	})
	secret := filepath.Join(pki, "mqtt.password")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := config.MQTT{URL: "ssl://" + b.Addr(), Username: "operator", PasswordFile: secret}
	m.TLS = config.TLS{CAFile: filepath.Join(pki, "ca.pem"), CertFile: filepath.Join(pki, "client.pem"), KeyFile: filepath.Join(pki, "client.key")}
	tool := dialTool(t, ToolFromAgent(m))
	ch := collect(t, tool, "pact/greenhouse/errors")
	publish(t, tool, "pact/greenhouse/errors", false, "x")
	next(t, ch, 10*time.Second, "own message over TLS")

	bad := ToolFromAgent(m)
	bad.PasswordFile, bad.Password = "", "wrong"
	if tool, err := DialTool(t.Context(), bad); err == nil {
		tool.Close()
		t.Error("DialTool with a wrong password succeeded")
	} else if !strings.Contains(err.Error(), b.Addr()) {
		t.Errorf("error %q does not name the broker", err)
	}
}
