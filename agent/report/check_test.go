package report

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestConfig_CheckFindsWhatNewWouldRefuse(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{"valid", func(*Config) {}, true},
		{"no url", func(c *Config) { c.URL = "" }, false},
		{"missing password file", func(c *Config) { c.PasswordFile = filepath.Join(dir, "none") }, false},
		{"missing ca file", func(c *Config) { c.URL = "ssl://127.0.0.1:8883"; c.TLS.CAFile = filepath.Join(dir, "none.pem") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			c.URL, c.Cluster, c.Node = "tcp://127.0.0.1:1883", "greenhouse", "node-1"
			tc.change(&c)
			err := c.Check()
			if (err == nil) != tc.ok {
				t.Fatalf("Check() = %v, want ok=%v", err, tc.ok)
			}
			r, nerr := New(c)
			if nerr == nil {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_ = r.Close(ctx)
				cancel()
			}
			if (nerr == nil) != tc.ok {
				t.Fatalf("New disagrees with Check: %v", nerr)
			}
		})
	}
}
