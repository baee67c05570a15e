package report

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// discoveryConfigs decodes the non-empty discovery configurations received,
// by topic (the last one of each).
func discoveryConfigs(t testing.TB, msgs []received) map[string]received {
	t.Helper()
	out := map[string]received{}
	for _, m := range msgs {
		if strings.HasPrefix(m.Topic, "homeassistant/") && len(m.Payload) > 0 {
			out[m.Topic] = m
		}
	}
	return out
}

// Against a real broker: a node with two sensors and one action it can
// perform announces four entities, retained; the readings it publishes
// arrive on the state topic its sensor entities name and their templates
// pick each sensor's value; the last outcome arrives retained on its own
// topic; the configurations come back after a reconnection; and
// RemoveDiscovery clears them.
func TestReporter_HomeAssistantDiscovery(t *testing.T) {
	b := startBroker(t)
	p := newProxy(t, b.Addr())
	st := openStore(t, filepath.Join(t.TempDir(), "pact.db"))
	t.Cleanup(func() { _ = st.Close() })
	cfg := testConfig(t, p.URL())
	cfg.Outbox = st.Outbox()
	cfg.HomeAssistant = &HomeAssistant{Prefix: "homeassistant", SWVersion: "test",
		Actions: map[string]config.Needs{"blink": {Output: "led"}, "water": {Output: "pump"}}}
	r := newReporter(t, cfg)
	waitStats(t, r, 10*time.Second, "connected", func(s Stats) bool { return s.Connected })
	early := subscribe(t, b.URL(), "homeassistant/#")
	if err := r.PublishCapabilities(haDoc(sensorAir, sensorHumidity)); err != nil {
		t.Fatal(err)
	}

	wantTopics := []string{
		"homeassistant/sensor/pact_greenhouse_gh_1_state/config",
		"homeassistant/sensor/pact_greenhouse_gh_1_sensor_air/config",
		"homeassistant/sensor/pact_greenhouse_gh_1_sensor_air_humidity/config",
		"homeassistant/sensor/pact_greenhouse_gh_1_action_blink/config",
	}
	early.waitFor(10*time.Second, "four configurations", func(m []received) bool {
		return len(discoveryConfigs(t, m)) == len(wantTopics)
	})
	// A subscriber that comes later, as Home Assistant after a restart,
	// gets them from the broker's retained store.
	late := subscribe(t, b.URL(), "homeassistant/#")
	got := late.waitFor(10*time.Second, "four retained configurations", func(m []received) bool {
		return len(discoveryConfigs(t, m)) == len(wantTopics)
	})
	configs := discoveryConfigs(t, got)
	entities := map[string]haEntity{}
	for _, topic := range wantTopics {
		m, ok := configs[topic]
		if !ok {
			t.Fatalf("no %s in%s", topic, sprintTopics(got))
		}
		if !m.Retained {
			t.Errorf("%s is not retained", topic)
		}
		var e haEntity
		if err := json.Unmarshal(m.Payload, &e); err != nil {
			t.Fatalf("%s: %v", topic, err)
		}
		entities[e.UniqueID] = e
	}

	// The readings the node publishes are what the sensor entities read.
	air := entities["pact_greenhouse_gh_1_sensor_air"]
	hum := entities["pact_greenhouse_gh_1_sensor_air_humidity"]
	if air.StateTopic != hum.StateTopic {
		t.Fatalf("the sensors read %s and %s", air.StateTopic, hum.StateTopic)
	}
	ha := subscribe(t, b.URL(), air.StateTopic) // what Home Assistant subscribes to
	rd, _ := haReadings(t,
		wire.Reading{Sensor: "air", Kind: "temperature", Value: 21.5, Unit: "°C"},
		wire.Reading{Sensor: "air-humidity", Kind: "humidity", Value: 58, Unit: "%"},
	)
	if err := r.PublishReadings(rd); err != nil {
		t.Fatal(err)
	}
	msgs := ha.waitFor(10*time.Second, "the readings on the sensors' state topic", func(m []received) bool { return len(m) > 0 })
	if msgs[0].Topic != air.StateTopic {
		t.Fatalf("readings on %s", msgs[0].Topic)
	}
	if v := evalReadingTemplate(t, air.ValueTemplate, msgs[0].Payload); v != "21.5" {
		t.Errorf("air renders %q from %s", v, msgs[0].Payload)
	}
	if v := evalReadingTemplate(t, hum.ValueTemplate, msgs[0].Payload); v != "58" {
		t.Errorf("air-humidity renders %q from %s", v, msgs[0].Payload)
	}

	// The last outcome, retained on the action entity's state topic.
	blink := entities["pact_greenhouse_gh_1_action_blink"]
	if err := r.PublishOutcome(signedOutcome(t, 1)); err != nil {
		t.Fatal(err)
	}
	waitStats(t, r, 10*time.Second, "outcome and last outcome acknowledged", func(s Stats) bool { return s.Delivered == 2 && s.Pending == 0 })
	lastSub := subscribe(t, b.URL(), blink.StateTopic)
	last := lastSub.waitFor(10*time.Second, "the retained last outcome", func(m []received) bool { return len(m) > 0 })[0]
	o, err := wire.DecodeOutcome(last.Payload)
	if err != nil || !last.Retained || !o.OK || o.Instance != instanceName(1) || wire.VerifyOutcome(testCluster, o, pub(testNode)) != nil {
		t.Fatalf("last outcome on %s (retained %v): %s, %v", last.Topic, last.Retained, last.Payload, err)
	}

	// Every connection publishes the configurations again: clear them,
	// cut the connection, and they are back.
	clearer := subscribe(t, b.URL(), "unused/topic")
	for _, topic := range wantTopics {
		if err := await(clearer.client.Publish(topic, 1, true, []byte{})); err != nil {
			t.Fatal(err)
		}
	}
	live := subscribe(t, b.URL(), "homeassistant/#")
	p.Cut()
	live.waitFor(20*time.Second, "the configurations again after a reconnection", func(m []received) bool {
		return len(discoveryConfigs(t, m)) == len(wantTopics)
	})

	// RemoveDiscovery publishes an empty retained configuration for each.
	watch := subscribe(t, b.URL(), "homeassistant/#")
	watch.waitFor(10*time.Second, "the retained configurations", func(m []received) bool { return len(discoveryConfigs(t, m)) == len(wantTopics) })
	if err := r.RemoveDiscovery(); err != nil {
		t.Fatal(err)
	}
	watch.waitFor(10*time.Second, "four removals", func(m []received) bool {
		n := 0
		for _, x := range m {
			if len(x.Payload) == 0 && !x.Retained {
				n++
			}
		}
		return n == len(wantTopics)
	})
	// The broker sends a new subscription's retained messages before
	// anything published after it: once the marker is in, nothing retained
	// is left to come.
	after := subscribe(t, b.URL(), "homeassistant/#")
	if err := await(clearer.client.Publish("homeassistant/marker", 1, false, []byte("x"))); err != nil {
		t.Fatal(err)
	}
	msgs = after.waitFor(10*time.Second, "the marker", func(m []received) bool { return hasTopic(m, "homeassistant/marker") })
	if len(msgs) != 1 {
		t.Errorf("configurations still retained after RemoveDiscovery:%s", sprintTopics(msgs))
	}
}
