package config

import (
	"slices"
	"testing"
	"time"
)

func TestDiffAgent_KeysAndValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Agent)
		want   []string // Change.String() of each change, in order
	}{
		{"nothing", func(*Agent) {}, nil},
		{"log level", func(a *Agent) { a.Log.Level = "debug" }, []string{"log.level info→debug"}},
		{"two keys in schema order", func(a *Agent) { a.Log.Format = "json"; a.Bind = "10.0.0.1:7946" },
			[]string{"bind 0.0.0.0:7946→10.0.0.1:7946", "log.format text→json"}},
		{"mqtt url password hidden", func(a *Agent) { a.MQTT.URL = "tcp://pact:s3cret@broker:1883" },
			[]string{`mqtt.url ""→tcp://pact:xxxxx@broker:1883`}},
		{"nested tls key", func(a *Agent) { a.MQTT.TLS.CAFile = "/etc/pact/ca.pem" }, []string{`mqtt.tls.ca_file ""→/etc/pact/ca.pem`}},
		{"home assistant", func(a *Agent) { a.MQTT.HomeAssistant.Enabled = true; a.MQTT.HomeAssistant.Prefix = "ha" },
			[]string{"mqtt.home_assistant.enabled false→true", "mqtt.home_assistant.prefix homeassistant→ha"}},
		{"output limit by index", func(a *Agent) { a.Hardware.Outputs[1].MaxOn = 90 * time.Second },
			[]string{"hardware.outputs[1].max_on 0s→1m30s"}},
		{"output added is the whole list", func(a *Agent) {
			a.Hardware.Outputs = append(a.Hardware.Outputs, Output{Name: "buzzer", Kind: OutputBuzzer, Pin: "GPIO5"})
		}, []string{"hardware.outputs"}},
		{"seeds", func(a *Agent) { a.Seeds = a.Seeds[:1] }, []string{"seeds [192.168.1.22:7946 pi-3.local:7946]→[192.168.1.22:7946]"}},
		{"max duty", func(a *Agent) { a.Constraints.MaxDuty = 0.5 }, []string{"constraints.max_duty 1→0.5"}},
		{"adversary set", func(a *Agent) { a.Adversary = &Adversary{Mode: "silent"} }, []string{`adversary ""→{Mode:silent}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, new := validAgent(), validAgent()
			tc.change(new)
			var got []string
			for _, c := range DiffAgent(old, new) {
				if c.Key == "hardware.outputs" {
					got = append(got, c.Key) // the whole list's value is long
					continue
				}
				got = append(got, c.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("changes:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// A key written out with its default value is no change: Load fills
// defaults in before the diff sees the file.
func TestDiffAgent_DefaultsAreNoChange(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "cluster.yaml", marshal(t, validCluster(t)))
	bare := writeFile(t, dir, "a.yaml", "node: node-1\nhardware: {driver: none}\n")
	explicit := writeFile(t, dir, "b.yaml", "node: node-1\nhardware: {driver: none}\nlog: {level: info, format: text}\nmqtt: {qos: 1}\nbind: 0.0.0.0:7946\n")
	a, err := LoadAgent(bare)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadAgent(explicit)
	if err != nil {
		t.Fatal(err)
	}
	if d := DiffAgent(a, b); len(d) != 0 {
		t.Fatalf("defaults written out: %v, want no change", d)
	}
}

func TestDiffCluster_Keys(t *testing.T) {
	old := validCluster(t)
	new := validCluster(t)
	new.GossipKey, new.Validators, new.Operators = old.GossipKey, old.Validators, old.Operators
	if d := DiffCluster(old, new); len(d) != 0 {
		t.Fatalf("same cluster: %v", d)
	}
	above := 30.0
	v := new.Actions["ventilate"]
	tr := *v.Trigger
	tr.Above = &above
	v.Trigger = &tr
	new.Actions = map[string]Action{"blink": new.Actions["blink"], "ventilate": v}
	new.Validators = map[string]string{"node-1": old.Validators["node-1"], "node-2": old.Validators["node-2"], "node-3": old.Validators["node-3"], "node-4": old.Validators["node-4"], "node-5": testKey(t)}
	var keys []string
	for _, c := range DiffCluster(old, new) {
		keys = append(keys, c.Key)
	}
	want := []string{"validators.node-5", "actions.ventilate.trigger.above"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
}
