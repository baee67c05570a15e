package report

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/wire"
)

// lastError decodes the last message on errors.
func lastError(t *testing.T, m *Memory) wire.ErrorReport {
	t.Helper()
	var e wire.ErrorReport
	pubs := m.Published()
	for i := len(pubs) - 1; i >= 0; i-- {
		if pubs[i].Topic == (wire.Topics{Cluster: testCluster}).Errors() {
			if err := wire.Unmarshal(pubs[i].Payload, &e); err != nil {
				t.Fatal(err)
			}
			return e
		}
	}
	t.Fatal("nothing on errors")
	return e
}

func TestInbound_Refusals(t *testing.T) {
	m := newTestMemory(t)
	tp := wire.Topics{Cluster: testCluster}
	good := signedRequest(t, "r-1")
	cases := []struct {
		name, topic string
		payload     []byte
		want        string
		counter     func(Stats) uint64
	}{
		{"action and topic disagree", tp.Request("ventilate"), mustJSON(t, good), "published on", func(s Stats) uint64 { return s.RequestsMalformed }},
		{"another cluster's topic", wire.Topics{Cluster: "shed"}.Request("blink"), mustJSON(t, good), "not a request topic", func(s Stats) uint64 { return s.RequestsMalformed }},
		{"not a request topic", tp.Errors(), mustJSON(t, good), "not a request topic", func(s Stats) uint64 { return s.RequestsMalformed }},
		{"unsigned", tp.Request("blink"), []byte(`{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:00Z","id":"r-2","action":"blink","params":{}}`), "unsigned", func(s Stats) uint64 { return s.RequestsRefused }},
		{"oversized", tp.Request("blink"), make([]byte, wire.MaxRequestSize+1), "limit", func(s Stats) uint64 { return s.RequestsMalformed }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := c.counter(m.Stats())
			m.Inject(c.topic, c.payload)
			if got := c.counter(m.Stats()); got != before+1 {
				t.Errorf("counter %d, want %d", got, before+1)
			}
			if e := lastError(t, m); !strings.Contains(e.Error, c.want) || e.Node != testNode || e.Topic != c.topic {
				t.Errorf("error report %+v, want one about %q", e, c.want)
			}
		})
	}
	if s := m.Stats(); s.RequestsDelivered != 0 || s.RequestsReceived != uint64(len(cases)) {
		t.Errorf("stats %+v", s)
	}
}

// A full Requests channel drops (and answers) instead of blocking paho.
func TestInbound_FullQueueDrops(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cluster, cfg.Node, cfg.RequestBuffer, cfg.AllowUnsignedRequests = testCluster, testNode, 2, true
	m, err := NewMemory(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r-1", "r-2", "r-3"} {
		m.Inject(wire.Topics{Cluster: testCluster}.Request("blink"), []byte(`{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:00Z","id":"`+id+`","action":"blink","params":{}}`))
	}
	if s := m.Stats(); s.RequestsDelivered != 2 || s.RequestsDropped != 1 {
		t.Errorf("stats %+v", s)
	}
	if e := lastError(t, m); e.RequestID != "r-3" || !strings.Contains(e.Error, "queue is full") {
		t.Errorf("reply %+v", e)
	}
	in := <-m.Requests()
	if in.Request.ID != "r-1" || in.Operator != "" || !in.Received.Equal(in.Received) {
		t.Errorf("first request %+v", in)
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-m.Requests()
	if _, ok := <-m.Requests(); ok {
		t.Error("Requests not closed by Close")
	}
	m.Inject(wire.Topics{Cluster: testCluster}.Request("blink"), []byte(`{}`)) // after Close: ignored, no panic
	if err := m.PublishError("", "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("publish after Close: %v", err)
	}
	var s wire.State
	p, _ := m.Retained(wire.Topics{Cluster: testCluster}.State(testNode))
	if err := wire.Unmarshal(p, &s); err != nil || s.State != wire.StateDisconnected {
		t.Errorf("retained state after Close: %s", p)
	}
}

// The reporter refuses to publish what would break the contract.
func TestEncoder_Refuses(t *testing.T) {
	m := newTestMemory(t)
	unsigned := signedOutcome(t, 1)
	unsigned.Sig = ""
	other := signedOutcome(t, 2)
	other.Cluster = "shed"
	broken := signedOutcome(t, 3)
	broken.Instance = "i/3"
	doc := &capability.Document{Cluster: testCluster, Node: "gh-2"}
	doc.Sign(key("gh-2"))
	for name, err := range map[string]error{
		"unsigned outcome":            m.PublishOutcome(unsigned),
		"outcome of another cluster":  m.PublishOutcome(other),
		"outcome with a bad instance": m.PublishOutcome(broken),
		"another node's document":     m.PublishCapabilities(doc),
		"unsigned readings":           m.PublishReadings(&wire.Readings{Node: testNode}),
		"decision for another node":   m.PublishDecision(&wire.Decision{Node: "gh-2"}),
		"decision of another cluster": m.PublishDecision(&wire.Decision{Header: wire.Header{Cluster: "shed"}}),
		"ejection without a node":     m.PublishEjection(&wire.Ejection{}),
		"state lost by hand":          m.SetState(wire.StateLost),
	} {
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if n := len(m.Published()); n != 1 { // the birth
		t.Errorf("%d messages published, want only the birth", n)
	}
}
