package sim

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/seed44533760/pact/agent/audit"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
	"github.com/seed44533760/pact/consensus/quorum"
	"github.com/seed44533760/pact/hw"
)

// Reports
//
// Besides consensus messages, nodes send each other signed reports about
// the world, as the agent does over MQTT: every sample of their sensor
// (wire.Readings) and the outcome of every action they performed
// (wire.Outcome). A report travels as its JSON behind a one-byte tag,
// through the same virtual network and faults as everything else, and is
// signed by its author's consensus key over wire.SignBytes — the agent's
// sign bytes, domain and cluster included. An honest node refuses a report
// it cannot decode, one not from a current validator, and one whose
// signature does not verify. Adversaries send reports (through their
// ReportStrategy, if they have one) but judge none: their verdicts could
// only ever be f of the f+1 an ejection needs.

const (
	tagReadings byte = 'r'
	tagOutcome  byte = 'o'
)

// auditConfig is the audit every honest node runs: the agent's defaults,
// except that a node's value in a bucket is judged only against at least
// 2f+1 others. With at most f liars among them the others' median then
// lies between two honest values, so an honest sensor is never an outlier
// however the liars collude and whatever the network drops; with the
// default three peers, two liars and a partition that hid the other honest
// nodes could outvote an honest node (audit.Check says as much).
func auditConfig(nodes int) audit.Config {
	cfg := audit.DefaultConfig()
	cfg.Bucket = SampleEvery
	cfg.MinPeers = max(cfg.MinPeers, 2*quorum.Faulty(nodes)+1)
	return cfg
}

// wallTime is virtual time t as the instant signed payloads carry.
func wallTime(t time.Duration) time.Time { return epoch.Add(t) }

// virtualTime reads a payload time back; ok is false for a malformed one.
func virtualTime(ts string) (time.Duration, bool) {
	t, err := wire.ParseTime(ts)
	if err != nil {
		return 0, false
	}
	return t.Sub(epoch), true
}

// signReport signs a payload as the agent does, with the node's consensus
// key: the signature covers domain, cluster and the payload's canonical
// JSON without "sig".
func (s *simulation) signReport(p *process, domain string, payload any) string {
	return base64.StdEncoding.EncodeToString(p.signer.Sign(wire.SignBytes(domain, s.cluster, payload)))
}

// verifyReport checks a payload's signature under node's key in the set
// q holds; it fails for a node that is not a current validator.
func (s *simulation) verifyReport(q *process, node string, domain, cluster, sig string, payload any) bool {
	val, ok := q.app.vals.Get(consensus.NodeID(node))
	if !ok || cluster != s.cluster {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	return s.verifier.Verify(val.PubKey, wire.SignBytes(domain, s.cluster, payload), raw)
}

func encodeReport(tag byte, payload any) []byte {
	b, err := json.Marshal(payload)
	if err != nil {
		panic("sim: encoding a report: " + err.Error())
	}
	return append([]byte{tag}, b...)
}

// sample is one reading of p's sensor: signed, fed to its own auditor and
// sent to every peer it can reach.
func (s *simulation) sample(p *process) {
	value, send := s.world.sense(p.num, s.now), true
	if rs, ok := p.strategy.(ReportStrategy); ok {
		value, send = rs.Sense(p.adv, value)
	}
	if !send {
		return
	}
	r := &wire.Readings{
		Header:   wire.Header{V: wire.Version, Cluster: s.cluster, TS: wire.Timestamp(wallTime(s.now))},
		Node:     string(p.id),
		Readings: []wire.Reading{{Sensor: sensorName, Kind: string(hw.Temperature), Value: value, Unit: "°C"}},
	}
	r.Sig = s.signReport(p, wire.DomainReadings, r)
	s.reports.Readings++
	if p.auditor != nil {
		_ = p.auditor.Add(wallTime(s.now), zone, r)
	}
	raw := encodeReport(tagReadings, r)
	s.forRecipients(p, "", func(q *process) { s.transmitReport(p, q, raw) })
}

// deliverReport hands a report that arrived to an honest process: readings
// go to its auditor, outcomes to its witness watches.
func (s *simulation) deliverReport(q *process, raw []byte) {
	if q.down {
		s.reports.Network.ToCrashed++
		return
	}
	s.reports.Network.Delivered++
	if !q.honest {
		return
	}
	if len(raw) == 0 {
		s.reports.Refused++
		return
	}
	switch raw[0] {
	case tagReadings:
		var r wire.Readings
		if json.Unmarshal(raw[1:], &r) != nil || !s.verifyReport(q, r.Node, wire.DomainReadings, r.Cluster, r.Sig, &r) {
			s.reports.Refused++
			return
		}
		_ = q.auditor.Add(wallTime(s.now), zone, &r) // stale, duplicate, flood: nothing to do
	case tagOutcome:
		var o wire.Outcome
		if json.Unmarshal(raw[1:], &o) != nil || !s.verifyReport(q, o.Performer, wire.DomainOutcome, o.Cluster, o.Sig, &o) {
			s.reports.Refused++
			return
		}
		s.judgeOutcome(q, &o)
	default:
		s.reports.Refused++
	}
}

// transmitReport puts one report on the virtual network: the same routing
// and faults as consensus messages, counted apart.
func (s *simulation) transmitReport(p, q *process, raw []byte) {
	s.transmitKind(p, q, raw, evReport, &s.reports.Network)
}

// audit is an honest node's periodic look at its auditor: every suspect
// that is still a validator (and not itself: that is a broken sensor, not
// an accusation) is accused. An adversary with a ReportStrategy makes its
// own accusations instead.
func (s *simulation) audit(p *process) {
	p.pruneWatches(s.now)
	if rs, ok := p.strategy.(ReportStrategy); ok {
		for _, c := range rs.Accuse(p.adv) {
			s.accuse(p, c.Node, c.Reason, "")
		}
		return
	}
	if p.auditor == nil {
		return
	}
	for _, acc := range p.auditor.Suspects(wallTime(s.now)) {
		node := consensus.NodeID(acc.Node)
		if node == p.id {
			continue
		}
		if !p.app.vals.Has(node) {
			p.auditor.Forget(acc.Node)
			continue
		}
		s.accuse(p, node, wire.AccuseReadings, acc.Summary)
	}
}
