package membership

import (
	"context"
	"math/rand/v2"
	"net"
	"strconv"
	"time"
)

// joinLoop keeps this node in a cluster through its seeds: it tries them
// until one answers, backing off exponentially with jitter, and starts over
// whenever the node finds itself alone (its seeds were down when it started,
// or a partition or reboot cut it off). While it is not alone, it knocks on
// the members the cluster declared dead, backing off while none answers:
// memberlist never probes a dead member, so after a partition heals each
// side would otherwise stay dead to the other until it happened to gossip.
func (m *Membership) joinLoop(ctx context.Context) {
	seeds := m.otherSeeds()
	if len(seeds) == 0 {
		return
	}
	b := backoff{min: m.cfg.JoinBackoffMin, max: m.cfg.JoinBackoffMax}
	// Dead members are knocked on every AloneCheckInterval at first, less
	// often while none answers.
	dead := backoff{min: m.cfg.AloneCheckInterval, max: max(m.cfg.AloneCheckInterval, m.cfg.JoinBackoffMax)}
	nextDead := time.Now()
	for {
		wait := m.cfg.AloneCheckInterval
		if m.alone() {
			if m.join(seeds, "seeds") {
				b.reset()
			} else {
				wait = b.next()
			}
		} else if addrs := m.view.deadAddrs(); len(addrs) > 0 && !time.Now().Before(nextDead) {
			// A healed partition: push-pull with the dead brings both
			// sides' views back at once (serf's reconnect does the same).
			if m.join(addrs, "dead members") {
				dead.reset()
				nextDead = time.Now()
			} else {
				nextDead = time.Now().Add(dead.next())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// join asks memberlist to join through addrs and reports whether any
// answered.
func (m *Membership) join(addrs []string, via string) bool {
	m.stats.joinAttempts.Add(1)
	n, err := m.ml.Join(addrs)
	if n == 0 {
		m.stats.joinFailures.Add(1)
		m.log.Debug("join failed", "via", via, "addrs", addrs, "err", err)
		return false
	}
	m.log.Info("joined", "via", via, "answered", n, "members", len(m.view.peers(m.cfg.Name))+1)
	return true
}

// otherSeeds drops seeds that are this node's own address, so the first
// node of a fleet can list itself without talking to itself forever.
func (m *Membership) otherSeeds() []string {
	ip, port, err := m.localAddr()
	var own []string
	if err == nil {
		own = append(own, net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	}
	if m.cfg.BindAddr != "" && m.cfg.BindAddr != "0.0.0.0" && err == nil {
		own = append(own, net.JoinHostPort(m.cfg.BindAddr, strconv.Itoa(port)))
	}
	var out []string
	for _, s := range m.cfg.Seeds {
		full := s
		if _, _, err := net.SplitHostPort(s); err != nil {
			full = net.JoinHostPort(s, strconv.Itoa(m.cfg.BindPort))
		}
		self := false
		for _, o := range own {
			if full == o {
				self = true
			}
		}
		if !self {
			out = append(out, s)
		}
	}
	return out
}

// backoff is exponential backoff with "equal jitter": each wait is half the
// current step plus a random part of the other half, so nodes that lost
// their seeds together do not all knock at the same instant.
type backoff struct {
	min, max, step time.Duration
}

func (b *backoff) reset() { b.step = 0 }

func (b *backoff) next() time.Duration {
	if b.step == 0 {
		b.step = b.min
	} else {
		b.step = min(2*b.step, b.max)
	}
	half := b.step / 2
	return half + rand.N(half+1)
}
