package transport

import (
	"time"

	"github.com/seed44533760/pact/consensus"
)

// Send sends a consensus message: to m.To, or to every peer when To is
// empty. Votes and statuses go best-effort (consensus re-sends them), unless
// they do not fit one datagram; proposals and commits go reliably. It never
// blocks for long: reliable frames wait in the peer's queue.
func (t *Transport) Send(m consensus.Message) {
	reliable := !(m.IsVote() || m.Type == consensus.MsgStatus)
	frame := EncodeFrame(KindConsensus, m.Marshal())
	if !reliable && len(frame) > t.maxBE {
		reliable = true
		t.stats.oversizeReliable.Add(1)
	}
	t.sendFrame(string(m.To), frame, reliable)
}

// SendFrame sends a payload of another kind to one peer, or to every peer
// when to is empty. Best-effort payloads larger than a datagram go
// reliably.
func (t *Transport) SendFrame(to string, kind Kind, payload []byte, reliable bool) {
	frame := EncodeFrame(kind, payload)
	if !reliable && len(frame) > t.maxBE {
		reliable = true
		t.stats.oversizeReliable.Add(1)
	}
	t.sendFrame(to, frame, reliable)
}

func (t *Transport) sendFrame(to string, frame []byte, reliable bool) {
	if t.closed.Load() {
		return
	}
	targets := []string{to}
	if to == "" {
		if t.cfg.Peers != nil {
			targets = t.cfg.Peers()
		} else {
			targets = t.link.Peers()
		}
	}
	for _, peer := range targets {
		if peer == t.cfg.Self || peer == "" {
			continue
		}
		if reliable {
			t.enqueue(peer, frame)
			continue
		}
		if err := t.link.SendBestEffort(peer, frame); err != nil {
			t.stats.sendErrors.Add(1)
			t.log.Debug("best-effort send failed", "peer", peer, "err", err)
			continue
		}
		t.stats.sentBestEffort.Add(1)
	}
}

// peerQueue feeds one peer's reliable sender goroutine. The goroutine exits
// after idleTimeout without work and is started again on demand, so peers
// that left cost nothing.
type peerQueue struct {
	name  string
	ch    chan outFrame
	quit  chan struct{}
	alive bool // guarded by Transport.qmu
}

type outFrame struct {
	frame  []byte
	queued time.Time
}

const idleTimeout = time.Minute

func (q *peerQueue) stop() { close(q.quit) }

// enqueue adds a frame to the peer's queue, starting its sender if needed,
// or drops it when the queue is full.
func (t *Transport) enqueue(peer string, frame []byte) {
	t.qmu.Lock()
	defer t.qmu.Unlock()
	if t.closed.Load() {
		return
	}
	q := t.queues[peer]
	if q == nil {
		q = &peerQueue{name: peer, ch: make(chan outFrame, t.cfg.SendQueue), quit: make(chan struct{})}
		t.queues[peer] = q
	}
	select {
	case q.ch <- outFrame{frame: frame, queued: t.now()}:
	default:
		t.stats.sendQueueFull.Add(1)
		return
	}
	if !q.alive {
		q.alive = true
		t.senders.Add(1)
		go t.sendLoop(q)
	}
}

// sendLoop sends one peer's reliable frames in order. After a failure the
// peer counts as unreachable for RetryAfter, and frames that come due in
// that time are dropped rather than each waiting out the link's timeout.
func (t *Transport) sendLoop(q *peerQueue) {
	defer t.senders.Done()
	var downUntil time.Time
	idle := time.NewTimer(idleTimeout)
	defer idle.Stop()
	for {
		select {
		case <-q.quit:
			return
		case f := <-q.ch:
			now := t.now()
			if now.Sub(f.queued) > t.cfg.SendTimeout || now.Before(downUntil) {
				t.stats.sendDropped.Add(1)
				continue
			}
			if err := t.link.SendReliable(q.name, f.frame); err != nil {
				t.stats.sendErrors.Add(1)
				downUntil = t.now().Add(t.cfg.RetryAfter)
				t.log.Debug("reliable send failed", "peer", q.name, "err", err)
			} else {
				t.stats.sentReliable.Add(1)
			}
			idle.Reset(idleTimeout)
		case <-idle.C:
			t.qmu.Lock()
			if len(q.ch) > 0 {
				t.qmu.Unlock()
				idle.Reset(idleTimeout)
				continue
			}
			q.alive = false
			t.qmu.Unlock()
			return
		}
	}
}
