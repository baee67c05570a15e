package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/internal/testbroker"
)

// mqttLog records every message under pact/<cluster>/.
type mqttLog struct {
	mu   sync.Mutex
	msgs []mqttMsg
}

type mqttMsg struct {
	topic   wire.Topic
	payload []byte
}

func subscribeAll(t *testing.T, url, cluster string) *mqttLog {
	t.Helper()
	tool := testPublisher(t, url)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	l := &mqttLog{}
	err := tool.Subscribe(ctx, wire.Topics{Cluster: cluster}.All(), 1, func(topic string, payload []byte, _ bool) {
		tp, err := wire.ParseTopic(topic)
		if err != nil {
			return
		}
		l.mu.Lock()
		l.msgs = append(l.msgs, mqttMsg{tp, append([]byte(nil), payload...)})
		l.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// outcomes are the distinct outcomes seen for instance, by performer.
func (l *mqttLog) outcomes(t *testing.T, instance string) map[string]*wire.Outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]*wire.Outcome{}
	for _, m := range l.msgs {
		if m.topic.Kind != wire.KindOutcome || m.topic.Instance != instance {
			continue
		}
		o, err := wire.DecodeOutcome(m.payload)
		if err != nil {
			t.Fatalf("malformed outcome on %s: %v", m.topic, err)
		}
		out[o.Performer] = o
	}
	return out
}

// performers maps each node that published a decision about instance to
// the performer its latest assign or reassign names.
func (l *mqttLog) performers(t *testing.T, instance string) map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for _, m := range l.msgs {
		if m.topic.Kind != wire.KindDecisions {
			continue
		}
		var d wire.Decision
		if err := wire.Unmarshal(m.payload, &d); err != nil {
			t.Fatalf("malformed decision on %s: %v", m.topic, err)
		}
		for _, e := range d.Entries {
			if e.Instance == instance && (e.Type == wire.EntryAssign || e.Type == wire.EntryReassign) {
				out[d.Node] = e.Performer
			}
		}
	}
	return out
}

// End to end against a real mosquitto, as an operator would run it: five
// `pact agent` processes from `pact testnet`; `pact request --wait` gets
// one outcome per request, from the performer every node's decision names;
// an action that finishes while the broker is down is delivered once it is
// back; an agent killed with -9 mid-action does not run it again after its
// restart, and the cluster has it done elsewhere.
func TestProcesses_ActionsOverMQTT(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five agent processes and a broker")
	}
	// The fleet's broker configuration without persistence: a restart loses
	// what the broker held, so what arrives after it came from the agents'
	// outboxes.
	b := testbroker.Start(t, testbroker.Options{NoPersistence: true})
	dir := t.TempDir()
	if _, errOut, code := pactRun(t, "testnet", "--nodes", "5", "--out", dir, "--bind", "127.0.6.1", "--base-port", "28946", "--mqtt", b.URL()); code != 0 {
		t.Fatalf("testnet: %s", errOut)
	}
	sub := subscribeAll(t, b.URL(), "testnet")
	procs := map[string]*agentProc{}
	names := []string{"node-1", "node-2", "node-3", "node-4", "node-5"}
	for _, name := range names {
		procs[name] = startProc(t, dir, name)
	}
	waitFor(t, 60*time.Second, "capabilities agreed", func() (bool, string) {
		for _, name := range names {
			s, ok := procs[name].status(t)
			if !ok || len(s.Capabilities) != 5 {
				return false, fmt.Sprintf("%s: %d documents", name, len(s.Capabilities))
			}
		}
		return true, ""
	})
	node1 := filepath.Join(dir, "node-1", "pact.yaml")

	// 1. Requests with --wait: one outcome each, from the named performer.
	for i := range 3 {
		id := fmt.Sprintf("r-wait-%d", i)
		out, errOut, code := pactRun(t, "request", "--config", node1, "--id", id, "--param", "duration=200ms", "--wait", "30s", "blink")
		if code != 0 {
			t.Fatalf("pact request %s: exit %d\n%s%s", id, code, out, errOut)
		}
		instance := agreed.InstanceID("testnet", id)
		if !strings.Contains(out, instance) || !strings.Contains(out, "ok") {
			t.Errorf("pact request printed %q", out)
		}
		checkOne(t, sub, instance, names)
	}

	// 2. The broker goes away while an action runs; its outcome arrives
	// when the broker is back.
	instance := agreed.InstanceID("testnet", "r-outage")
	if out, errOut, code := pactRun(t, "request", "--config", node1, "--id", "r-outage", "--param", "duration=3s", "blink"); code != 0 {
		t.Fatalf("pact request: exit %d\n%s%s", code, out, errOut)
	}
	waitFor(t, 20*time.Second, "r-outage decided", func() (bool, string) {
		p := sub.performers(t, instance)
		return len(p) > 0, fmt.Sprint(p)
	})
	b.Stop()
	time.Sleep(5 * time.Second) // the blink ends while the broker is down
	if len(sub.outcomes(t, instance)) != 0 {
		t.Fatal("an outcome arrived although the broker was down")
	}
	b.Start()
	waitFor(t, 60*time.Second, "the outcome held back during the outage", func() (bool, string) {
		o := sub.outcomes(t, instance)
		return len(o) == 1, fmt.Sprint(o)
	})
	checkOne(t, sub, instance, names)

	// 3. The performer dies with -9 in the middle of a 4 s blink.
	instance = agreed.InstanceID("testnet", "r-kill")
	if out, errOut, code := pactRun(t, "request", "--config", node1, "--id", "r-kill", "--param", "duration=4s", "blink"); code != 0 {
		t.Fatalf("pact request: exit %d\n%s%s", code, out, errOut)
	}
	var victim string
	waitFor(t, 20*time.Second, "r-kill decided", func() (bool, string) {
		p := sub.performers(t, instance)
		victim = p["node-1"]
		return victim != "", fmt.Sprint(p)
	})
	time.Sleep(time.Second)
	procs[victim].kill()
	procs[victim] = startProc(t, dir, victim)
	waitFor(t, 60*time.Second, "r-kill done by another node", func() (bool, string) {
		o := sub.outcomes(t, instance)
		for who, x := range o {
			if who != victim && x.OK {
				return true, ""
			}
		}
		return false, fmt.Sprint(o)
	})
	time.Sleep(2 * time.Second)
	if o := sub.outcomes(t, instance); len(o) != 1 {
		t.Errorf("r-kill: outcomes from %v, want exactly one", o)
	}
	log, _ := os.ReadFile(filepath.Join(dir, victim+".log"))
	if n := strings.Count(string(log), "msg=performing node="+victim+" action=blink instance="+instance); n != 1 {
		t.Errorf("%s started r-kill %d times, want once (it must not run again after the restart)", victim, n)
	}
	if !strings.Contains(string(log), "interrupted") {
		t.Errorf("%s's log does not report the interrupted execution", victim)
	}
}

// checkOne asserts that instance has exactly one outcome on the broker, an
// ok one, from the performer that every node's decision names.
func checkOne(t *testing.T, sub *mqttLog, instance string, nodes []string) {
	t.Helper()
	var performers map[string]string
	waitFor(t, 20*time.Second, "every node's decision about "+instance, func() (bool, string) {
		performers = sub.performers(t, instance)
		return len(performers) == len(nodes), fmt.Sprint(performers)
	})
	want := performers[nodes[0]]
	for node, p := range performers {
		if p != want {
			t.Errorf("%s: %s says %s performs it, %s says %s", instance, node, p, nodes[0], want)
		}
	}
	o := sub.outcomes(t, instance)
	if len(o) != 1 || o[want] == nil || !o[want].OK {
		t.Errorf("%s: outcomes %v, want one ok outcome from %s", instance, o, want)
	}
}
