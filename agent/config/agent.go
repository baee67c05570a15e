package config

import (
	"path/filepath"
	"strings"
)

// Agent is the agent file (/etc/pact/pact.yaml): one node's settings. After
// Load, every relative path in it has been resolved against the agent
// file's directory and every default is filled in.
type Agent struct {
	// Node is this node's name; it must match the cluster file's validators
	// entry holding this node's public key (or the node joins as a
	// candidate awaiting `pact admit`). Required.
	Node string `yaml:"node"`

	// ClusterFile is the cluster file's path. Default cluster.yaml next to
	// the agent file.
	ClusterFile string `yaml:"cluster_file"`

	// DataDir holds the identity key and the database. Default
	// /var/lib/pact.
	DataDir string `yaml:"data_dir"`

	// KeyFile is the Ed25519 identity key, created on first start (mode
	// 0600). Default <data_dir>/identity.key.
	KeyFile string `yaml:"key_file,omitempty"`

	// Bind is the memberlist address (TCP and UDP). Default 0.0.0.0:7946.
	Bind string `yaml:"bind"`

	// Advertise is the address other nodes dial, when it is not Bind's
	// (behind NAT, or Bind is 0.0.0.0 on a multi-homed host). Optional.
	Advertise string `yaml:"advertise,omitempty"`

	// Seeds are host:port addresses of nodes to join at start. Knowing one
	// live node is enough; list a few.
	Seeds []string `yaml:"seeds,omitempty"`

	// MDNS also finds peers by multicast DNS on the local link. Default false.
	MDNS bool `yaml:"mdns"`

	// Admin is where the local admin API listens (`pact status`): host:port,
	// or unix:/path for a socket. Default 127.0.0.1:7950.
	Admin string `yaml:"admin"`

	// Zone is where the node is ("greenhouse", "shed"); actions and
	// triggers can be limited to a zone. Optional.
	Zone string `yaml:"zone,omitempty"`

	// Constraints limit what the node is asked to do.
	Constraints Constraints `yaml:"constraints"`

	// MQTT is the broker the node reports to. Disabled when URL is empty.
	MQTT MQTT `yaml:"mqtt"`

	// Hardware is what the node drives and reads.
	Hardware Hardware `yaml:"hardware"`

	// Adversary makes the node misbehave on purpose, for tests and demos.
	// The agent logs a loud warning. Optional.
	Adversary *Adversary `yaml:"adversary,omitempty"`

	// Log sets the agent's logging.
	Log Log `yaml:"log"`

	// KeepHeights is how many of the most recent decided heights (blocks
	// with their commit certificates) the node keeps, to serve peers that
	// fell behind; older ones are compacted away (the agreed state itself is
	// kept as a snapshot). Default 10000; at least 100.
	KeepHeights uint64 `yaml:"keep_heights"`

	src *source
}

// Constraints limit the work given to a node.
type Constraints struct {
	// Power is the node's supply: mains, battery, poe or solar. Default mains.
	Power Power `yaml:"power"`
	// MaxDuty is the largest fraction of time (0 to 1) the node's outputs
	// may be driven. Default 1.
	MaxDuty float64 `yaml:"max_duty"`
}

// Power is a node's power supply.
type Power string

const (
	PowerMains   Power = "mains"
	PowerBattery Power = "battery"
	PowerPoE     Power = "poe"
	PowerSolar   Power = "solar"
)

// Powers lists the valid Power values.
var Powers = []Power{PowerMains, PowerBattery, PowerPoE, PowerSolar}

// MQTT is the broker connection.
type MQTT struct {
	// URL is the broker: tcp://host:1883 (or mqtt://), ssl://host:8883 (or
	// tls://, mqtts://), ws://host/path, wss://host/path. Empty disables MQTT.
	URL string `yaml:"url,omitempty"`
	// Username authenticates to the broker. Optional.
	Username string `yaml:"username,omitempty"`
	// PasswordFile holds the password (its first line), so the password
	// itself never sits in a world-readable config. Optional.
	PasswordFile string `yaml:"password_file,omitempty"`
	// TLS configures ssl:// and wss:// connections.
	TLS TLS `yaml:"tls,omitempty"`
	// ClientID is the MQTT client id. Default pact-<cluster>-<node>.
	ClientID string `yaml:"client_id,omitempty"`
	// QoS for outcomes and decisions: 0 or 1. Default 1.
	QoS int `yaml:"qos"`
	// HomeAssistant announces the node to Home Assistant's MQTT discovery.
	// Default off.
	HomeAssistant HomeAssistant `yaml:"home_assistant"`
}

// HomeAssistant is Home Assistant MQTT discovery: when Enabled, the node
// publishes retained entity configurations under Prefix, so its sensors,
// its state and the last outcome of each action it can perform appear in
// Home Assistant as one device, with no YAML on that side.
type HomeAssistant struct {
	// Enabled turns discovery on. Default false.
	Enabled bool `yaml:"enabled"`
	// Prefix is Home Assistant's discovery prefix, a topic of one or more
	// levels without wildcards. Default homeassistant (Home Assistant's own
	// default).
	Prefix string `yaml:"prefix"`
}

// DefaultHomeAssistantPrefix is Home Assistant's default discovery prefix.
const DefaultHomeAssistantPrefix = "homeassistant"

// TLS configures the broker connection's TLS.
type TLS struct {
	// CAFile verifies the broker's certificate; default the system roots.
	CAFile string `yaml:"ca_file,omitempty"`
	// CertFile and KeyFile are a client certificate; both or neither.
	CertFile string `yaml:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file,omitempty"`
	// InsecureSkipVerify accepts any broker certificate. Testing only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify,omitempty"`
}

// Enabled reports whether TLS has any setting.
func (t TLS) Enabled() bool { return t != (TLS{}) }

// Adversary selects a misbehaviour.
type Adversary struct {
	// Mode is one of AdversaryModes.
	Mode AdversaryMode `yaml:"mode"`
}

// AdversaryMode names a misbehaviour (DESIGN.md, "Adversary modes").
type AdversaryMode string

// AdversaryModes lists the valid AdversaryMode values.
var AdversaryModes = []AdversaryMode{
	"equivocate", "lie-sensor", "false-outcome", "rogue-act", "forge", "replay", "flood", "silent", "mixed",
}

// Log sets logging.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is text or json. Default text.
	Format string `yaml:"format"`
}

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// Defaults of the agent file.
const (
	DefaultDataDir = "/var/lib/pact"
	DefaultBind    = "0.0.0.0:7946"
	DefaultAdmin   = "127.0.0.1:7950"
	// DefaultClusterFile is resolved against the agent file's directory.
	DefaultClusterFile = "cluster.yaml"
	// IdentityFileName is the key's name under DataDir by default.
	IdentityFileName = "identity.key"
)

// DefaultAgent returns an Agent with every default filled in and no name.
func DefaultAgent() *Agent {
	return &Agent{
		ClusterFile: DefaultClusterFile,
		DataDir:     DefaultDataDir,
		Bind:        DefaultBind,
		Admin:       DefaultAdmin,
		Constraints: Constraints{Power: PowerMains, MaxDuty: 1},
		MQTT:        MQTT{QoS: 1, HomeAssistant: HomeAssistant{Prefix: DefaultHomeAssistantPrefix}},
		Hardware:    Hardware{Driver: DriverPeriph},
		Log:         Log{Level: "info", Format: "text"},
		KeepHeights: DefaultKeepHeights,
	}
}

// DefaultKeepHeights is the default of keep_heights.
const DefaultKeepHeights = 10000

// ApplyDefaults fills in the defaults that decoding over DefaultAgent cannot
// (those inside list entries, and the key file that follows the data
// directory). Load calls it; it is idempotent.
func (a *Agent) ApplyDefaults() {
	if a.KeyFile == "" && a.DataDir != "" {
		a.KeyFile = filepath.Join(a.DataDir, IdentityFileName)
	}
	a.Hardware.applyDefaults()
}

// resolvePaths makes every relative path absolute against dir, the agent
// file's directory, so the agent does not depend on its working directory.
func (a *Agent) resolvePaths(dir string) {
	resolve := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	resolve(&a.ClusterFile)
	resolve(&a.DataDir)
	resolve(&a.KeyFile)
	resolve(&a.MQTT.PasswordFile)
	resolve(&a.MQTT.TLS.CAFile)
	resolve(&a.MQTT.TLS.CertFile)
	resolve(&a.MQTT.TLS.KeyFile)
	if sock, ok := strings.CutPrefix(a.Admin, "unix:"); ok && sock != "" && !filepath.IsAbs(sock) {
		a.Admin = "unix:" + filepath.Join(dir, sock)
	}
}

// AdminListen returns the network ("tcp" or "unix") and address for
// net.Listen of the admin API.
func (a *Agent) AdminListen() (network, address string) {
	if sock, ok := strings.CutPrefix(a.Admin, "unix:"); ok {
		return "unix", sock
	}
	return "tcp", a.Admin
}

// File is the file a was loaded from; "" for a value built in code.
func (a *Agent) File() string {
	if a.src == nil {
		return ""
	}
	return a.src.file
}

// Output returns the output named name.
func (a *Agent) Output(name string) (Output, bool) {
	for _, o := range a.Hardware.Outputs {
		if o.Name == name {
			return o, true
		}
	}
	return Output{}, false
}

// CanPerform reports whether the node's configuration satisfies an
// action's needs. The agent decides eligibility from committed capability
// documents; this is the same rule applied to the file, for warnings.
func (a *Agent) CanPerform(act Action) bool {
	if act.Needs.Zone != "" && act.Needs.Zone != a.Zone {
		return false
	}
	for _, o := range a.Hardware.Outputs {
		if (act.Needs.Output == "" || o.Name == act.Needs.Output) &&
			(act.Needs.OutputKind == "" || o.Kind == act.Needs.OutputKind) {
			return true
		}
	}
	return false
}
