package membership

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/mdns"
	"github.com/hashicorp/memberlist"
)

// Membership is this node's view of the cluster and its way of talking to
// peers, built on memberlist. Create it with New, wire its callbacks, then
// Start it; Leave and Shutdown end it. All methods are safe for concurrent
// use.
type Membership struct {
	cfg     Config
	log     *slog.Logger
	ml      *memberlist.Memberlist
	keyring *memberlist.Keyring
	view    *view
	stats   counters

	// meta is the encoded meta (header included) NodeMeta hands out.
	meta    atomic.Pointer[[]byte]
	appMu   sync.Mutex // serializes UpdateMeta and Leave
	appMeta []byte     // the application's meta, without the header

	evMu sync.Mutex // serializes view changes with their OnEvent calls

	started  atomic.Bool
	leaving  atomic.Bool
	shutdown atomic.Bool
	runMu    sync.Mutex // guards cancel and mdnsServer
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mdnsServer *mdns.Server
	mdnsLog    *log.Logger
}

// New validates cfg, binds memberlist's sockets and makes this node a
// cluster of one. It does not contact anyone: call Start.
func New(cfg Config) (*Membership, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Membership{cfg: cfg, log: cfg.Logger, view: newView()}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.log = m.log.With("component", "membership", "node", cfg.Name)

	var appMeta []byte
	if cfg.Meta != nil {
		appMeta = cfg.Meta()
	}
	if err := checkMeta(appMeta); err != nil {
		return nil, err
	}
	m.appMeta = appMeta
	enc := encodeMeta(appMeta, false)
	m.meta.Store(&enc)

	kr, err := memberlist.NewKeyring(cfg.GossipKeys, cfg.GossipKeys[0])
	if err != nil {
		return nil, fmt.Errorf("membership: gossip keyring: %w", err)
	}
	m.keyring = kr

	mc := cfg.memberlistTimings()
	mc.Name = cfg.Name
	mc.Label = cfg.Cluster
	mc.BindAddr = cfg.BindAddr
	if mc.BindAddr == "" {
		mc.BindAddr = "0.0.0.0"
	}
	mc.BindPort = cfg.BindPort
	mc.AdvertiseAddr = cfg.AdvertiseAddr
	mc.AdvertisePort = cfg.AdvertisePort
	if mc.AdvertisePort == 0 {
		mc.AdvertisePort = cfg.BindPort
	}
	mc.Keyring = kr
	mc.GossipVerifyIncoming = true
	mc.GossipVerifyOutgoing = true
	h := hooks{m}
	mc.Delegate, mc.Events, mc.Alive, mc.Merge, mc.Ping = h, h, h, h, h
	mc.Logger = log.New(&logWriter{m: m, src: "memberlist", observe: true}, "", 0)
	m.mdnsLog = log.New(&logWriter{m: m, src: "mdns"}, "", 0)

	if cfg.WrapTransport != nil {
		nt, err := netTransport(mc)
		if err != nil {
			return nil, fmt.Errorf("membership: start memberlist on %s:%d: %w", mc.BindAddr, cfg.BindPort, err)
		}
		mc.Transport = cfg.WrapTransport(nt)
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		if mc.Transport != nil {
			_ = mc.Transport.Shutdown()
		}
		return nil, fmt.Errorf("membership: start memberlist on %s:%d: %w", mc.BindAddr, cfg.BindPort, err)
	}
	m.ml = ml
	return m, nil
}

// netTransport binds the sockets memberlist.Create would bind itself when
// given no transport, for Config.WrapTransport to wrap. Like memberlist, it
// tries again when port 0 gave a TCP port already taken for UDP, and makes
// the port it got the advertised one.
func netTransport(mc *memberlist.Config) (*memberlist.NetTransport, error) {
	nc := &memberlist.NetTransportConfig{BindAddrs: []string{mc.BindAddr}, BindPort: mc.BindPort, Logger: mc.Logger}
	tries := 1
	if mc.BindPort == 0 {
		tries = 10
	}
	var err error
	for range tries {
		var nt *memberlist.NetTransport
		if nt, err = memberlist.NewNetTransport(nc); err != nil {
			continue
		}
		if mc.BindPort == 0 {
			mc.BindPort = nt.GetAutoBindPort()
			mc.AdvertisePort = mc.BindPort
		}
		return nt, nil
	}
	return nil, err
}

// Start begins delivering messages to OnMessage and, in the background,
// joins the seeds (retrying with backoff until one answers, and again
// whenever this node finds itself alone) and runs mDNS discovery when
// configured. Cancelling ctx stops the background work; it does not leave
// the cluster (call Leave and Shutdown for that).
func (m *Membership) Start(ctx context.Context) error {
	if m.shutdown.Load() {
		return ErrShutdown
	}
	if m.leaving.Load() {
		return fmt.Errorf("%w: it left the cluster", ErrShutdown)
	}
	m.runMu.Lock()
	defer m.runMu.Unlock()
	if m.started.Load() {
		return ErrAlreadyStarted
	}
	if m.shutdown.Load() { // Shutdown ran while this call waited for runMu
		return ErrShutdown
	}
	ctx, cancel := context.WithCancel(ctx)
	if m.cfg.MDNS {
		if err := m.startMDNSServer(); err != nil {
			cancel()
			return err
		}
	}
	m.cancel = cancel
	m.started.Store(true)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.joinLoop(ctx)
	}()
	if m.cfg.MDNS {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.mdnsLoop(ctx)
		}()
	}
	return nil
}

// Members returns every node this node knows of, itself included, sorted by
// name: alive and suspect ones, and dead and left ones for an hour (at most
// the 256 most recent) or until they come back. Nodes the gate refuses are
// not listed.
func (m *Membership) Members() []Member { return m.view.list() }

// Member returns one member by name.
func (m *Membership) Member(name string) (Member, bool) { return m.view.get(name) }

// Peers returns the names of the alive and suspect members other than this
// node: whom a broadcast goes to.
func (m *Membership) Peers() []string { return m.view.peers(m.cfg.Name) }

// LocalNode returns this node as the cluster sees it.
func (m *Membership) LocalNode() Member {
	mem, _ := m.view.get(m.cfg.Name)
	return mem
}

// Stats returns the counters.
func (m *Membership) Stats() Stats { return m.stats.snapshot() }

// HealthScore is Lifeguard's view of this node's own health: 0 is healthy;
// higher means probes of peers keep failing in ways that suggest this node
// is the slow one, and its probing has slowed down accordingly.
func (m *Membership) HealthScore() int { return m.ml.GetHealthScore() }

// UpdateMeta calls Config.Meta again and gossips the result, waiting up to
// timeout for the broadcast to go out. Meta over MaxMetaSize is an error and
// the old meta stays.
func (m *Membership) UpdateMeta(timeout time.Duration) error {
	m.appMu.Lock()
	defer m.appMu.Unlock()
	if m.shutdown.Load() {
		return ErrShutdown
	}
	var meta []byte
	if m.cfg.Meta != nil {
		meta = m.cfg.Meta()
	}
	if err := checkMeta(meta); err != nil {
		return err
	}
	m.appMeta = meta
	enc := encodeMeta(meta, m.leaving.Load())
	m.meta.Store(&enc)
	if err := m.ml.UpdateNode(timeout); err != nil {
		return fmt.Errorf("membership: gossip new meta: %w", err)
	}
	return nil
}

// BestEffortLimit is the largest payload SendBestEffort takes: memberlist's
// 1400-byte UDP packet less its message type, checksum, encryption and label
// overhead.
func (m *Membership) BestEffortLimit() int {
	const udpBuffer = 1400
	const overhead = 1 + 5 + 45 + 2 // user msg type, CRC, AES-GCM worst case, label header
	return udpBuffer - overhead - len(m.cfg.Cluster)
}

// SendBestEffort sends payload to the named member in one UDP packet: no
// retries, no ordering, no delivery guarantee. Use it for messages that are
// re-sent anyway (votes).
func (m *Membership) SendBestEffort(name string, payload []byte) error {
	if len(payload) > m.BestEffortLimit() {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(payload), m.BestEffortLimit())
	}
	n, err := m.node(name)
	if err != nil {
		return err
	}
	if err := m.ml.SendBestEffort(n, payload); err != nil {
		return fmt.Errorf("membership: send to %s: %w", name, err)
	}
	return nil
}

// SendReliable sends payload to the named member over a TCP stream, of any
// size. It blocks until the payload is written or memberlist's TCP timeout
// (3 s in the Pi profile, 10 s in the LAN one) passes: call it from a
// goroutine that may wait.
func (m *Membership) SendReliable(name string, payload []byte) error {
	n, err := m.node(name)
	if err != nil {
		return err
	}
	if err := m.ml.SendReliable(n, payload); err != nil {
		return fmt.Errorf("membership: send to %s: %w", name, err)
	}
	return nil
}

func (m *Membership) node(name string) (*memberlist.Node, error) {
	if m.shutdown.Load() {
		return nil, ErrShutdown
	}
	ip, port, ok := m.view.addr(name)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownMember, name)
	}
	return &memberlist.Node{Name: name, Addr: ip, Port: port}, nil
}

// RecheckGate asks the gate again about every member and hides those it now
// refuses (an ejection was just decided, say): they are no longer listed or
// sent to, and their alive messages are refused from now on. memberlist has
// no way to drop a live member, so it keeps probing them; that is all.
func (m *Membership) RecheckGate() {
	if m.cfg.Gate == nil {
		return
	}
	for _, mem := range m.view.list() {
		if mem.Name == m.cfg.Name {
			continue
		}
		err := m.cfg.Gate.Allow(mem.Name, mem.Meta)
		if err == nil {
			continue
		}
		m.evMu.Lock()
		hid, changed, ok := m.view.update(mem.Name, false, func(e *entry) bool {
			was := e.hidden
			e.hidden = true
			return !was
		})
		if ok && changed {
			m.stats.hidden.Add(1)
			m.emit(EventHidden, hid)
		}
		m.evMu.Unlock()
		m.log.Info("member hidden: the gate refuses it now", "peer", mem.Name, "err", err)
	}
}

// InstallKey adds a gossip key to the keyring; it is accepted on receipt
// from now on. The first step of a rotation.
func (m *Membership) InstallKey(key []byte) error { return m.keyring.AddKey(key) }

// UseKey makes an installed key the one used to send. The second step.
func (m *Membership) UseKey(key []byte) error { return m.keyring.UseKey(key) }

// RemoveKey removes a key that is not the primary. The last step.
func (m *Membership) RemoveKey(key []byte) error { return m.keyring.RemoveKey(key) }

// Leave announces that this node is leaving, so peers list it as left rather
// than dead, and stops the background joining. It waits up to timeout for
// the announcements to go out; the node keeps answering probes until
// Shutdown. Calling it twice is harmless.
func (m *Membership) Leave(timeout time.Duration) error {
	m.appMu.Lock()
	defer m.appMu.Unlock()
	if m.shutdown.Load() {
		return ErrShutdown
	}
	if m.leaving.Swap(true) {
		return nil
	}
	m.stopBackground()
	deadline := time.Now().Add(timeout)
	enc := encodeMeta(m.appMeta, true)
	m.meta.Store(&enc)
	// The leaving flag must reach peers before the departure itself, which
	// would otherwise replace it in memberlist's broadcast queue.
	if err := m.ml.UpdateNode(timeout / 2); err != nil {
		m.log.Debug("leaving flag not confirmed sent", "err", err)
	}
	if err := m.ml.Leave(max(time.Until(deadline), time.Millisecond)); err != nil {
		return fmt.Errorf("membership: leave: %w", err)
	}
	return nil
}

// Shutdown stops everything and closes the sockets, without a goodbye (call
// Leave first for that). It is idempotent.
func (m *Membership) Shutdown() error {
	// appMu lets a concurrent Leave finish before memberlist goes away
	// (memberlist panics on Leave after Shutdown).
	m.appMu.Lock()
	defer m.appMu.Unlock()
	if m.shutdown.Swap(true) {
		return nil
	}
	m.stopBackground()
	if err := m.ml.Shutdown(); err != nil {
		return fmt.Errorf("membership: shutdown: %w", err)
	}
	return nil
}

// stopBackground cancels the join and mDNS loops, waits for them, and stops
// the mDNS responder.
func (m *Membership) stopBackground() {
	m.runMu.Lock()
	cancel, srv := m.cancel, m.mdnsServer
	m.cancel, m.mdnsServer = nil, nil
	m.runMu.Unlock()
	if cancel != nil {
		cancel()
	}
	m.wg.Wait()
	if srv != nil {
		_ = srv.Shutdown()
	}
}

// alone reports whether no other member is reachable.
func (m *Membership) alone() bool { return len(m.view.peers(m.cfg.Name)) == 0 }

// localAddr returns this node's advertised address.
func (m *Membership) localAddr() (net.IP, int, error) {
	self := m.LocalNode()
	host, port, err := net.SplitHostPort(self.Addr)
	if err != nil {
		return nil, 0, fmt.Errorf("membership: own address %q: %w", self.Addr, err)
	}
	p, err := strconv.Atoi(port)
	ip := net.ParseIP(host)
	if err != nil || ip == nil {
		return nil, 0, fmt.Errorf("membership: own address %q is not ip:port", self.Addr)
	}
	return ip, p, nil
}

func (m *Membership) debug(msg string, args ...any) {
	m.log.Debug(msg, args...)
}
