package capability

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
)

func key(b byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32)) }

func sample() *Document {
	return &Document{
		Cluster: "greenhouse", Node: "node-1", Zone: "north",
		Sensors:     []Sensor{{Name: "temp", Kind: "temperature", Unit: "C"}, {Name: "air", Kind: "humidity", Unit: "%"}},
		Outputs:     []Output{{Name: "led", Kind: "led"}, {Name: "fan", Kind: "relay"}},
		Inputs:      []Input{{Name: "door", Kind: "digital", Watches: "node-2/led"}},
		Constraints: Constraints{Power: "mains", MaxDuty: 0.5},
		Seq:         3,
	}
}

func TestDocument_SignVerifyRoundTrip(t *testing.T) {
	d := sample()
	d.Sign(key(1))
	back, err := Unmarshal(d.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Verify("greenhouse"); err != nil {
		t.Fatalf("verify after round trip: %v", err)
	}
	if back.Digest() != d.Digest() {
		t.Fatal("digest changed in transit")
	}
	if back.Sensors[0].Name != "air" {
		t.Fatal("lists not normalized by name")
	}
}

func TestDocument_RefusesTampering(t *testing.T) {
	for name, mutate := range map[string]func(d *Document){
		"zone changed":      func(d *Document) { d.Zone = "south" },
		"output added":      func(d *Document) { d.Outputs = append(d.Outputs, Output{Name: "pump", Kind: "relay"}) },
		"seq bumped":        func(d *Document) { d.Seq++ },
		"key swapped":       func(d *Document) { other := sample(); other.Sign(key(2)); d.Key = other.Key },
		"signature garbage": func(d *Document) { d.Sig = "AAAA" },
	} {
		d := sample()
		d.Sign(key(1))
		mutate(d)
		if err := d.Verify("greenhouse"); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	d := sample()
	d.Sign(key(1))
	if err := d.Verify("lab"); !errors.Is(err, ErrBadSignature) {
		t.Errorf("document for another cluster: err = %v", err)
	}
}

func TestDocument_RefusesMalformed(t *testing.T) {
	for name, b := range map[string]string{
		"unknown field": `{"v":1,"cluster":"c","node":"n","key":"","zone":"","sensors":[],"outputs":[],"inputs":[],"constraints":{},"seq":1,"sig":"","extra":1}`,
		"trailing":      `{"v":1} {}`,
		"not json":      `garbage`,
	} {
		if _, err := Unmarshal([]byte(b)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	d := sample()
	d.Sensors = append(d.Sensors, Sensor{Name: "temp", Kind: "temperature"})
	d.Sign(key(1))
	if err := d.Verify("greenhouse"); !errors.Is(err, ErrMalformed) {
		t.Errorf("duplicate sensor: err = %v", err)
	}
	d = sample()
	d.Constraints.MaxDuty = 2
	d.Sign(key(1))
	if err := d.Verify("greenhouse"); !errors.Is(err, ErrMalformed) {
		t.Errorf("max_duty 2: err = %v", err)
	}
}

func TestDocument_HasOutput(t *testing.T) {
	d := sample()
	if !d.HasOutput("fan", "") || !d.HasOutput("", "relay") || d.HasOutput("pump", "") || d.HasOutput("led", "relay") {
		t.Fatal("HasOutput")
	}
}
