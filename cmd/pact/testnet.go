package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/consensus/quorum"
)

func init() {
	register(command{
		name:    "testnet",
		summary: "write a ready cluster of N agents that run on this machine",
		run:     runTestnet,
	})
}

// Port layout of a testnet. Node i (from 1) gossips on basePort+i-1 and
// serves its admin API on basePort+adminPortOffset+i-1. The offset keeps the
// two ranges apart for up to maxTestnetNodes nodes, and keeps a node's two
// ports easy to pair by eye (7946 ↔ 8946).
const (
	adminPortOffset = 1000
	maxTestnetNodes = adminPortOffset
	// seedCount is how many of the first nodes every node is seeded with:
	// enough that one of them being down (or adversarial and silent) does
	// not strand a starting node.
	seedCount = 3
	// testnetZone is the one zone of a testnet, so the ventilate trigger's
	// median is taken over every node's reading.
	testnetZone = "greenhouse"
)

// testnetSpec is what the flags asked for.
type testnetSpec struct {
	nodes, byzantine int
	adversary        config.AdversaryMode
	mqtt             string
	bind             string
	basePort         int
	cluster          string
}

// testnet is a cluster built in memory, keys included, before anything is
// written.
type testnet struct {
	spec     testnetSpec
	cluster  *config.Cluster
	agents   []*config.Agent
	keys     []ed25519.PrivateKey
	operator ed25519.PrivateKey
}

func runTestnet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("testnet", "pact testnet --nodes N --out DIR [--byzantine K] [--adversary MODE] [--mqtt URL] [--bind IP] [--base-port P] [--cluster NAME] [--force]")
	var spec testnetSpec
	fs.IntVar(&spec.nodes, "nodes", 4, "number of nodes, all genesis validators")
	out := fs.String("out", "", "directory to write the cluster to (required)")
	fs.IntVar(&spec.byzantine, "byzantine", 0, "how many of the last nodes misbehave on purpose")
	adversary := fs.String("adversary", "mixed", "what the byzantine nodes do: "+strings.Join(adversaryNames(), ", "))
	fs.StringVar(&spec.mqtt, "mqtt", "", "broker URL every node reports to, e.g. tcp://127.0.0.1:1883 (default: MQTT off)")
	fs.StringVar(&spec.bind, "bind", "127.0.0.1", "IP address every node binds")
	fs.IntVar(&spec.basePort, "base-port", 7946, fmt.Sprintf("gossip port of node-1; node-i gossips on base-port+i-1 and serves its admin API on base-port+%d+i-1", adminPortOffset))
	fs.StringVar(&spec.cluster, "cluster", "testnet", "cluster name")
	force := fs.Bool("force", false, "replace a testnet already in --out (removes its cluster.yaml, operator.key and node-*/ directories)")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	spec.adversary = config.AdversaryMode(*adversary)
	if fs.NArg() > 0 {
		return usageError(stderr, "testnet", "takes no arguments, got %q", fs.Arg(0))
	}
	if *out == "" {
		return usageError(stderr, "testnet", "--out DIR is required")
	}
	if msg := spec.check(); msg != "" {
		return usageError(stderr, "testnet", "%s", msg)
	}

	tn, err := buildTestnet(spec)
	if err != nil {
		fmt.Fprintf(stderr, "pact testnet: %v\n", err)
		return exitFailure
	}
	// Check the files before writing any, so a bad --mqtt or --cluster
	// costs nothing: every problem comes from a flag.
	if err := tn.validate(); err != nil {
		return usageError(stderr, "testnet", "the flags make an invalid configuration: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if ctx.Err() != nil {
		return exitFailure
	}
	dir, err := filepath.Abs(*out)
	if err != nil {
		fmt.Fprintf(stderr, "pact testnet: %v\n", err)
		return exitFailure
	}
	if code := prepareTestnetDir(dir, *force, stderr); code != exitOK {
		return code
	}
	if err := tn.write(dir); err != nil {
		fmt.Fprintf(stderr, "pact testnet: %v\n", err)
		return exitFailure
	}
	// Every file written must pass `pact config validate`; if one does not,
	// that is a bug here, not the user's.
	for i := range tn.agents {
		if _, _, err := config.Load(nodeFile(dir, i+1)); err != nil {
			fmt.Fprintf(stderr, "pact testnet: bug: the files written do not validate: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
			return exitFailure
		}
	}
	tn.summarize(stdout, dir)
	if f := quorum.Faulty(spec.nodes); spec.byzantine > f {
		fmt.Fprintf(stderr, "pact testnet: note: %d byzantine nodes exceed the f = %d that %d validators tolerate; safety is not guaranteed\n", spec.byzantine, f, spec.nodes)
	}
	return exitOK
}

func adversaryNames() []string {
	out := make([]string, len(config.AdversaryModes))
	for i, m := range config.AdversaryModes {
		out[i] = string(m)
	}
	return out
}

// check returns what is wrong with the flags, or "".
func (s testnetSpec) check() string {
	switch {
	case s.nodes < 1 || s.nodes > maxTestnetNodes:
		return fmt.Sprintf("--nodes must be from 1 to %d, got %d", maxTestnetNodes, s.nodes)
	case s.byzantine < 0 || s.byzantine >= s.nodes:
		return fmt.Sprintf("--byzantine must be from 0 to --nodes-1 (%d), got %d", s.nodes-1, s.byzantine)
	case !config.ValidName(s.cluster):
		return fmt.Sprintf("--cluster %q is not a valid name: use lower-case letters, digits and hyphens", s.cluster)
	case net.ParseIP(s.bind) == nil:
		return fmt.Sprintf("--bind %q is not an IP address", s.bind)
	case s.basePort < 1 || s.basePort+adminPortOffset+s.nodes-1 > 65535:
		return fmt.Sprintf("--base-port %d leaves no room for %d nodes: gossip uses base-port..base-port+%d and the admin API base-port+%d..base-port+%d, all at most 65535",
			s.basePort, s.nodes, s.nodes-1, adminPortOffset, adminPortOffset+s.nodes-1)
	}
	for _, m := range config.AdversaryModes {
		if m == s.adversary {
			return ""
		}
	}
	return fmt.Sprintf("--adversary %q is not one of %s", s.adversary, strings.Join(adversaryNames(), ", "))
}

func nodeName(i int) string { return "node-" + strconv.Itoa(i) }

func nodeFile(dir string, i int) string { return filepath.Join(dir, nodeName(i), "pact.yaml") }

// hasFan says which nodes get a fan relay: every other one, from node-1.
func hasFan(i int) bool { return i%2 == 1 }

// buildTestnet makes the cluster and agent files and their keys in memory.
func buildTestnet(spec testnetSpec) (*testnet, error) {
	tn := &testnet{spec: spec}
	newKey := func() (ed25519.PrivateKey, error) {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	gossipKey := make([]byte, 32)
	if _, err := rand.Read(gossipKey); err != nil {
		return nil, fmt.Errorf("generate gossip key: %w", err)
	}
	var err error
	if tn.operator, err = newKey(); err != nil {
		return nil, fmt.Errorf("generate operator key: %w", err)
	}

	c := config.DefaultCluster()
	c.Name = spec.cluster
	c.GossipKey = base64.StdEncoding.EncodeToString(gossipKey)
	c.Validators = map[string]string{}
	c.Operators = map[string]string{"operator": identity.Public(tn.operator)}
	c.Gossip.Profile = config.GossipLAN // loopback: no Wi-Fi stalls to forgive
	c.Actions = testnetActions()
	tn.cluster = c

	host := spec.bind
	if ip := net.ParseIP(host); ip.IsUnspecified() {
		host = "127.0.0.1" // what peers on this machine dial
	}
	addr := func(port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
	for i := 1; i <= spec.nodes; i++ {
		key, err := newKey()
		if err != nil {
			return nil, fmt.Errorf("generate key of %s: %w", nodeName(i), err)
		}
		tn.keys = append(tn.keys, key)
		c.Validators[nodeName(i)] = identity.Public(key)

		a := config.DefaultAgent()
		a.Node = nodeName(i)
		a.ClusterFile = filepath.Join("..", "cluster.yaml")
		a.DataDir = "data"
		a.KeyFile = config.IdentityFileName
		a.Bind = net.JoinHostPort(spec.bind, strconv.Itoa(spec.basePort+i-1))
		a.Admin = net.JoinHostPort("127.0.0.1", strconv.Itoa(spec.basePort+adminPortOffset+i-1))
		for s := 1; s <= min(seedCount, spec.nodes); s++ {
			if s != i {
				a.Seeds = append(a.Seeds, addr(spec.basePort+s-1))
			}
		}
		a.Zone = testnetZone
		a.MQTT.URL = spec.mqtt
		a.Hardware = testnetHardware(i, spec.nodes)
		if i > spec.nodes-spec.byzantine {
			a.Adversary = &config.Adversary{Mode: spec.adversary}
		}
		tn.agents = append(tn.agents, a)
	}
	return tn, nil
}

// testnetHardware is node i's simulated hardware: an LED everywhere, a fan
// relay on every other node, a temperature sensor each, and witness inputs
// wired to the LEDs of the next f+1 nodes, so every blink has f+1
// witnesses: enough for their accusations to eject a performer that lies
// about it, even if f of them lie too.
func testnetHardware(i, nodes int) config.Hardware {
	h := config.Hardware{
		Driver: config.DriverSim,
		Sensors: []config.Sensor{
			{Name: "temp", Kind: config.SensorTemperature, Driver: config.SensorSim, Unit: "°C"},
		},
		Outputs: []config.Output{
			{Name: "led", Kind: config.OutputLED, Pin: "GPIO17", Active: config.High, Safe: config.SafeOff},
		},
	}
	if hasFan(i) {
		h.Outputs = append(h.Outputs, config.Output{
			Name: "fan", Kind: config.OutputRelay, Pin: "GPIO27", Active: config.High, Safe: config.SafeOff,
			MaxOn: 10 * time.Minute, MinOff: 5 * time.Second,
		})
	}
	witnesses := min((nodes-1)/3+1, nodes-1, len(witnessPins))
	for k := 1; k <= witnesses; k++ {
		name := "witness"
		if k > 1 {
			name = fmt.Sprintf("witness%d", k)
		}
		h.Inputs = append(h.Inputs, config.Input{
			Name: name, Kind: config.InputWitness, Pin: witnessPins[k-1], Pull: "down", Edge: "both",
			Watches: nodeName((i+k-1)%nodes+1) + "/led",
		})
	}
	return h
}

// witnessPins are the GPIOs of a testnet node's witness inputs.
var witnessPins = []string{"GPIO22", "GPIO23", "GPIO24", "GPIO25", "GPIO5", "GPIO6"}

// testnetActions is the catalogue the contract promises: blink on every
// node's LED, ventilate on a fan relay when the zone's agreed temperature
// median passes 28 (re-armed below 26).
func testnetActions() map[string]config.Action {
	above, below := 28.0, 26.0
	return map[string]config.Action{
		"blink": {
			Needs:    config.Needs{Output: "led", OutputKind: config.OutputLED},
			Drive:    config.Drive{Level: config.High, Duration: time.Second},
			Params:   map[string]config.Param{"duration": {Min: 100 * time.Millisecond, Max: 5 * time.Second, Default: time.Second}},
			Deadline: 10 * time.Second,
			Verify:   []config.VerifyKind{config.VerifyReadback, config.VerifyWitness},
		},
		"ventilate": {
			Needs:    config.Needs{Output: "fan", OutputKind: config.OutputRelay, Zone: testnetZone},
			Drive:    config.Drive{Level: config.High, Duration: 30 * time.Second},
			Params:   map[string]config.Param{"duration": {Min: 5 * time.Second, Max: 45 * time.Second, Default: 30 * time.Second}},
			Deadline: time.Minute,
			Cooldown: time.Minute,
			Verify:   []config.VerifyKind{config.VerifyReadback, config.VerifySensor},
			Trigger:  &config.Trigger{SensorKind: config.SensorTemperature, Zone: testnetZone, Above: &above, Below: &below},
		},
	}
}

// validate checks the in-memory files.
func (tn *testnet) validate() error {
	errs := []error{tn.cluster.Validate()}
	for _, a := range tn.agents {
		errs = append(errs, a.Validate())
	}
	return errors.Join(errs...)
}

var nodeDirRE = regexp.MustCompile(`^node-[0-9]+$`)

// prepareTestnetDir makes sure dir can take a new testnet: it must be new or
// empty, unless force, which removes the files of a previous testnet and
// nothing else.
func prepareTestnetDir(dir string, force bool, stderr io.Writer) int {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "pact testnet: %v\n", err)
		return exitFailure
	case len(entries) == 0:
		return exitOK
	case !force:
		return usageError(stderr, "testnet", "%s exists and is not empty; pass --force to replace the testnet in it, or choose another --out", dir)
	}
	for _, e := range entries {
		name := e.Name()
		if name == "cluster.yaml" || name == "operator.key" || (e.IsDir() && nodeDirRE.MatchString(name)) {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				fmt.Fprintf(stderr, "pact testnet: remove the old testnet: %v\n", err)
				return exitFailure
			}
		}
	}
	return exitOK
}

// write puts the testnet's files under dir.
func (tn *testnet) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	n := tn.spec.nodes
	header := fmt.Sprintf("Cluster file of a %d-node test cluster, written by pact testnet.\n"+
		"Every node reads this same file. configs/cluster.yaml explains every key.\n", n)
	if err := writeYAML(filepath.Join(dir, "cluster.yaml"), tn.cluster, header); err != nil {
		return err
	}
	if err := identity.Save(filepath.Join(dir, "operator.key"), tn.operator); err != nil {
		return fmt.Errorf("write operator key: %w", err)
	}
	for i, a := range tn.agents {
		file := nodeFile(dir, i+1)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := identity.Save(filepath.Join(filepath.Dir(file), a.KeyFile), tn.keys[i]); err != nil {
			return fmt.Errorf("write key of %s: %w", a.Node, err)
		}
		header := fmt.Sprintf("Agent file of %s, written by pact testnet. Relative paths are resolved\n"+
			"against this file's directory. configs/pact.yaml explains every key.\n"+
			"Start it with: pact agent --config %s\n", a.Node, file)
		if err := writeYAML(file, a, header); err != nil {
			return err
		}
	}
	return nil
}

func writeYAML(path string, v any, header string) error {
	data, err := config.Marshal(v, header)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// summarize tells the user what was written and how to start it.
func (tn *testnet) summarize(w io.Writer, dir string) {
	s := tn.spec
	n := s.nodes
	span := func(first int) string {
		if n == 1 {
			return strconv.Itoa(first)
		}
		return fmt.Sprintf("%d-%d", first, first+n-1)
	}
	var fans, byz []string
	for i := 1; i <= n; i++ {
		if hasFan(i) {
			fans = append(fans, nodeName(i))
		}
		if tn.agents[i-1].Adversary != nil {
			byz = append(byz, nodeName(i))
		}
	}
	fmt.Fprintf(w, "wrote a %d-node cluster %q to %s\n", n, s.cluster, dir)
	fmt.Fprintf(w, "  cluster.yaml        genesis validators node-1..%s (tolerates f = %d), actions blink and ventilate\n", nodeName(n), quorum.Faulty(n))
	fmt.Fprintf(w, "  operator.key        the operator key that signs requests\n")
	fmt.Fprintf(w, "  node-N/pact.yaml    gossip on %s port %s, admin API on 127.0.0.1 port %s\n", s.bind, span(s.basePort), span(s.basePort+adminPortOffset))
	fmt.Fprintf(w, "  node-N/identity.key each node's key; its state goes to node-N/data\n")
	fmt.Fprintf(w, "  hardware            simulated: led on every node, fan relay on %s, a temperature sensor each, zone %s\n", strings.Join(fans, ", "), testnetZone)
	if len(byz) > 0 {
		fmt.Fprintf(w, "  adversaries         %s (%s)\n", strings.Join(byz, ", "), s.adversary)
	}
	if s.mqtt != "" {
		fmt.Fprintf(w, "  mqtt                %s\n", s.mqtt)
	} else {
		fmt.Fprintf(w, "  mqtt                off (pass --mqtt tcp://127.0.0.1:1883 to report to a broker)\n")
	}
	fmt.Fprintf(w, "start each node, e.g. in its own terminal:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "  pact agent --config %s\n", nodeFile(dir, i))
	}
}
