package agent

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// retainedTopics lists the topics the broker holds a retained message for
// under filter.
func (b *testBroker) retainedTopics(filter string) []string {
	var out []string
	for _, pk := range b.server.Topics.Messages(filter) {
		out = append(out, pk.TopicName)
	}
	slices.Sort(out)
	return out
}

func (b *testBroker) retained(topic string) []byte {
	for _, pk := range b.server.Topics.Messages(topic) {
		return pk.Payload
	}
	return nil
}

// An agent with mqtt.home_assistant on announces its state, its sensor and
// the catalogue actions it can perform; the last outcome of ventilate (its
// trigger fires at once) is retained where that entity reads it; a reload
// that turns discovery off removes the entities from the broker.
func TestHomeAssistant_AnnouncedAndRemovedByReload(t *testing.T) {
	broker := startTestBroker(t)
	tc := newTestCluster(t, "127.0.61.", 1, actionCatalogue)
	path := tc.addNode(t, 1, "../cluster.yaml")
	original := mustRead(t, path)
	write := func(ha string) {
		t.Helper()
		content := strings.Replace(original, "log: {level: debug}\n",
			"log: {level: debug}\nmqtt:\n  url: "+broker.url()+"\n  home_assistant: {enabled: "+ha+"}\n", 1)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("true")
	r := startAgent(t, path)

	want := []string{
		"homeassistant/sensor/pact_itest_node_1_action_blink/config",
		"homeassistant/sensor/pact_itest_node_1_action_ventilate/config",
		"homeassistant/sensor/pact_itest_node_1_sensor_temp/config",
		"homeassistant/sensor/pact_itest_node_1_state/config",
	}
	eventually(t, 10*time.Second, "the four configurations retained", func() (bool, string) {
		got := broker.retainedTopics("homeassistant/#")
		return slices.Equal(got, want), strings.Join(got, " ")
	})
	var ent struct {
		StateTopic string `json:"state_topic"`
		Device     struct {
			SWVersion string `json:"sw_version"`
		} `json:"device"`
	}
	if err := json.Unmarshal(broker.retained(want[1]), &ent); err != nil {
		t.Fatal(err)
	}
	if ent.StateTopic != (wire.Topics{Cluster: "itest"}).LastOutcome("node-1", "ventilate") || ent.Device.SWVersion == "" {
		t.Fatalf("ventilate's entity: %+v", ent)
	}
	eventually(t, 20*time.Second, "ventilate's last outcome retained", func() (bool, string) {
		p := broker.retained(ent.StateTopic)
		if p == nil {
			return false, "none"
		}
		o, err := wire.DecodeOutcome(p)
		return err == nil && o.Action == "ventilate" && o.Performer == "node-1", string(p)
	})

	write("false")
	res, err := r.a.Reload(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Applied, func(c config.Change) bool { return c.Key == "mqtt.home_assistant.enabled" }) {
		t.Fatalf("reload applied %v", res.Applied)
	}
	eventually(t, 10*time.Second, "the configurations removed", func() (bool, string) {
		got := broker.retainedTopics("homeassistant/#")
		return len(got) == 0, strings.Join(got, " ")
	})
}
