package wire

import (
	"errors"
	"testing"
)

func TestTopics_Contract(t *testing.T) {
	tp := Topics{"greenhouse"}
	for got, want := range map[string]string{
		tp.State("gh-1"):                "pact/greenhouse/nodes/gh-1/state",
		tp.Capabilities("gh-1"):         "pact/greenhouse/nodes/gh-1/capabilities",
		tp.Readings("gh-1"):             "pact/greenhouse/nodes/gh-1/readings",
		tp.Observations("gh-1"):         "pact/greenhouse/nodes/gh-1/observations",
		tp.Decisions("gh-1"):            "pact/greenhouse/nodes/gh-1/decisions",
		tp.Outcome("blink", "i-42.3"):   "pact/greenhouse/outcomes/blink/i-42.3",
		tp.LastOutcome("gh-1", "blink"): "pact/greenhouse/nodes/gh-1/last/blink",
		tp.Ejection("gh-4"):             "pact/greenhouse/ejections/gh-4",
		tp.Request("blink"):             "pact/greenhouse/requests/blink",
		tp.Errors():                     "pact/greenhouse/errors",
		tp.Requests():                   "pact/greenhouse/requests/+",
		tp.All():                        "pact/greenhouse/#",
	} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestParseTopic_RoundTrip(t *testing.T) {
	for _, p := range []Topic{
		{Cluster: "greenhouse", Kind: KindState, Node: "gh-1"},
		{Cluster: "greenhouse", Kind: KindCapabilities, Node: "gh-1"},
		{Cluster: "greenhouse", Kind: KindReadings, Node: "gh-1"},
		{Cluster: "greenhouse", Kind: KindObservations, Node: "gh-1"},
		{Cluster: "greenhouse", Kind: KindDecisions, Node: "gh-1"},
		{Cluster: "greenhouse", Kind: KindOutcome, Action: "blink", Instance: "i-1"},
		{Cluster: "greenhouse", Kind: KindLastOutcome, Node: "gh-1", Action: "blink"},
		{Cluster: "greenhouse", Kind: KindEjection, Node: "gh-4"},
		{Cluster: "greenhouse", Kind: KindRequest, Action: "ventilate"},
		{Cluster: "greenhouse", Kind: KindErrors},
	} {
		got, err := ParseTopic(p.String())
		if err != nil || got != p {
			t.Errorf("ParseTopic(%s) = %+v, %v", p, got, err)
		}
	}
}

func TestParseTopic_Refuses(t *testing.T) {
	for _, topic := range []string{
		"", "pact", "pact/greenhouse", "other/greenhouse/errors", "pact/Greenhouse/errors",
		"pact/greenhouse/nodes/gh-1", "pact/greenhouse/nodes/gh-1/status", "pact/greenhouse/nodes/GH 1/state",
		"pact/greenhouse/outcomes/blink", "pact/greenhouse/outcomes/blink/i 1", "pact/greenhouse/requests/blink/x",
		"pact/greenhouse/requests/+", "pact/greenhouse/errors/x", "pact/greenhouse/ejections/",
		"pact/greenhouse/nodes/gh-1/last", "pact/greenhouse/nodes/gh-1/last/Blink", "pact/greenhouse/nodes/gh-1/last/blink/x",
		"pact/greenhouse/nodes/gh-1/other/blink",
	} {
		if _, err := ParseTopic(topic); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseTopic(%q) = %v, want ErrMalformed", topic, err)
		}
	}
}

func TestKind_RetainedAndDurable(t *testing.T) {
	for k, want := range map[Kind][2]bool{
		KindState: {true, false}, KindCapabilities: {true, false}, KindReadings: {false, false},
		KindDecisions: {false, true}, KindOutcome: {true, true}, KindLastOutcome: {true, true}, KindEjection: {true, true},
		KindRequest: {false, false}, KindErrors: {false, false},
	} {
		if k.Retained() != want[0] || k.Durable() != want[1] {
			t.Errorf("%s: retained %v durable %v, want %v", k, k.Retained(), k.Durable(), want)
		}
	}
}
