package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

func TestConfig_ValidateReportsEverything(t *testing.T) {
	c := DefaultConfig()
	c.URL = "http://broker"
	c.Cluster, c.Node = "Green House", ""
	c.Password, c.PasswordFile = "x", "/etc/pact/mqtt.password"
	c.TLS.CertFile = "client.pem"
	c.QoS = 2
	c.Window, c.PublishTimeout, c.KeepAlive = 0, 0, 500*time.Millisecond
	err := c.Validate()
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("Validate = %v, want ErrConfig", err)
	}
	for _, field := range []string{"URL", "Cluster", "Node", "PasswordFile", "TLS.CertFile", "QoS", "Window", "PublishTimeout", "KeepAlive"} {
		if !strings.Contains(err.Error(), "report: "+field+":") {
			t.Errorf("no problem named %s in:\n%v", field, err)
		}
	}
}

func TestConfig_TLSNeedsATLSURL(t *testing.T) {
	c := FromAgent(config.MQTT{URL: "tcp://broker:1883", QoS: 1, TLS: config.TLS{CAFile: "ca.pem"}}, testCluster, testNode)
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("Validate = %v, want a TLS problem", err)
	}
}

func TestFromAgent(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "mqtt.password")
	if err := os.WriteFile(pw, []byte("s3cret\r\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := FromAgent(config.MQTT{URL: "ssl://broker:8883", Username: "pact-gh-1", PasswordFile: pw, QoS: 1,
		TLS: config.TLS{InsecureSkipVerify: true}}, testCluster, testNode)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.clientID(); got != "pact-greenhouse-gh-1" {
		t.Errorf("client id %q", got)
	}
	if p, err := c.password(); err != nil || p != "s3cret" {
		t.Errorf("password = %q, %v", p, err)
	}
	tc, err := c.tlsConfig()
	if err != nil || tc == nil || !tc.InsecureSkipVerify {
		t.Errorf("tls config = %+v, %v", tc, err)
	}
	c.TLS.CAFile = pw // not PEM
	if _, err := c.tlsConfig(); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad CA file: %v", err)
	}
	c.PasswordFile = filepath.Join(dir, "missing")
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "password file") {
		t.Errorf("New with a missing password file: %v", err)
	}
}

func TestFileBDSeq_CountsAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mqtt.bdseq")
	next := FileBDSeq(path)
	for want := range uint64(3) {
		if got, err := next(); err != nil || got != want {
			t.Fatalf("next = %d, %v; want %d", got, err, want)
		}
	}
	if got, err := FileBDSeq(path)(); err != nil || got != 3 { // a new process
		t.Errorf("after a restart: %d, %v", got, err)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := next(); err == nil || !strings.Contains(err.Error(), "does not hold a number") {
		t.Errorf("damaged file: %v", err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".mqtt.bdseq.*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestDedup_ForgetsTheOldest(t *testing.T) {
	d := wire.NewDedup(2)
	steps := []struct {
		instance string
		first    bool
	}{{"1", true}, {"1", false}, {"2", true}, {"3", true}, {"2", false}, {"1", true}}
	for i, s := range steps {
		if got := d.First("blink", s.instance); got != s.first {
			t.Errorf("step %d (%s): First = %v, want %v", i, s.instance, got, s.first)
		}
	}
	if d.Len() != 2 {
		t.Errorf("Len = %d", d.Len())
	}
	if !d.First("ventilate", "1") {
		t.Error("the action is part of the key")
	}
}
