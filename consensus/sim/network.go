package sim

import (
	"slices"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// The virtual network: routing (twins see only their side of the split),
// and the faults that act on every delivery while they last.

// send routes one message a node wants to send, through its adversary
// strategy if it has one.
func (s *simulation) send(p *process, m *consensus.Message) {
	if p.honest {
		if v := s.checker.observeSigned(p.id, m); v != nil {
			s.emit("violation", string(p.id), m.Height, v.String())
		}
	}
	if p.strategy == nil {
		var raw []byte
		s.forRecipients(p, m.To, func(q *process) {
			if raw == nil {
				raw = m.Marshal()
			}
			s.transmit(p, q, raw)
		})
		return
	}
	var names []consensus.NodeID
	for num := 1; num <= s.cfg.Nodes; num++ {
		id := NodeName(num)
		if m.To != "" && m.To != id {
			continue
		}
		if slices.ContainsFunc(s.byNum[num], func(q *process) bool { return s.reachable(p, q) }) {
			names = append(names, id)
		}
	}
	for _, d := range p.strategy.Outgoing(p.adv, m, names) {
		s.forRecipients(p, d.To, func(q *process) { s.transmit(p, q, d.Bytes) })
	}
}

// forRecipients calls fn for every process that a message from p addressed
// to `to` ("" for everyone) reaches, faults aside.
func (s *simulation) forRecipients(p *process, to consensus.NodeID, fn func(*process)) {
	if to != "" {
		num, ok := s.nums[to]
		if !ok {
			return
		}
		for _, q := range s.byNum[num] {
			if s.reachable(p, q) {
				fn(q)
			}
		}
		return
	}
	for _, q := range s.procs {
		if s.reachable(p, q) {
			fn(q)
		}
	}
}

// reachable is the network's shape, faults aside: processes of one name never
// talk to each other, and twins only talk to their side of the split.
func (s *simulation) reachable(p, q *process) bool {
	return p.num != q.num && s.twinSees(p, q.num) && s.twinSees(q, p.num)
}

func (s *simulation) twinSees(p *process, other int) bool {
	if p.side == notTwin {
		return true
	}
	side := s.twinSplit[p.num][other]
	return side == sideBoth || side == p.side
}

func (s *simulation) partitioned(a, b int) bool {
	for i := range s.partitions {
		if p := &s.partitions[i]; p.active(s.now) && p.separates(a, b) {
			return true
		}
	}
	return false
}

func (s *simulation) delay() time.Duration {
	return s.cfg.MinDelay + time.Duration(s.rng.Int64N(int64(s.cfg.MaxDelay-s.cfg.MinDelay)+1))
}

// transmit puts one consensus message on the virtual network, where the
// faults act on it.
func (s *simulation) transmit(p, q *process, raw []byte) {
	s.transmitKind(p, q, raw, evDeliver, &s.msgs)
}

// transmitKind puts one delivery of any kind on the virtual network,
// counting it in stats.
func (s *simulation) transmitKind(p, q *process, raw []byte, kind eventKind, stats *MessageStats) {
	stats.Sent++
	copies := 1
	if s.faults {
		if s.partitioned(p.num, q.num) {
			stats.Blocked++
			return
		}
		if s.cfg.Drop > 0 && s.rng.Float64() < s.cfg.Drop {
			stats.Dropped++
			return
		}
		if s.cfg.Duplicate > 0 && s.rng.Float64() < s.cfg.Duplicate {
			stats.Duplicated++
			copies = 2
		}
	}
	for range copies {
		s.queue.push(event{at: s.now + s.delay(), kind: kind, proc: q.idx, from: p.idx, data: raw})
	}
}

// deliver hands bytes that arrived to a process: decode, show the adversary,
// Step, drain.
func (s *simulation) deliver(q *process, raw []byte) {
	if q.down {
		s.msgs.ToCrashed++
		return
	}
	s.msgs.Delivered++
	m, err := consensus.Unmarshal(raw)
	if err != nil {
		if q.honest {
			s.msgs.Undecodable++
		}
		return
	}
	if q.strategy != nil {
		q.strategy.Incoming(q.adv, m, raw)
	}
	_ = q.node.Step(m) // refusals are counted in the node's Stats
	s.drain(q)
}
