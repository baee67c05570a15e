package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/identity"
)

// testKey returns a fresh public key in the cluster file's form.
func testKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return identity.PublicKeyString(pub)
}

func testGossipKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// validCluster is a four-validator cluster with both testnet actions; every
// test starts from it and breaks one thing.
func validCluster(t *testing.T) *Cluster {
	t.Helper()
	c := DefaultCluster()
	c.Name = "greenhouse"
	c.GossipKey = testGossipKey(t)
	c.Validators = map[string]string{}
	for _, n := range []string{"node-1", "node-2", "node-3", "node-4"} {
		c.Validators[n] = testKey(t)
	}
	c.Operators = map[string]string{"alice": testKey(t)}
	above, below := 28.0, 26.0
	c.Actions = map[string]Action{
		"blink": {
			Needs:    Needs{Output: "led", OutputKind: OutputLED},
			Drive:    Drive{Level: High, Duration: time.Second},
			Params:   map[string]Param{"duration": {Min: 100 * time.Millisecond, Max: 5 * time.Second, Default: time.Second}},
			Deadline: 10 * time.Second,
			Verify:   []VerifyKind{VerifyReadback, VerifyWitness},
		},
		"ventilate": {
			Needs:    Needs{Output: "fan", OutputKind: OutputRelay, Zone: "greenhouse"},
			Drive:    Drive{Level: High, Duration: 30 * time.Second},
			Deadline: time.Minute,
			Trigger:  &Trigger{SensorKind: SensorTemperature, Above: &above, Below: &below},
		},
	}
	return c
}

// validAgent is node-1 of validCluster with an LED, a fan, a sensor and a
// witness input.
func validAgent() *Agent {
	a := DefaultAgent()
	a.Node = "node-1"
	a.ClusterFile = "/etc/pact/cluster.yaml"
	a.Seeds = []string{"192.168.1.22:7946", "pi-3.local:7946"}
	a.Zone = "greenhouse"
	a.Hardware = Hardware{
		Driver: DriverSim,
		Sensors: []Sensor{
			{Name: "temp", Kind: SensorTemperature, Driver: SensorSim},
			{Name: "air", Kind: SensorHumidity, Driver: SensorBME280, Bus: "1", Address: "0x76"},
		},
		Outputs: []Output{
			{Name: "led", Kind: OutputLED, Pin: "GPIO17"},
			{Name: "fan", Kind: OutputRelay, Pin: "GPIO27", Active: Low},
		},
		Inputs: []Input{{Name: "witness", Kind: InputWitness, Pin: "GPIO22", Watches: "node-2/led"}},
	}
	a.ApplyDefaults()
	return a
}

// wantProblem fails unless err holds a problem at path whose message
// contains every one of mentions.
func wantProblem(t *testing.T, err error, path string, mentions ...string) *Problem {
	t.Helper()
	ps := Problems(err)
	for _, p := range ps {
		if p.Path != path {
			continue
		}
		ok := true
		for _, m := range mentions {
			ok = ok && strings.Contains(p.Msg, m)
		}
		if ok {
			return p
		}
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Error())
	}
	t.Fatalf("no problem at %q mentioning %q; got:\n  %s", path, mentions, strings.Join(got, "\n  "))
	return nil
}

func problemPathsOf(err error) []string {
	var out []string
	for _, p := range Problems(err) {
		out = append(out, p.Path)
	}
	slices.Sort(out)
	return out
}

// writeFile writes a file under dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// marshal writes v as YAML, failing the test on error.
func marshal(t *testing.T, v any) string {
	t.Helper()
	data, err := Marshal(v, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
