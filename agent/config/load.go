package config

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/seed44533760/pact/agent/identity"
)

// ErrUnknownKind is returned by DetectKind for a file that is neither an
// agent file nor a cluster file.
var ErrUnknownKind = errors.New("neither an agent file nor a cluster file")

// Load reads the agent file at path and the cluster file it names, and
// validates both and the two together. It returns every problem of both
// files in one error (see Problems). The Agent and Cluster are returned
// whenever they could be decoded, even with problems, so a caller can say
// more about them; a nil Agent means the agent file could not be read or
// parsed at all.
func Load(path string) (*Agent, *Cluster, error) {
	a, err := LoadAgent(path)
	if a == nil {
		return nil, nil, err
	}
	problems := Problems(err)
	c, cerr := LoadCluster(a.ClusterFile)
	if cps := Problems(cerr); cerr != nil && len(cps) == 0 {
		// The cluster file could not be read: that is the agent file's
		// cluster_file key's problem.
		r := newReport(a.src)
		r.errorf("cluster_file", "%v", cerr)
		problems = append(problems, r.list...)
	} else {
		problems = append(problems, cps...)
	}
	return a, c, joinProblems(problems)
}

// LoadAgent reads and validates the agent file at path alone. Relative
// paths in it are resolved against its directory.
func LoadAgent(path string) (*Agent, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read agent file: %w", err)
	}
	return ParseAgent(path, data)
}

// ParseAgent is LoadAgent for data already read from file.
func ParseAgent(file string, data []byte) (*Agent, error) {
	a := DefaultAgent()
	src, problems, broken, fatal := decodeYAML(file, data, a)
	a.src = src
	if fatal {
		return nil, joinProblems(problems)
	}
	dir := filepath.Dir(file)
	if abs, err := filepath.Abs(file); err == nil {
		dir = filepath.Dir(abs)
	}
	a.resolvePaths(dir)
	a.ApplyDefaults()
	r := newReport(src)
	r.list = problems
	r.broken = broken
	a.validate(r)
	return a, r.err()
}

// LoadCluster reads and validates the cluster file at path.
func LoadCluster(path string) (*Cluster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read cluster file: %w", err)
	}
	return ParseCluster(path, data)
}

// ParseCluster is LoadCluster for data already read from file.
func ParseCluster(file string, data []byte) (*Cluster, error) {
	c := DefaultCluster()
	src, problems, broken, fatal := decodeYAML(file, data, c)
	c.src = src
	if fatal {
		return nil, joinProblems(problems)
	}
	c.ApplyDefaults()
	r := newReport(src)
	r.list = problems
	r.broken = broken
	c.validate(r)
	return c, r.err()
}

// Warnings returns what is legal but probably unintended in the agent
// file, the cluster file and the two together. Either may be nil. Warnings
// never stop the agent; `pact config validate` prints them.
func Warnings(a *Agent, c *Cluster) []*Problem {
	var out []*Problem
	if c != nil {
		r := newReport(c.src)
		c.warnings(r)
		out = append(out, r.list...)
	}
	if a != nil {
		r := newReport(a.src)
		a.warnings(r)
		if c != nil {
			crossWarnings(r, a, c)
		}
		out = append(out, r.list...)
	}
	sortProblems(out)
	return out
}

// crossWarnings are the checks that need both files.
func crossWarnings(r *report, a *Agent, c *Cluster) {
	if _, ok := c.Validators[a.Node]; a.Node != "" && len(c.Validators) > 0 && !ok {
		r.warnf("node", "%q is not a genesis validator: it joins as a candidate and votes only after an operator runs pact admit %s", a.Node, a.Node)
	}
	for i, in := range a.Hardware.Inputs {
		node, _, ok := strings.Cut(in.Watches, "/")
		if _, known := c.Validators[node]; ok && !known && ValidName(node) {
			r.warnf(indexPath("hardware.inputs", i)+".watches", "node %q is not a genesis validator (fine if it will be admitted)", node)
		}
	}
	if len(c.Actions) > 0 && len(a.Hardware.Outputs) > 0 {
		can := false
		for _, act := range c.Actions {
			can = can || a.CanPerform(act)
		}
		if !can {
			r.warnf("hardware.outputs", "none of these outputs satisfies the needs of any action in the cluster file (%s); check output names, kinds and zone", strings.Join(sortedKeys(c.Actions), ", "))
		}
	}
}

// CheckIdentity compares the node's identity public key with the one the
// cluster's genesis lists for it. A node whose key differs cannot sign
// anything the others accept: the agent must refuse to start. It returns
// nil when they match or the node is not a genesis validator.
func CheckIdentity(a *Agent, c *Cluster, pub ed25519.PublicKey) error {
	want, ok := c.ValidatorKey(a.Node)
	if !ok || want.Equal(pub) {
		return nil
	}
	r := newReport(a.src)
	r.errorf("key_file", "%s holds public key %s, but the cluster file lists %s for %s; use the right key file or update validators.%s",
		a.KeyFile, identity.PublicKeyString(pub), identity.PublicKeyString(want), a.Node, a.Node)
	return r.err()
}

// ProblemAt returns a problem at a key path of the agent file, located at
// the key's line, for checks made outside this package (the agent's own
// start-up checks).
func (a *Agent) ProblemAt(path, msg string) *Problem {
	return &Problem{File: a.File(), Line: a.src.lineOf(path), Path: path, Msg: msg}
}

// ProblemAt returns a problem at a key path of the cluster file.
func (c *Cluster) ProblemAt(path, msg string) *Problem {
	return &Problem{File: c.File(), Line: c.src.lineOf(path), Path: path, Msg: msg}
}

// Kind says which of the two configuration files a file is.
type Kind int

const (
	KindAgent Kind = iota + 1
	KindCluster
)

func (k Kind) String() string {
	switch k {
	case KindAgent:
		return "agent file"
	case KindCluster:
		return "cluster file"
	}
	return "unknown file"
}

// DetectKind tells an agent file (it has node: or cluster_file:) from a
// cluster file (cluster:, validators: or gossip_key:) by its top-level keys.
func DetectKind(data []byte) (Kind, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, msg := splitYAMLError(err)
		return 0, &Problem{Line: line, Msg: msg}
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return 0, ErrUnknownKind
	}
	var agent, cluster bool
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		switch m.Content[i].Value {
		case "node", "cluster_file":
			agent = true
		case "cluster", "validators", "gossip_key":
			cluster = true
		}
	}
	switch {
	case agent && !cluster:
		return KindAgent, nil
	case cluster && !agent:
		return KindCluster, nil
	}
	return 0, ErrUnknownKind
}

// Marshal encodes an Agent or Cluster as YAML with two-space indents, below
// header written as comment lines.
func Marshal(v any, header string) ([]byte, error) {
	var buf bytes.Buffer
	for line := range strings.Lines(header) {
		buf.WriteString(strings.TrimRight("# "+strings.TrimSuffix(line, "\n"), " ") + "\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return buf.Bytes(), nil
}
