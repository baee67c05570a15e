package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
)

// The demo's cluster is a testnet (testnet.go) on 127.0.0.1, written to a
// temporary directory, with timings and a ventilate action tuned so that
// everything happens within a minute.

const (
	demoClusterName = "demo"
	demoAdversary   = config.AdversaryMode("equivocate")

	// The ventilate trigger fires when the greenhouse's agreed median
	// passes demoTriggerAbove. A fresh hw/sim world starts at 24 °C and,
	// with time constant 36 s towards 32 °C, passes 27 °C about 17 s in
	// (28 °C only at about 25 s: too late for a 40-second demo once the
	// fan has run and its outcome is in).
	demoTriggerAbove = 27.0
	demoTriggerBelow = 25.0
	// demoVentilateFor is how long the fan runs: long enough to see the
	// zone cool, short enough for the outcome to arrive within the demo.
	demoVentilateFor = 8 * time.Second

	// Gossip and admin ports are picked from this range.
	demoPortLow, demoPortHigh = 20000, 60000
)

// demoTimings are the consensus timings of the demo: loopback delivers in
// microseconds, so rounds can be short and a faulty round costs little.
func demoTimings() config.Timings {
	return config.Timings{
		Tick:          50 * time.Millisecond,
		Propose:       500 * time.Millisecond,
		Prevote:       250 * time.Millisecond,
		Precommit:     250 * time.Millisecond,
		RoundIncrease: 250 * time.Millisecond,
		Rebroadcast:   500 * time.Millisecond,
		Status:        2 * time.Second,
	}
}

// demoActions is the testnet's catalogue with ventilate made demo-sized:
// a lower trigger and a short run of the fan.
func demoActions() map[string]config.Action {
	actions := testnetActions()
	v := actions["ventilate"]
	above, below := demoTriggerAbove, demoTriggerBelow
	trigger := *v.Trigger
	trigger.Above, trigger.Below = &above, &below
	v.Trigger = &trigger
	v.Drive.Duration = demoVentilateFor
	v.Params = map[string]config.Param{"duration": {Min: time.Second, Max: 45 * time.Second, Default: demoVentilateFor}}
	v.Deadline = 20 * time.Second
	actions["ventilate"] = v
	return actions
}

// demoCluster is a written demo cluster, loaded back from its files.
type demoCluster struct {
	dir      string
	cluster  *config.Cluster
	agents   []*config.Agent
	operator ed25519.PrivateKey
	basePort int
}

// writeDemoCluster writes a demo cluster of nodes (the last byzantine of
// them equivocating) reporting to the broker on mqttPort, to dir, and
// loads it back the way `pact agent` would.
func writeDemoCluster(dir string, nodes, byzantine, mqttPort int) (*demoCluster, error) {
	base, err := pickDemoBasePort(nodes)
	if err != nil {
		return nil, err
	}
	spec := testnetSpec{
		nodes: nodes, byzantine: byzantine, adversary: demoAdversary,
		mqtt:     "tcp://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(mqttPort)),
		bind:     "127.0.0.1",
		basePort: base,
		cluster:  demoClusterName,
	}
	if msg := spec.check(); msg != "" {
		return nil, errors.New(msg)
	}
	tn, err := buildTestnet(spec)
	if err != nil {
		return nil, err
	}
	tn.cluster.Timings = demoTimings()
	tn.cluster.Actions = demoActions()
	if err := tn.validate(); err != nil {
		return nil, fmt.Errorf("bug: the demo cluster does not validate: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if err := tn.write(dir); err != nil {
		return nil, err
	}
	dc := &demoCluster{dir: dir, basePort: base}
	for i := 1; i <= nodes; i++ {
		a, c, err := config.Load(nodeFile(dir, i))
		if err != nil {
			return nil, fmt.Errorf("bug: %s does not load: %s", nodeFile(dir, i), strings.ReplaceAll(err.Error(), "\n", "; "))
		}
		dc.agents = append(dc.agents, a)
		dc.cluster = c
	}
	if dc.operator, err = identity.Load(filepath.Join(dir, "operator.key")); err != nil {
		return nil, fmt.Errorf("operator key: %w", err)
	}
	return dc, nil
}

// cast is who is who, for the narrator.
func (dc *demoCluster) cast() demoCast {
	c := demoCast{Cluster: dc.cluster.Name, Adversaries: map[string]string{}, Zones: map[string]string{}, Actions: dc.cluster.Actions}
	for _, a := range dc.agents {
		c.Nodes = append(c.Nodes, a.Node)
		c.Zones[a.Node] = a.Zone
		if a.Adversary != nil {
			c.Adversaries[a.Node] = string(a.Adversary.Mode)
		}
	}
	return c
}

// pickDemoBasePort finds a base port whose gossip ports (TCP and UDP) and
// admin ports (TCP) on 127.0.0.1 are all free right now, trying random
// bases so that two demos on one machine do not fight over the same one.
func pickDemoBasePort(nodes int) (int, error) {
	span := demoPortHigh - demoPortLow - adminPortOffset - nodes
	if span <= 0 {
		return 0, fmt.Errorf("%d nodes do not fit in the demo's port range", nodes)
	}
	for try := 0; try < 50; try++ {
		base := demoPortLow + rand.IntN(span)
		if demoPortsFree(base, nodes) {
			return base, nil
		}
	}
	return 0, fmt.Errorf("found no %d free ports on 127.0.0.1 between %d and %d", 2*nodes, demoPortLow, demoPortHigh)
}

func demoPortsFree(base, nodes int) bool {
	var closers []func() error
	defer func() {
		for _, c := range closers {
			_ = c()
		}
	}()
	listen := func(network string, port int) bool {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if network == "udp" {
			c, err := net.ListenPacket("udp", addr)
			if err != nil {
				return false
			}
			closers = append(closers, c.Close)
			return true
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		closers = append(closers, l.Close)
		return true
	}
	for i := 0; i < nodes; i++ {
		if !listen("tcp", base+i) || !listen("udp", base+i) || !listen("tcp", base+adminPortOffset+i) {
			return false
		}
	}
	return true
}
