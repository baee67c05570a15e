package membership

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/mdns"
)

// mDNS discovery: every node answers queries for the cluster's service with
// its advertised address, and queries now and then, joining the nodes it
// does not know. A TXT record carries the cluster and node names; answers for
// another cluster (a service name that sanitized to the same label) are
// ignored. Only IPv4 multicast is used.

const (
	mdnsDomain       = "local."
	mdnsQueryTimeout = time.Second
)

func (m *Membership) mdnsInterface() (*net.Interface, error) {
	if m.cfg.MDNSInterface == "" {
		return nil, nil
	}
	iface, err := net.InterfaceByName(m.cfg.MDNSInterface)
	if err != nil {
		return nil, fmt.Errorf("membership: MDNSInterface %q: %w", m.cfg.MDNSInterface, err)
	}
	return iface, nil
}

// mdnsInstance is a DNS label unique to the node name: the sanitized name
// plus a short hash, so names that sanitize alike do not collide.
func mdnsInstance(name string) string {
	sum := sha256.Sum256([]byte(name))
	label := dnsLabel(name)
	if len(label) > 50 {
		label = label[:50]
	}
	if label == "" {
		label = "node"
	}
	return label + "-" + hex.EncodeToString(sum[:3])
}

// startMDNSServer starts answering queries; Start calls it with runMu held.
func (m *Membership) startMDNSServer() error {
	iface, err := m.mdnsInterface()
	if err != nil {
		return err
	}
	ip, port, err := m.localAddr()
	if err != nil {
		return err
	}
	inst := mdnsInstance(m.cfg.Name)
	svc, err := mdns.NewMDNSService(inst, m.cfg.mdnsService(), mdnsDomain, inst+"."+mdnsDomain, port,
		[]net.IP{ip}, []string{"cluster=" + m.cfg.Cluster, "name=" + m.cfg.Name})
	if err != nil {
		return fmt.Errorf("membership: mDNS service: %w", err)
	}
	srv, err := mdns.NewServer(&mdns.Config{Zone: svc, Iface: iface, Logger: m.mdnsLog})
	if err != nil {
		return fmt.Errorf("membership: mDNS responder (is multicast enabled on the interface?): %w", err)
	}
	m.mdnsServer = srv
	m.log.Info("mDNS discovery on", "service", m.cfg.mdnsService(), "addr", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	return nil
}

// mdnsLoop queries right away, then every MDNSInterval, or more often while
// the node is alone.
func (m *Membership) mdnsLoop(ctx context.Context) {
	for {
		m.mdnsQuery(ctx)
		wait := m.cfg.MDNSInterval
		if m.alone() {
			wait = min(wait, 4*m.cfg.JoinBackoffMin)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// mdnsQuery asks once and joins the nodes of this cluster it does not know.
func (m *Membership) mdnsQuery(ctx context.Context) {
	iface, err := m.mdnsInterface()
	if err != nil {
		m.log.Warn("mDNS query", "err", err)
		return
	}
	entries := make(chan *mdns.ServiceEntry, 64)
	params := &mdns.QueryParam{
		Service:     m.cfg.mdnsService(),
		Domain:      mdnsDomain,
		Timeout:     mdnsQueryTimeout,
		Interface:   iface,
		Entries:     entries,
		DisableIPv6: true,
		Logger:      m.mdnsLog,
	}
	m.stats.mdnsQueries.Add(1)
	if err := mdns.QueryContext(ctx, params); err != nil {
		m.log.Debug("mDNS query failed", "err", err)
		return
	}
	close(entries)
	var addrs []string
	for e := range entries {
		name, ok := m.mdnsPeer(e)
		if !ok {
			continue
		}
		if mem, known := m.view.get(name); known && mem.State.Reachable() {
			continue
		}
		m.stats.mdnsFound.Add(1)
		addrs = append(addrs, net.JoinHostPort(e.AddrV4.String(), strconv.Itoa(e.Port)))
	}
	if len(addrs) > 0 && ctx.Err() == nil {
		m.join(addrs, "mdns")
	}
}

// mdnsPeer checks that an answer is another node of this cluster and
// returns its name.
func (m *Membership) mdnsPeer(e *mdns.ServiceEntry) (string, bool) {
	if e.AddrV4 == nil || e.Port <= 0 {
		return "", false
	}
	if !slices.Contains(e.InfoFields, "cluster="+m.cfg.Cluster) {
		return "", false
	}
	for _, f := range e.InfoFields {
		if name, ok := strings.CutPrefix(f, "name="); ok && name != "" && name != m.cfg.Name {
			return name, true
		}
	}
	return "", false
}
