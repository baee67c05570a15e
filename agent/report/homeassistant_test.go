package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// haSettings is discovery for a catalogue of three actions: gh-1's document
// (haDoc) meets blink's and ventilate's needs, not water's.
func haSettings() *HomeAssistant {
	return &HomeAssistant{
		Prefix:    "homeassistant",
		SWVersion: "v1.2.3",
		Actions: map[string]config.Needs{
			"blink":     {Output: "led"},
			"ventilate": {OutputKind: config.OutputRelay, Zone: "greenhouse"},
			"water":     {Output: "pump"},
		},
	}
}

func haDoc(sensors ...capability.Sensor) *capability.Document {
	doc := &capability.Document{
		Cluster: testCluster, Node: testNode, Zone: "greenhouse", Sensors: sensors,
		Outputs: []capability.Output{{Name: "led", Kind: "led"}, {Name: "fan", Kind: "relay"}},
		Seq:     1,
	}
	doc.Sign(key(testNode))
	return doc
}

var (
	sensorAir      = capability.Sensor{Name: "air", Kind: "temperature", Unit: "°C"}
	sensorHumidity = capability.Sensor{Name: "air-humidity", Kind: "humidity", Unit: "%"}
	sensorPressure = capability.Sensor{Name: "baro", Kind: "pressure", Unit: "hPa"}
	sensorCPU      = capability.Sensor{Name: "cpu", Kind: "soc_temperature", Unit: "°C"}
	sensorDoor     = capability.Sensor{Name: "door", Kind: "digital"}
)

// haReadings is a signed readings payload of gh-1, as the node publishes it.
func haReadings(t testing.TB, rs ...wire.Reading) (*wire.Readings, []byte) {
	t.Helper()
	rd := &wire.Readings{Header: wire.Header{TS: wire.Timestamp(t0)}, Node: testNode, Readings: rs}
	if err := wire.SignReadings(testCluster, rd, key(testNode)); err != nil {
		t.Fatal(err)
	}
	m, err := newEncoder(testCluster, testNode, fixedClock, nil).readings(rd)
	if err != nil {
		t.Fatal(err)
	}
	return rd, m.payload
}

func discoveryOf(t testing.TB, h *HomeAssistant, doc *capability.Document) []message {
	t.Helper()
	return newEncoder(testCluster, testNode, fixedClock, h).discovery(doc)
}

func entityOf(t testing.TB, m message) haEntity {
	t.Helper()
	var e haEntity
	dec := json.NewDecoder(bytes.NewReader(m.payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("%s: %v", m.topic, err)
	}
	return e
}

func TestHAID_Sanitises(t *testing.T) {
	for _, tc := range []struct {
		parts []string
		want  string
	}{
		{[]string{"pact", "greenhouse", "gh-1"}, "pact_greenhouse_gh_1"},
		{[]string{"pact", "greenhouse", "gh-1", "sensor_air-humidity"}, "pact_greenhouse_gh_1_sensor_air_humidity"},
		{[]string{"Pact", "a.b/c+d#e f", "ü"}, "pact_a_b_c_d_e_f__"},
	} {
		got := haID(tc.parts...)
		if got != tc.want {
			t.Errorf("haID(%q) = %q, want %q", tc.parts, got, tc.want)
		}
		if !regexp.MustCompile(`^[a-z0-9_]+$`).MatchString(got) {
			t.Errorf("haID(%q) = %q: not [a-z0-9_]", tc.parts, got)
		}
	}
}

func TestDiscovery_TopicsAndIDs(t *testing.T) {
	msgs := discoveryOf(t, haSettings(), haDoc(sensorAir, sensorHumidity, sensorPressure, sensorCPU, sensorDoor))
	want := []string{
		"homeassistant/sensor/pact_greenhouse_gh_1_state/config",
		"homeassistant/sensor/pact_greenhouse_gh_1_sensor_air/config",
		"homeassistant/sensor/pact_greenhouse_gh_1_sensor_air_humidity/config",
		"homeassistant/sensor/pact_greenhouse_gh_1_sensor_baro/config",
		"homeassistant/sensor/pact_greenhouse_gh_1_sensor_cpu/config",
		"homeassistant/binary_sensor/pact_greenhouse_gh_1_sensor_door/config",
		"homeassistant/sensor/pact_greenhouse_gh_1_action_blink/config",
		"homeassistant/sensor/pact_greenhouse_gh_1_action_ventilate/config",
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.topic)
		if m.kind != kindDiscovery || !retained(m.kind) || len(m.payload) == 0 {
			t.Errorf("%s: kind %q, retained %v, %d bytes", m.topic, m.kind, retained(m.kind), len(m.payload))
		}
		// The object id (the topic's third level) is the unique id.
		if e := entityOf(t, m); e.UniqueID != strings.Split(m.topic, "/")[2] {
			t.Errorf("%s: unique_id %q is not the object id", m.topic, e.UniqueID)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("topics:\n got %q\nwant %q", got, want)
	}

	h := haSettings()
	h.Prefix = "ha/discovery"
	if m := discoveryOf(t, h, haDoc())[0]; m.topic != "ha/discovery/sensor/pact_greenhouse_gh_1_state/config" {
		t.Errorf("with prefix ha/discovery: %s", m.topic)
	}
	h.Prefix = ""
	if m := discoveryOf(t, h, haDoc())[0]; !strings.HasPrefix(m.topic, "homeassistant/") {
		t.Errorf("the empty prefix is the default: %s", m.topic)
	}
}

// One sensor's configuration, whole: Home Assistant's field names are its
// contract, as pact's payloads are ours.
func TestDiscovery_SensorGolden(t *testing.T) {
	msgs := discoveryOf(t, haSettings(), haDoc(sensorAir))
	const want = `{"name":"air","unique_id":"pact_greenhouse_gh_1_sensor_air","has_entity_name":true,` +
		`"state_topic":"pact/greenhouse/nodes/gh-1/readings",` +
		`"value_template":"{% for r in value_json.readings %}{% if r.sensor == 'air' %}{{ r.value }}{% endif %}{% endfor %}",` +
		`"unit_of_measurement":"°C","device_class":"temperature","state_class":"measurement","expire_after":60,` +
		`"availability":[{"topic":"pact/greenhouse/nodes/gh-1/state","value_template":"{{ 'online' if value_json.state == 'ready' else 'offline' }}","payload_available":"online","payload_not_available":"offline"}],` +
		`"device":{"identifiers":["pact_greenhouse_gh_1"],"name":"gh-1","model":"pact node (cluster greenhouse)","manufacturer":"pact","sw_version":"v1.2.3","suggested_area":"greenhouse"},` +
		`"origin":{"name":"pact","sw_version":"v1.2.3"}}`
	if got := string(msgs[1].payload); got != want {
		t.Fatalf("air's configuration:\n got %s\nwant %s", got, want)
	}
}

func TestDiscovery_Entities(t *testing.T) {
	msgs := discoveryOf(t, haSettings(), haDoc(sensorAir, sensorHumidity, sensorPressure, sensorCPU, sensorDoor,
		capability.Sensor{Name: "odd", Kind: "temperature", Unit: "mV"}))
	byID := map[string]haEntity{}
	for _, m := range msgs {
		e := entityOf(t, m)
		byID[strings.TrimPrefix(e.UniqueID, "pact_greenhouse_gh_1_")] = e
		if e.Device.Identifiers[0] != "pact_greenhouse_gh_1" || e.Device.Name != testNode || !e.HasEntityName {
			t.Errorf("%s: device %+v, has_entity_name %v", m.topic, e.Device, e.HasEntityName)
		}
	}
	readings, state := "pact/greenhouse/nodes/gh-1/readings", "pact/greenhouse/nodes/gh-1/state"
	for _, tc := range []struct {
		id, stateTopic, unit, class, stateClass, category string
		available                                         bool
	}{
		{"state", state, "", "enum", "", "", false},
		{"sensor_air", readings, "°C", "temperature", "measurement", "", true},
		{"sensor_air_humidity", readings, "%", "humidity", "measurement", "", true},
		{"sensor_baro", readings, "hPa", "pressure", "measurement", "", true},
		{"sensor_cpu", readings, "°C", "temperature", "measurement", "diagnostic", true},
		{"sensor_door", readings, "", "", "", "", true},
		{"sensor_odd", readings, "mV", "", "measurement", "", true}, // a unit Home Assistant refuses for temperature
		{"action_blink", "pact/greenhouse/nodes/gh-1/last/blink", "", "enum", "", "", false},
		{"action_ventilate", "pact/greenhouse/nodes/gh-1/last/ventilate", "", "enum", "", "", false},
	} {
		e, ok := byID[tc.id]
		if !ok {
			t.Errorf("no entity %s", tc.id)
			continue
		}
		if e.StateTopic != tc.stateTopic || e.UnitOfMeasurement != tc.unit || e.DeviceClass != tc.class ||
			e.StateClass != tc.stateClass || e.EntityCategory != tc.category || (len(e.Availability) == 1) != tc.available {
			t.Errorf("%s: %+v", tc.id, e)
		}
		if tc.available && (e.Availability[0].Topic != state || e.ExpireAfter != 60) {
			t.Errorf("%s: availability %+v, expire_after %d", tc.id, e.Availability, e.ExpireAfter)
		}
	}
	if o := byID["state"].Options; !slices.Equal(o, []string{"ready", "lost", "disconnected", "ejected"}) {
		t.Errorf("state options %q", o)
	}
	if e := byID["action_blink"]; e.Name != "blink last outcome" || !slices.Equal(e.Options, []string{"ok", "failed"}) || e.JSONAttributesTopic != e.StateTopic {
		t.Errorf("blink: %+v", e)
	}
}

// readingTemplateRE is the one template shape readingTemplate writes.
var readingTemplateRE = regexp.MustCompile(`^\{% for r in value_json\.readings %\}\{% if r\.sensor == '([a-z0-9-]+)' %\}\{\{ (.+) \}\}\{% endif %\}\{% endfor %\}$`)

// evalReadingTemplate renders a reading template by hand, as Jinja would,
// against a readings payload: the loop, the name test, and the two value
// expressions discovery writes.
func evalReadingTemplate(t testing.TB, tmpl string, payload []byte) string {
	t.Helper()
	m := readingTemplateRE.FindStringSubmatch(tmpl)
	if m == nil {
		t.Fatalf("template %q is not the readings loop", tmpl)
	}
	var value struct {
		Readings []map[string]any `json:"readings"`
	}
	if err := json.Unmarshal(payload, &value); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, r := range value.Readings {
		if r["sensor"] != m[1] {
			continue
		}
		v, ok := r["value"].(float64)
		if !ok {
			t.Fatalf("reading %v has no numeric value", r)
		}
		switch m[2] {
		case "r.value":
			out.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
		case "'ON' if r.value else 'OFF'":
			out.WriteString(map[bool]string{true: "ON", false: "OFF"}[v != 0])
		default:
			t.Fatalf("unknown value expression %q", m[2])
		}
	}
	return out.String()
}

func TestDiscovery_ValueTemplatePicksItsSensor(t *testing.T) {
	msgs := discoveryOf(t, haSettings(), haDoc(sensorAir, sensorHumidity, sensorDoor))
	_, payload := haReadings(t,
		wire.Reading{Sensor: "air", Kind: "temperature", Value: 21.5, Unit: "°C"},
		wire.Reading{Sensor: "air-humidity", Kind: "humidity", Value: 63.25, Unit: "%"},
		wire.Reading{Sensor: "door", Kind: "digital", Value: 1},
	)
	_, partial := haReadings(t, wire.Reading{Sensor: "air-humidity", Kind: "humidity", Value: 60, Unit: "%"})
	want := map[string][2]string{ // full payload, payload without the sensor
		"pact_greenhouse_gh_1_sensor_air":          {"21.5", ""},
		"pact_greenhouse_gh_1_sensor_air_humidity": {"63.25", "60"},
		"pact_greenhouse_gh_1_sensor_door":         {"ON", ""},
	}
	seen := 0
	for _, m := range msgs {
		e := entityOf(t, m)
		w, ok := want[e.UniqueID]
		if !ok {
			continue
		}
		seen++
		// The template names the sensor by its pact name, not the id.
		if !strings.Contains(e.ValueTemplate, "r.sensor == '"+e.Name+"'") {
			t.Errorf("%s: template %q does not pick sensor %q", e.UniqueID, e.ValueTemplate, e.Name)
		}
		if got := evalReadingTemplate(t, e.ValueTemplate, payload); got != w[0] {
			t.Errorf("%s: renders %q, want %q", e.UniqueID, got, w[0])
		}
		if got := evalReadingTemplate(t, e.ValueTemplate, partial); got != w[1] {
			t.Errorf("%s without its reading: renders %q, want %q", e.UniqueID, got, w[1])
		}
	}
	if seen != len(want) {
		t.Fatalf("found %d of the %d sensor entities", seen, len(want))
	}
}

// Every template discovery writes, rendered by Jinja itself (the engine
// Home Assistant uses) against the payloads pact publishes. Skipped without
// python3 and Jinja2.
func TestDiscovery_TemplatesRenderInJinja(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if exec.Command(py, "-c", "import jinja2").Run() != nil {
		t.Skip("python3 has no jinja2 (pip install jinja2)")
	}
	h := haSettings()
	msgs := discoveryOf(t, h, haDoc(sensorAir, sensorHumidity, sensorDoor))
	enc := newEncoder(testCluster, testNode, fixedClock, h)
	_, readings := haReadings(t,
		wire.Reading{Sensor: "air", Kind: "temperature", Value: 21.5, Unit: "°C"},
		wire.Reading{Sensor: "air-humidity", Kind: "humidity", Value: 63.25, Unit: "%"},
		wire.Reading{Sensor: "door", Kind: "digital", Value: 0},
	)
	ready := enc.state(wire.StateReady, 7).payload
	lost := enc.state(wire.StateLost, 7).payload
	om, err := enc.outcome(signedOutcome(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	failed, err := makeOutcome(4)
	if err != nil {
		t.Fatal(err)
	}
	failed.OK, failed.Error = false, "readback low"
	if err := wire.SignOutcome(testCluster, failed, key(testNode)); err != nil {
		t.Fatal(err)
	}
	fm, err := enc.outcome(failed)
	if err != nil {
		t.Fatal(err)
	}

	type render struct {
		Template string `json:"template"`
		Payload  string `json:"payload"`
		Want     string `json:"-"`
	}
	var cases []render
	for _, m := range msgs {
		e := entityOf(t, m)
		switch {
		case e.UniqueID == "pact_greenhouse_gh_1_state":
			cases = append(cases,
				render{e.ValueTemplate, string(ready), "ready"},
				render{e.ValueTemplate, string(lost), "lost"},
				render{e.JSONAttributesTemplate, string(ready), `{"bdseq": 7, "since": "2026-03-01T12:00:00.000Z"}`})
		case e.UniqueID == "pact_greenhouse_gh_1_sensor_air":
			cases = append(cases, render{e.ValueTemplate, string(readings), "21.5"})
		case e.UniqueID == "pact_greenhouse_gh_1_sensor_air_humidity":
			cases = append(cases, render{e.ValueTemplate, string(readings), "63.25"})
		case e.UniqueID == "pact_greenhouse_gh_1_sensor_door":
			cases = append(cases, render{e.ValueTemplate, string(readings), "OFF"})
		case e.UniqueID == "pact_greenhouse_gh_1_action_blink":
			cases = append(cases,
				render{e.ValueTemplate, string(om.payload), "ok"},
				render{e.ValueTemplate, string(fm.payload), "failed"},
				render{e.JSONAttributesTemplate, string(fm.payload), `{"instance": "i-00004", "request_id": "r-00004", "height": 104, ` +
					`"started": "2026-03-01T12:00:00.000Z", "finished": "2026-03-01T12:00:01.000Z", "error": "readback low", "readback": "high"}`})
		}
		for _, a := range e.Availability {
			cases = append(cases, render{a.ValueTemplate, string(ready), a.PayloadAvailable}, render{a.ValueTemplate, string(lost), a.PayloadNotAvailable})
		}
	}
	// value_json is the payload decoded, as Home Assistant passes it.
	const script = `
import json, sys, jinja2
env = jinja2.Environment(undefined=jinja2.StrictUndefined)
for c in json.load(sys.stdin):
    print(json.dumps(env.from_string(c["template"]).render(value_json=json.loads(c["payload"]))))
`
	in, _ := json.Marshal(cases)
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("jinja: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(cases) {
		t.Fatalf("%d renders for %d templates", len(lines), len(cases))
	}
	for i, c := range cases {
		var got string
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatal(err)
		}
		if !sameRender(got, c.Want) {
			t.Errorf("%s\n  renders %q, want %q", c.Template, got, c.Want)
		}
	}
	if len(cases) < 12 {
		t.Fatalf("only %d templates checked", len(cases))
	}
}

// A name Jinja could not take quoted is left out; the rest is announced.
func TestDiscovery_LeavesOutNamesItCannotQuote(t *testing.T) {
	doc := haDoc(capability.Sensor{Name: "air' or 'x", Kind: "temperature", Unit: "°C"}, sensorAir)
	for _, m := range discoveryOf(t, haSettings(), doc) {
		if strings.Contains(string(m.payload), "or 'x") {
			t.Errorf("%s quotes the bad name: %s", m.topic, m.payload)
		}
	}
	if n := len(discoveryOf(t, haSettings(), doc)); n != 1+1+2 {
		t.Errorf("%d entities, want state, air and two actions", n)
	}
}

func newHAMemory(t testing.TB, h *HomeAssistant) *Memory {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Cluster, cfg.Node, cfg.Now, cfg.HomeAssistant = testCluster, testNode, fixedClock, h
	m, err := NewMemory(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMemory_HomeAssistantOff(t *testing.T) {
	m := newTestMemory(t)
	if err := m.PublishCapabilities(haDoc(sensorAir)); err != nil {
		t.Fatal(err)
	}
	if err := m.PublishOutcome(signedOutcome(t, 1)); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Published() {
		if strings.HasPrefix(p.Topic, "homeassistant/") || strings.Contains(p.Topic, "/last/") {
			t.Errorf("discovery is off, but %s was published", p.Topic)
		}
	}
}

func TestMemory_LastOutcome(t *testing.T) {
	m := newHAMemory(t, haSettings())
	mine := signedOutcome(t, 1)
	theirs, err := makeOutcome(2)
	if err != nil {
		t.Fatal(err)
	}
	theirs.Performer = "gh-2"
	if err := wire.SignOutcome(testCluster, theirs, key("gh-2")); err != nil {
		t.Fatal(err)
	}
	for _, o := range []*wire.Outcome{mine, theirs} {
		if err := m.PublishOutcome(o); err != nil {
			t.Fatal(err)
		}
	}
	tp := wire.Topics{Cluster: testCluster}
	last, ok := m.Retained(tp.LastOutcome(testNode, "blink"))
	outcome, _ := m.Retained(tp.Outcome("blink", mine.Instance))
	if !ok || !bytes.Equal(last, outcome) {
		t.Fatalf("last/blink is %s, want the outcome %s byte for byte", last, outcome)
	}
	if _, ok := m.Retained(tp.LastOutcome("gh-2", "blink")); ok {
		t.Errorf("gh-1 published a last outcome in gh-2's name")
	}
	o, err := wire.DecodeOutcome(last)
	if err != nil || wire.VerifyOutcome(testCluster, o, pub(testNode)) != nil || o.Instance != mine.Instance {
		t.Fatalf("last outcome %s: %v", last, err)
	}
	if p, err := wire.ParseTopic(tp.LastOutcome(testNode, "blink")); err != nil || !p.Kind.Retained() || !p.Kind.Durable() {
		t.Errorf("last topic: %+v %v", p, err)
	}
}

// A sensor that leaves the document leaves Home Assistant: an empty
// retained configuration removes it; RemoveDiscovery removes them all.
func TestMemory_DiscoveryFollowsTheDocument(t *testing.T) {
	m := newHAMemory(t, haSettings())
	air := "homeassistant/sensor/pact_greenhouse_gh_1_sensor_air/config"
	hum := "homeassistant/sensor/pact_greenhouse_gh_1_sensor_air_humidity/config"
	if err := m.PublishCapabilities(haDoc(sensorAir, sensorHumidity)); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Retained(hum); !ok {
		t.Fatalf("no %s", hum)
	}
	if err := m.PublishCapabilities(haDoc(sensorAir)); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Retained(hum); ok {
		t.Errorf("%s is still retained after the sensor left", hum)
	}
	if _, ok := m.Retained(air); !ok {
		t.Errorf("%s was removed", air)
	}
	if err := m.RemoveDiscovery(); err != nil {
		t.Fatal(err)
	}
	all := m.Published()
	removed := 0
	for _, p := range all {
		if strings.HasPrefix(p.Topic, "homeassistant/") {
			if _, ok := m.Retained(p.Topic); ok {
				t.Errorf("%s is still retained after RemoveDiscovery", p.Topic)
			}
			if len(p.Payload) == 0 {
				removed++
			}
		}
	}
	if want := 1 + 4; removed != want { // humidity, then state, air, blink, ventilate
		t.Errorf("%d removals, want %d", removed, want)
	}
}

func TestConfig_HomeAssistantPrefix(t *testing.T) {
	for prefix, ok := range map[string]bool{
		"homeassistant": true, "ha/discovery": true, "": true,
		"ha/#": false, "ha/+/x": false, "/ha": false, "ha/": false, "ha//x": false, "$SYS": false, "home assistant": false,
	} {
		c := testConfig(t, "tcp://127.0.0.1:1883")
		c.HomeAssistant = &HomeAssistant{Prefix: prefix}
		err := c.Validate()
		var fe *FieldError
		if got := err == nil; got != ok {
			t.Errorf("prefix %q: %v", prefix, err)
		} else if !ok && (!errors.As(err, &fe) || fe.Field != "HomeAssistant.Prefix") {
			t.Errorf("prefix %q: %v does not name HomeAssistant.Prefix", prefix, err)
		}
	}
	c := FromAgent(config.MQTT{URL: "tcp://b:1883", HomeAssistant: config.HomeAssistant{Enabled: true, Prefix: "ha"}}, testCluster, testNode)
	if c.HomeAssistant == nil || c.HomeAssistant.Prefix != "ha" {
		t.Errorf("FromAgent: %+v", c.HomeAssistant)
	}
	if c := FromAgent(config.MQTT{URL: "tcp://b:1883", HomeAssistant: config.HomeAssistant{Prefix: "ha"}}, testCluster, testNode); c.HomeAssistant != nil {
		t.Errorf("FromAgent with discovery off: %+v", c.HomeAssistant)
	}
}

// sameRender compares a rendered template with what it should be: as JSON
// when it is an object (Jinja's tojson sorts the keys), else as text.
func sameRender(got, want string) bool {
	if !strings.HasPrefix(want, "{") {
		return got == want
	}
	var g, w map[string]any
	return json.Unmarshal([]byte(got), &g) == nil && json.Unmarshal([]byte(want), &w) == nil && reflect.DeepEqual(g, w)
}

// sprintTopics is for failure messages.
func sprintTopics(msgs []received) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "\n  %s (%d bytes, retained %v)", m.Topic, len(m.Payload), m.Retained)
	}
	return b.String()
}
