package membership

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// Profiles name a set of memberlist timings. See Profile.
const (
	// ProfilePi is tuned for a LAN of Raspberry Pis: it notices a dead node
	// in about half the time of ProfileLAN (measured: docs/BENCHMARKS.md)
	// and keeps Lifeguard's protections, so that a node that stalls for a
	// while is suspected and refutes instead of dragging healthy nodes down
	// with it.
	ProfilePi = "pi"
	// ProfileLAN is memberlist.DefaultLANConfig unchanged.
	ProfileLAN = "lan"
)

// Config configures a Membership. Build one with DefaultConfig and change
// what differs; Validate reports every problem at once.
type Config struct {
	// Name is this node's name in the cluster: the node name bound to its
	// public key in the cluster's genesis. memberlist refuses two live nodes
	// with one name, and the Gate decides whether a name may join at all.
	Name string

	// Cluster is the cluster's name. It becomes memberlist's Label, which
	// is authenticated with every packet and stream (AES-GCM associated
	// data), so two clusters on one LAN never merge even if they share a
	// gossip key, and it names the mDNS service (see MDNSService).
	Cluster string

	// BindAddr and BindPort are where memberlist listens, over UDP (probes,
	// gossip, best-effort messages) and TCP (joins, push/pull, reliable
	// messages) on the same port. "0.0.0.0" listens everywhere. Port 0 picks
	// a free port, which is then also the advertised port; tests use it.
	BindAddr string
	BindPort int

	// AdvertiseAddr and AdvertisePort are what other nodes are told to
	// reach this node at, when that differs from the bind address: a node
	// behind NAT or port forwarding. Empty means the bound address (or, when
	// bound to 0.0.0.0, the first private IPv4 address); 0 means BindPort.
	AdvertiseAddr string
	AdvertisePort int

	// GossipKeys are the AES keys (16, 24 or 32 bytes) memberlist encrypts
	// and authenticates all traffic with. All of them are installed in the
	// keyring and accepted on receipt; the first is the primary, used to
	// send. Rotate in three steps across the fleet — InstallKey everywhere,
	// then UseKey, then RemoveKey the old one — so a node that is offline
	// during one step still understands its peers. A node without a key of
	// the cluster never becomes a member. At least one key is required.
	GossipKeys [][]byte

	// Seeds are addresses ("host:port", or "host" for BindPort) of nodes to
	// join through. Start keeps trying them, with exponential backoff and
	// jitter up to JoinBackoffMax, until one answers, and tries again
	// whenever this node finds itself alone, so a node that boots before its
	// seeds joins once they come up. Empty is fine with MDNS or for the first
	// node.
	Seeds []string

	// JoinBackoffMin and JoinBackoffMax bound the wait between join
	// attempts: it starts at the minimum and doubles, with jitter, up to the
	// maximum.
	JoinBackoffMin time.Duration
	JoinBackoffMax time.Duration

	// AloneCheckInterval is how often a started node checks whether it has
	// lost every peer, in which case it goes back to joining seeds and
	// querying mDNS.
	AloneCheckInterval time.Duration

	// MDNS turns on LAN discovery: the node advertises itself over mDNS
	// (multicast DNS, 224.0.0.251:5353) and queries for other nodes of the
	// same cluster, joining those it does not know yet, so a fleet on one
	// subnet needs no seed list. Gossip stays encrypted; mDNS only tells
	// where to knock.
	MDNS bool

	// MDNSService is the DNS-SD service name advertised and queried; empty
	// derives "_pact-<cluster>._udp" from Cluster (lower case, characters
	// other than letters, digits and '-' replaced by '-', cut to DNS's 63
	// byte label limit). Answers are also checked for the cluster name in
	// their TXT record.
	MDNSService string

	// MDNSInterface is the network interface ("eth0", "wlan0") to advertise
	// and query on; empty uses the system's default multicast interface.
	MDNSInterface string

	// MDNSInterval is how often the node queries mDNS while it has peers;
	// while alone it queries every JoinBackoffMin·4 at most.
	MDNSInterval time.Duration

	// Profile picks the failure-detection timings: ProfilePi (the default)
	// or ProfileLAN. The four fields below override single values of the
	// profile when non-zero.
	Profile string

	// ProbeInterval is the time between failure probes of one random peer.
	// ProbeTimeout is how long a direct probe waits for its ack before
	// asking IndirectChecks other nodes to probe; it must be shorter than
	// ProbeInterval and longer than the worst round trip on the LAN.
	ProbeInterval time.Duration
	ProbeTimeout  time.Duration
	// SuspicionMult scales how long a suspected node has to refute before
	// it is declared dead: SuspicionMult · max(1, log10(n)) · ProbeInterval
	// when enough peers confirm the suspicion, up to 6 times that when they
	// do not (Lifeguard).
	SuspicionMult int
	// GossipInterval is the time between gossip rounds, which carry state
	// changes (joins, suspicions, deaths) to 3 random peers each.
	GossipInterval time.Duration

	// Meta returns this node's meta, gossiped with its alive messages: at
	// most MaxMetaSize bytes (memberlist's 512, less pact's one-byte
	// header), so put a digest and a version there, not a document
	// (memberlist#191). It is called by New and UpdateMeta, never from
	// memberlist's goroutines. Nil means no meta.
	Meta func() []byte

	// Gate, when set, decides which peers this node accepts. It is asked
	// for every alive message and for every node in a joining peer's list
	// (memberlist's AliveDelegate and MergeDelegate); a refused node never
	// becomes a member here and a join that lists one is cancelled. The
	// agent's gate refuses ejected names and validator names whose meta
	// carries another public key. Gossip is a hint, never truth: the gate
	// only keeps out nodes known to be bad; whether a member may vote is
	// consensus's business.
	Gate Gate

	// OnMessage receives the payload of every user message (best-effort or
	// reliable) sent to this node. It is called from memberlist's receive
	// goroutines, possibly concurrently, and must not block: hand the
	// payload to another goroutine. The payload is a copy the callee may
	// keep. It is never called before Start.
	OnMessage func(payload []byte)

	// OnEvent receives membership changes (see EventType). It is called
	// from memberlist's goroutines, one call at a time, sometimes while
	// memberlist holds its own locks: it must not block and must not call
	// Membership methods other than Members, LocalNode and Stats.
	OnEvent func(Event)

	// Logger receives this package's log and, at debug level, memberlist's
	// and mDNS's own. Nil discards everything.
	Logger *slog.Logger

	// WrapTransport, when set, is handed the UDP and TCP transport
	// memberlist would use, its sockets already bound, and returns the one
	// memberlist uses instead. It is for measurements (bench's
	// BenchmarkWire counts every byte a node sends and receives with it),
	// not for production: the wrapper sits on every packet's path and must
	// hand each call on to the transport it was given. Nil uses
	// memberlist's own transport as it is.
	WrapTransport TransportWrapper
}

// TransportWrapper wraps the transport memberlist sends and receives
// through. See Config.WrapTransport.
type TransportWrapper func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport

// Gate decides whether a peer may be a member. Allow gets the peer's name
// and the meta it announced (without pact's header) and returns nil to let
// it in, or an error saying why not — wrap ErrEjected or ErrWrongKey so the
// refusal is counted by reason. It is called from memberlist's goroutines,
// possibly concurrently, with memberlist's locks held: it must be fast, must
// not block and must not call back into Membership.
type Gate interface {
	Allow(name string, meta []byte) error
}

// GateFunc adapts a function to the Gate interface.
type GateFunc func(name string, meta []byte) error

// Allow implements Gate.
func (f GateFunc) Allow(name string, meta []byte) error { return f(name, meta) }

// DefaultConfig returns a configuration for a Pi on a LAN: listen on every
// address at port 7946, the Pi profile, mDNS off. Name, Cluster and
// GossipKeys must still be set.
func DefaultConfig() Config {
	return Config{
		BindAddr:           "0.0.0.0",
		BindPort:           7946,
		JoinBackoffMin:     500 * time.Millisecond,
		JoinBackoffMax:     30 * time.Second,
		AloneCheckInterval: 5 * time.Second,
		MDNSInterval:       30 * time.Second,
		Profile:            ProfilePi,
	}
}

// FieldError is one problem Validate found, naming the field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return "membership: " + e.Field + ": " + e.Msg }

// Unwrap makes every FieldError match ErrConfig.
func (e *FieldError) Unwrap() error { return ErrConfig }

// Validate reports every problem with c at once (errors.Join of
// *FieldError), or nil.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}

	switch {
	case c.Name == "":
		bad("Name", "must not be empty")
	case len(c.Name) > 255:
		bad("Name", "%d bytes, at most 255", len(c.Name))
	}
	switch {
	case c.Cluster == "":
		bad("Cluster", "must not be empty")
	case len(c.Cluster) > memberlist.LabelMaxSize:
		bad("Cluster", "%d bytes, at most %d", len(c.Cluster), memberlist.LabelMaxSize)
	}
	if c.BindAddr != "" && net.ParseIP(c.BindAddr) == nil {
		bad("BindAddr", "%q is not an IP address", c.BindAddr)
	}
	if c.BindPort < 0 || c.BindPort > 65535 {
		bad("BindPort", "%d is not a port (0 picks a free one)", c.BindPort)
	}
	if c.AdvertiseAddr != "" {
		if ip := net.ParseIP(c.AdvertiseAddr); ip == nil {
			bad("AdvertiseAddr", "%q is not an IP address", c.AdvertiseAddr)
		} else if ip.IsUnspecified() {
			bad("AdvertiseAddr", "%q cannot be reached; give the address peers should use", c.AdvertiseAddr)
		}
	}
	if c.AdvertisePort < 0 || c.AdvertisePort > 65535 {
		bad("AdvertisePort", "%d is not a port (0 means BindPort)", c.AdvertisePort)
	}

	if len(c.GossipKeys) == 0 {
		bad("GossipKeys", "at least one key is required: gossip is always encrypted")
	}
	seen := make(map[string]int)
	for i, k := range c.GossipKeys {
		switch len(k) {
		case 16, 24, 32:
		default:
			bad(fmt.Sprintf("GossipKeys[%d]", i), "%d bytes, want 16, 24 or 32", len(k))
		}
		if j, dup := seen[string(k)]; dup {
			bad(fmt.Sprintf("GossipKeys[%d]", i), "same key as GossipKeys[%d]", j)
		}
		seen[string(k)] = i
	}

	for i, s := range c.Seeds {
		if err := checkSeed(s); err != nil {
			bad(fmt.Sprintf("Seeds[%d]", i), "%v", err)
		}
	}
	if c.JoinBackoffMin <= 0 {
		bad("JoinBackoffMin", "must be positive")
	}
	if c.JoinBackoffMax < c.JoinBackoffMin {
		bad("JoinBackoffMax", "%v is below JoinBackoffMin %v", c.JoinBackoffMax, c.JoinBackoffMin)
	}
	if c.AloneCheckInterval <= 0 {
		bad("AloneCheckInterval", "must be positive")
	}
	if c.MDNS {
		if c.MDNSInterval <= 0 {
			bad("MDNSInterval", "must be positive")
		}
		if svc := c.mdnsService(); !validService(svc) {
			bad("MDNSService", "%q is not a DNS-SD service name like \"_pact-home._udp\"", svc)
		}
	}

	timings := true
	switch c.Profile {
	case ProfilePi, ProfileLAN:
	default:
		bad("Profile", "%q is not %q or %q", c.Profile, ProfilePi, ProfileLAN)
		timings = false
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"ProbeInterval", c.ProbeInterval}, {"ProbeTimeout", c.ProbeTimeout}, {"GossipInterval", c.GossipInterval}} {
		if d.v < 0 {
			bad(d.field, "must not be negative (0 keeps the profile's value)")
			timings = false
		}
	}
	if c.SuspicionMult < 0 {
		bad("SuspicionMult", "must not be negative (0 keeps the profile's value)")
	}
	if timings {
		mc := c.memberlistTimings()
		if mc.ProbeTimeout >= mc.ProbeInterval {
			bad("ProbeTimeout", "%v must be shorter than ProbeInterval %v", mc.ProbeTimeout, mc.ProbeInterval)
		}
	}
	return errors.Join(errs...)
}

// checkSeed accepts "host" and "host:port".
func checkSeed(s string) error {
	if s == "" {
		return errors.New("empty address")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			host, port = s, ""
		} else {
			return fmt.Errorf("%q: %v", s, err)
		}
	}
	if host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p <= 0 || p > 65535 {
			return fmt.Errorf("%q: port %q is not 1-65535", s, port)
		}
	}
	return nil
}

// memberlistTimings returns memberlist's config for the profile with the
// overrides applied. The caller fills in everything else.
func (c *Config) memberlistTimings() *memberlist.Config {
	mc := memberlist.DefaultLANConfig()
	if c.Profile == ProfilePi {
		ApplyPiProfile(mc)
	}
	if c.ProbeInterval > 0 {
		mc.ProbeInterval = c.ProbeInterval
	}
	if c.ProbeTimeout > 0 {
		mc.ProbeTimeout = c.ProbeTimeout
	}
	if c.SuspicionMult > 0 {
		mc.SuspicionMult = c.SuspicionMult
	}
	if c.GossipInterval > 0 {
		mc.GossipInterval = c.GossipInterval
	}
	return mc
}

// ApplyPiProfile halves the LAN profile's failure detection. With n nodes a
// dead node is first probed within about ProbeInterval·(n-1)/n on average,
// the probe fails after one ProbeInterval, and the suspicion then lasts
// SuspicionMult·ProbeInterval once two peers confirm it (Lifeguard waits up
// to 6 times longer without confirmations). Halving ProbeInterval halves all
// three. Measured with 5 processes on loopback (20 kills each; bench's
// BenchmarkCrashDetection measures it now), the time until every survivor
// declared a SIGKILLed node dead fell from a median of 6.0 s (5.7–10.8 s)
// to 2.9 s (2.8–3.9 s), and in
// 4 SIGSTOPs of 10 s per profile no healthy node was ever suspected. SuspicionMult stays at 4, so a stalled
// node still has at least two seconds to refute, and Lifeguard's awareness
// (AwarenessMaxMultiplier 8) still slows the probes of a node that is itself
// overloaded instead of letting it accuse healthy peers.
//
// ProbeTimeout only decides when the indirect probes through three other
// nodes start: a late direct ack still counts until the ProbeInterval ends,
// so 200 ms costs a few extra packets when Wi-Fi is slow, not a suspicion.
// Gossip every 100 ms spreads the confirmations that shorten a suspicion;
// the shorter push/pull and dead-gossip periods and the 3 s TCP timeout suit
// a fleet of tens of nodes on one LAN, not thousands across sites.
func ApplyPiProfile(mc *memberlist.Config) {
	mc.ProbeInterval = 500 * time.Millisecond
	mc.ProbeTimeout = 200 * time.Millisecond
	mc.SuspicionMult = 4
	mc.GossipInterval = 100 * time.Millisecond
	mc.GossipToTheDeadTime = 15 * time.Second
	mc.PushPullInterval = 15 * time.Second
	mc.TCPTimeout = 3 * time.Second
}

// mdnsService returns MDNSService or the name derived from Cluster.
func (c *Config) mdnsService() string {
	if c.MDNSService != "" {
		return c.MDNSService
	}
	return "_" + dnsLabel("pact-"+c.Cluster) + "._udp"
}

// dnsLabel makes s usable as one DNS label: lower case letters, digits and
// '-', at most 62 bytes (leaving room for the leading underscore).
func dnsLabel(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if b.Len() >= 62 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// validService checks the "_name._udp" or "_name._tcp" shape.
func validService(s string) bool {
	name, proto, ok := strings.Cut(s, ".")
	if !ok || (proto != "_udp" && proto != "_tcp") {
		return false
	}
	if len(name) < 2 || len(name) > 63 || name[0] != '_' {
		return false
	}
	return dnsLabel(name[1:]) == name[1:]
}
