package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/seed44533760/pact/agent/identity"
)

// clusterYAML is a valid cluster file; line numbers below refer to it.
func clusterYAML(t *testing.T) string {
	return fmt.Sprintf(`cluster: greenhouse
gossip_key: %s
validators:
  node-1: %s
  node-2: %s
  node-3: %s
  node-4: %s
operators:
  alice: %s
actions:
  blink:
    needs: {output: led, output_kind: led}
    verify: [readback]
`, testGossipKey(t), testKey(t), testKey(t), testKey(t), testKey(t), testKey(t))
}

const agentYAML = `node: node-1
cluster_file: ../shared/cluster.yaml
data_dir: state
bind: 127.0.0.1:7946
seeds: [127.0.0.1:7947]
hardware:
  driver: sim
  outputs:
    - name: led
      kind: led
      pin: GPIO17
`

func TestParse_UnknownKeysHavePathAndLine(t *testing.T) {
	data := agentYAML + `mdsn: true
hardware_:
  x: 1
constraints:
  power: mains
  max_dutty: 0.5
`
	data = strings.Replace(data, "      pin: GPIO17\n", "      pin: GPIO17\n      colour: red\n", 1)
	_, err := ParseAgent("/etc/pact/pact.yaml", []byte(data))
	tests := []struct {
		path string
		line int
		hint string
	}{
		{"hardware.outputs[0].colour", 12, "valid keys here: active, kind"},
		{"mdsn", 13, `did you mean "mdns"?`},
		{"hardware_", 14, `did you mean "hardware"?`},
		{"constraints.max_dutty", 18, `did you mean "max_duty"?`},
	}
	for _, tt := range tests {
		p := wantProblem(t, err, tt.path, "unknown key", tt.hint)
		if p.Line != tt.line || p.File != "/etc/pact/pact.yaml" {
			t.Errorf("%s: at %s:%d, want line %d", tt.path, p.File, p.Line, tt.line)
		}
		want := fmt.Sprintf("/etc/pact/pact.yaml:%d: %s: unknown key", tt.line, tt.path)
		if !strings.HasPrefix(p.Error(), want) {
			t.Errorf("Error() = %q, want it to start with %q", p.Error(), want)
		}
	}
	if n := len(Problems(err)); n != len(tests) {
		t.Errorf("%d problems, want %d (x under an unknown key is not reported again): %v", n, len(tests), err)
	}
}

func TestParse_WrongTypes(t *testing.T) {
	data := agentYAML + `mdns: maybe
constraints: {power: mains, max_duty: lots}
log: [debug]
`
	data = strings.Replace(data, "seeds: [127.0.0.1:7947]", "seeds: 127.0.0.1:7947", 1)
	_, err := ParseAgent("pact.yaml", []byte(data))
	wantProblem(t, err, "seeds", "expected a list", `"127.0.0.1:7947"`)
	wantProblem(t, err, "mdns", "expected true or false", `"maybe"`)
	wantProblem(t, err, "constraints.max_duty", "expected a number", `"lots"`)
	wantProblem(t, err, "log", "expected a mapping", "a list")

	_, err = ParseCluster("cluster.yaml", []byte(strings.Replace(clusterYAML(t), "actions:", "timings:\n  tick: 100\n  propose: soon\nactions:", 1)))
	wantProblem(t, err, "timings.tick", "expected a duration such as 500ms", `"100"`)
	wantProblem(t, err, "timings.propose", "expected a duration", `"soon"`)
}

// A value that failed to decode is not reported a second time by the rule
// that checks it.
func TestParse_DecodeErrorsAreNotRepeated(t *testing.T) {
	data := strings.Replace(agentYAML, "node: node-1", "node: [node-1]", 1)
	_, err := ParseAgent("pact.yaml", []byte(data))
	if got := problemPathsOf(err); !reflect.DeepEqual(got, []string{"node"}) {
		t.Errorf("problems at %v, want only [node]: %v", got, err)
	}
}

func TestParse_FileLevelProblems(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		line     int
		mentions string
	}{
		{"empty", "", 0, "empty"},
		{"only a comment", "# nothing\n", 0, "empty"},
		{"syntax", "node: node-1\n  bind: [\n", 2, ""},
		{"tab indentation", "node: node-1\nhardware:\n\tdriver: sim\n", 3, ""},
		{"a list", "- node: node-1\n", 1, "mapping of keys"},
		{"a scalar", "hello\n", 1, "mapping of keys"},
		{"two documents", "node: a\n---\nnode: b\n", 2, "more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAgent("pact.yaml", []byte(tt.data))
			if a != nil {
				t.Errorf("ParseAgent returned an agent for an unreadable file")
			}
			ps := Problems(err)
			if len(ps) != 1 {
				t.Fatalf("problems = %v, want one", err)
			}
			if ps[0].Line != tt.line || !strings.Contains(ps[0].Msg, tt.mentions) || ps[0].File != "pact.yaml" {
				t.Errorf("problem = %q (line %d), want line %d mentioning %q", ps[0], ps[0].Line, tt.line, tt.mentions)
			}
		})
	}
}

func TestParse_DuplicateKey(t *testing.T) {
	data := strings.Replace(agentYAML, "      kind: led\n", "      kind: led\n      kind: relay\n", 1)
	_, err := ParseAgent("pact.yaml", []byte(data+"node: node-2\n"))
	p := wantProblem(t, err, "hardware.outputs[0].kind", "appears twice", "line 10")
	if p.Line != 11 {
		t.Errorf("line = %d, want 11", p.Line)
	}
	// The top-level mapping with a duplicate is not decoded at all; that
	// must not also read as "node missing".
	wantProblem(t, err, "node", "appears twice", "line 1")
	if n := len(Problems(err)); n != 2 {
		t.Errorf("%d problems, want 2: %v", n, err)
	}
}

// Every problem of both files comes back from one Load: decode errors and
// rule violations, agent file first, each on its own line.
func TestLoad_ReportsAllProblemsAtOnce(t *testing.T) {
	dir := t.TempDir()
	cluster := clusterYAML(t)
	cluster = strings.Replace(cluster, "cluster: greenhouse", "cluster: Green_House", 1)
	cluster = strings.Replace(cluster, "verify: [readback]", "verify: [readback, smell]\n    deadlin: 5s", 1)
	writeFile(t, dir, "shared/cluster.yaml", cluster)
	agent := strings.Replace(agentYAML, "bind: 127.0.0.1:7946", "bind: 127.0.0.1", 1)
	agent += "    - {name: fan, kind: relay, pin: GPIO17}\nlog: {level: loud}\nzone: [a]\n"
	path := writeFile(t, filepath.Join(dir, "node-1"), "pact.yaml", agent)

	a, c, err := Load(path)
	if a == nil || c == nil {
		t.Fatalf("Load returned agent %v, cluster %v; want both despite the problems", a != nil, c != nil)
	}
	want := []struct {
		file string
		line int
		path string
	}{
		{path, 4, "bind"},
		{path, 12, "hardware.outputs[1].pin"},
		{path, 13, "log.level"},
		{path, 14, "zone"},
		{c.File(), 1, "cluster"},
		{c.File(), 13, "actions.blink.verify[1]"},
		{c.File(), 14, "actions.blink.deadlin"},
	}
	ps := Problems(err)
	if len(ps) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, w := range want {
		if ps[i].File != w.file || ps[i].Line != w.line || ps[i].Path != w.path {
			t.Errorf("problem %d = %s:%d %s, want %s:%d %s", i, ps[i].File, ps[i].Line, ps[i].Path, w.file, w.line, w.path)
		}
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != len(want) {
		t.Errorf("err.Error() has %d lines, want one per problem", len(lines))
	}
}

func TestLoad_ResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "shared/cluster.yaml", clusterYAML(t))
	data := agentYAML + "admin: unix:admin.sock\nmqtt:\n  url: ssl://broker:8883\n  username: pi\n  password_file: secret/mqtt.pw\n  tls: {ca_file: ca.pem}\n"
	path := writeFile(t, filepath.Join(dir, "node-1"), "pact.yaml", data)

	// Load through a relative path from another working directory: the
	// result must not depend on it.
	t.Chdir(dir)
	a, c, err := Load(filepath.Join("node-1", "pact.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	nodeDir := filepath.Dir(path)
	for _, tt := range []struct{ name, got, want string }{
		{"cluster_file", a.ClusterFile, filepath.Join(dir, "shared", "cluster.yaml")},
		{"data_dir", a.DataDir, filepath.Join(nodeDir, "state")},
		{"key_file (default under data_dir)", a.KeyFile, filepath.Join(nodeDir, "state", "identity.key")},
		{"admin socket", a.Admin, "unix:" + filepath.Join(nodeDir, "admin.sock")},
		{"password_file", a.MQTT.PasswordFile, filepath.Join(nodeDir, "secret", "mqtt.pw")},
		{"ca_file", a.MQTT.TLS.CAFile, filepath.Join(nodeDir, "ca.pem")},
		{"cluster File()", c.File(), filepath.Join(dir, "shared", "cluster.yaml")},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if c.Name != "greenhouse" || c.Timings != DefaultTimings() || c.Gossip.Profile != GossipPi {
		t.Errorf("cluster defaults not applied: %+v", c)
	}
	if act := c.Actions["blink"]; act.Deadline != DefaultDeadline || act.Drive.Level != High {
		t.Errorf("action defaults not applied: %+v", act)
	}
	if a.Log.Level != "info" || a.MQTT.QoS != 1 || a.Hardware.Outputs[0].Active != High {
		t.Errorf("agent defaults not applied: %+v", a)
	}
}

func TestLoad_MissingClusterFileIsAProblemOfClusterFileKey(t *testing.T) {
	path := writeFile(t, t.TempDir(), "pact.yaml", agentYAML)
	a, c, err := Load(path)
	if a == nil || c != nil {
		t.Fatalf("Load = %v, %v", a, c)
	}
	p := wantProblem(t, err, "cluster_file", "no such file")
	if p.Line != 2 || p.File != path {
		t.Errorf("problem at %s:%d, want %s:2", p.File, p.Line, path)
	}
}

func TestLoad_MissingAgentFile(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || len(Problems(err)) != 0 || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("err = %v, want a plain not-exist error", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestLoad_ExplicitZeroIsCheckedNotDefaulted(t *testing.T) {
	data := strings.Replace(clusterYAML(t), "actions:", "timings:\n  tick: 0s\nactions:", 1)
	_, err := ParseCluster("cluster.yaml", []byte(data))
	p := wantProblem(t, err, "timings.tick", "positive")
	if p.Line != 11 {
		t.Errorf("line = %d, want 11", p.Line)
	}
}

func TestWarnings_Cross(t *testing.T) {
	c := validCluster(t)
	a := validAgent()
	if ws := Warnings(a, c); len(ws) != 0 {
		t.Fatalf("valid pair has warnings: %v", ws)
	}
	a.Node = "node-9"
	a.Hardware.Inputs[0].Watches = "node-8/led"
	a.Seeds = nil
	a.Admin = "0.0.0.0:7950"
	a.Adversary = &Adversary{Mode: "mixed"}
	a.MQTT.Username = "pi"
	a.Hardware.Outputs = []Output{{Name: "buzzer", Kind: OutputBuzzer, Pin: "GPIO5"}}
	var got []string
	for _, w := range Warnings(a, c) {
		if !w.Warning {
			t.Errorf("%v is not marked as a warning", w)
		}
		got = append(got, w.Path)
	}
	want := []string{"admin", "adversary", "hardware.inputs[0].watches", "hardware.outputs", "mqtt.url", "node", "seeds"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings at %v, want %v", got, want)
	}

	a = validAgent()
	a.Hardware.Inputs[0].Watches = "node-1/led"
	ws := Warnings(a, c)
	if len(ws) != 1 || !strings.Contains(ws[0].Msg, "own output") {
		t.Errorf("warnings = %v, want one about watching its own output", ws)
	}
}

func TestCheckIdentity(t *testing.T) {
	c := validCluster(t)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	a := validAgent()
	err := CheckIdentity(a, c, pub)
	wantProblem(t, err, "key_file", "cluster file lists", "validators.node-1")

	c.Validators["node-1"] = identity.PublicKeyString(pub)
	if err := CheckIdentity(a, c, pub); err != nil {
		t.Errorf("matching key: %v", err)
	}
	a.Node = "candidate"
	if err := CheckIdentity(a, c, pub); err != nil {
		t.Errorf("candidate node: %v", err)
	}
}

func TestDetectKind(t *testing.T) {
	tests := []struct {
		data string
		want Kind
	}{
		{agentYAML, KindAgent},
		{"cluster_file: c.yaml\n", KindAgent},
		{clusterYAML(t), KindCluster},
		{"validators: {}\n", KindCluster},
		{"log: {}\n", 0},
		{"node: a\ncluster: b\n", 0},
		{"- a\n", 0},
	}
	for _, tt := range tests {
		got, err := DetectKind([]byte(tt.data))
		if got != tt.want || (tt.want == 0) != (err != nil) {
			t.Errorf("DetectKind(%.20q) = %v, %v; want %v", tt.data, got, err, tt.want)
		}
	}
}

// What Marshal writes reads back to the same value.
func TestMarshal_RoundTrip(t *testing.T) {
	c := validCluster(t)
	data, err := Marshal(c, "a header\nof two lines")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "# a header\n# of two lines\ncluster: greenhouse\n") {
		t.Errorf("marshalled:\n%s", data)
	}
	back, err := ParseCluster("c.yaml", data)
	if err != nil {
		t.Fatalf("re-parse: %v\n%s", err, data)
	}
	back.src = nil
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip changed the cluster:\n%s", data)
	}

	a := validAgent()
	a.Constraints.MaxDuty = 0 // zero is a value here, not "unset"
	a.MQTT.QoS = 0
	data = []byte(marshal(t, a))
	backA, err := ParseAgent("/etc/pact/pact.yaml", data)
	if err != nil {
		t.Fatalf("re-parse: %v\n%s", err, data)
	}
	if backA.Constraints.MaxDuty != 0 || backA.MQTT.QoS != 0 || !reflect.DeepEqual(backA.Hardware, a.Hardware) {
		t.Errorf("round trip changed the agent:\n%s", data)
	}
}

// `home_assistant: {enabled: true}` keeps the default prefix; with no
// broker it is worth a warning, since nothing would be announced.
func TestLoadAgent_HomeAssistant(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "cluster.yaml", marshal(t, validCluster(t)))
	on := writeFile(t, dir, "on.yaml", "node: node-1\nhardware: {driver: none}\nmqtt:\n  url: tcp://broker:1883\n  home_assistant: {enabled: true}\n")
	a, err := LoadAgent(on)
	if err != nil {
		t.Fatal(err)
	}
	if h := a.MQTT.HomeAssistant; !h.Enabled || h.Prefix != DefaultHomeAssistantPrefix {
		t.Errorf("home_assistant = %+v", h)
	}
	bad := writeFile(t, dir, "bad.yaml", "node: node-1\nhardware: {driver: none}\nmqtt:\n  home_assistant: {enabled: true, prefix: ha/+}\n")
	_, err = LoadAgent(bad)
	ps := Problems(err)
	if len(ps) != 1 || ps[0].Path != "mqtt.home_assistant.prefix" || ps[0].Line != 4 {
		t.Errorf("problems = %v, want one at mqtt.home_assistant.prefix, line 4", err)
	}
	a.MQTT.URL = ""
	var paths []string
	for _, w := range Warnings(a, validCluster(t)) {
		paths = append(paths, w.Path)
	}
	if !slices.Contains(paths, "mqtt.home_assistant.enabled") {
		t.Errorf("warnings at %v, want one at mqtt.home_assistant.enabled", paths)
	}
}
