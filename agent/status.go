package agent

import (
	"context"
	"encoding/base64"
	"maps"
	"sort"
	"time"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/consensus"
)

func consensusID(name string) consensus.NodeID { return consensus.NodeID(name) }

// Status is what `pact status --json` prints. The fields node, height,
// validators, members and ejected are part of the contract (DESIGN.md 4).
type Status struct {
	Node       string         `json:"node"`
	Cluster    string         `json:"cluster"`
	Height     uint64         `json:"height"` // last decided height
	Round      int32          `json:"round"`
	Step       string         `json:"step"`
	Validator  bool           `json:"validator"`
	Validators []string       `json:"validators"`
	Members    []MemberStatus `json:"members"`
	Candidates []string       `json:"candidates"`
	// CandidateKeys are the public keys candidates announce in their meta:
	// what `pact admit` signs an admission for.
	CandidateKeys map[string]string               `json:"candidate_keys"`
	Ejected       []string                        `json:"ejected"`
	Retired       []string                        `json:"retired"` // by pact retire; pact admit brings them back
	Capabilities  map[string]*capability.Document `json:"capabilities"`
	// Announced are documents peers announced that are not committed (yet):
	// candidates', and validators' changes on their way to a decision.
	Announced    map[string]*capability.Document `json:"announced"`
	LastDecision string                          `json:"last_decision,omitempty"`
	Halted       string                          `json:"halted,omitempty"`
	Counters     map[string]uint64               `json:"counters"`
}

// MemberStatus is one memberlist member as this node sees it.
type MemberStatus struct {
	Name  string `json:"name"`
	State string `json:"state"`
	Addr  string `json:"addr"`
}

// Status asks the loop for a snapshot; it fails if the loop does not answer
// within ctx.
func (a *Agent) Status(ctx context.Context) (Status, error) {
	reply := make(chan Status, 1)
	select {
	case a.statusReq <- reply:
	case <-ctx.Done():
		return Status{}, ctx.Err()
	}
	select {
	case s := <-reply:
		return s, nil
	case <-ctx.Done():
		return Status{}, ctx.Err()
	}
}

// status builds the snapshot; loop goroutine only.
func (a *Agent) status() Status {
	cs := a.node.Status()
	s := Status{
		Node:          a.name,
		Cluster:       a.cluster.Name,
		Height:        a.state.Height,
		Round:         cs.Round,
		Step:          cs.Step.String(),
		Validator:     a.node.Validators().Has(consensusID(a.name)),
		Validators:    a.state.ValidatorNames(),
		Ejected:       a.state.EjectedNames(),
		Retired:       a.state.RetiredNames(),
		Capabilities:  maps.Clone(a.state.Capabilities), // the loop keeps writing its own
		Announced:     maps.Clone(a.announced),
		Members:       []MemberStatus{},
		Candidates:    []string{},
		CandidateKeys: map[string]string{},
		Counters:      a.counterMap(),
	}
	if !a.lastDecide.IsZero() {
		s.LastDecision = a.lastDecide.UTC().Format(time.RFC3339)
	}
	if a.halted != nil {
		s.Halted = a.halted.Error()
	}
	if a.members != nil {
		for _, m := range a.members.Members() {
			s.Members = append(s.Members, MemberStatus{Name: m.Name, State: m.State.String(), Addr: m.Addr})
			if !a.state.ValidatorSet().Has(consensusID(m.Name)) && m.State.Reachable() && !a.state.IsEjected(m.Name) {
				s.Candidates = append(s.Candidates, m.Name)
				if meta, err := decodeMeta(m.Meta); err == nil {
					s.CandidateKeys[m.Name] = base64.StdEncoding.EncodeToString(meta.key)
				}
			}
		}
	} else if a.memLink != nil {
		s.Members = append(s.Members, MemberStatus{Name: a.name, State: "alive", Addr: "memory"})
		for _, p := range a.memLink.Peers() {
			s.Members = append(s.Members, MemberStatus{Name: p, State: "alive", Addr: "memory"})
		}
	}
	sort.Slice(s.Members, func(i, j int) bool { return s.Members[i].Name < s.Members[j].Name })
	sort.Strings(s.Candidates)
	return s
}

// counterMap is the counters `pact status --json` shows and /metrics
// exports (metrics_loop.go): monotonic totals, and a few levels (pending,
// open, connected, health_score) that metricFamilies marks as gauges. Loop
// goroutine only: the consensus node's stats are the loop's.
func (a *Agent) counterMap() map[string]uint64 {
	st := a.node.Stats()
	ts := a.net.Stats()
	cached, verified := a.verifier.Stats()
	m := map[string]uint64{
		"consensus_received":         st.Received,
		"consensus_bad_signatures":   st.BadSignatures,
		"consensus_unknown_senders":  st.UnknownSenders,
		"consensus_equivocations":    st.Equivocations,
		"consensus_guard_refusals":   st.GuardRefusals,
		"consensus_round_changes":    st.RoundChanges,
		"consensus_decided":          st.Decided,
		"consensus_catchup_applied":  st.CatchUpApplied,
		"consensus_catchup_served":   st.CatchUpServed,
		"consensus_bad_certificates": st.BadCertificates,
		"consensus_duplicates":       st.Duplicates,
		"consensus_malformed":        st.Malformed,
		"consensus_not_proposer":     st.NotProposer,
		"consensus_stale":            st.Stale,
		"consensus_future_buffered":  st.FutureBuffered,
		"consensus_future_dropped":   st.FutureDropped,
		"consensus_invalid_blocks":   st.InvalidBlocks,
		"consensus_dropped_entries":  st.DroppedEntries,
		"consensus_bad_prepared":     st.BadPreparedBlocks,
		"consensus_pending":          uint64(a.node.Status().Pending),
		"signatures_verified":        verified,
		"signatures_cached":          cached,
		"agent_refused_messages":     a.counters.refusedMessages,
		"agent_refused_entries":      a.counters.refusedEntries,
		"agent_store_errors":         a.counters.storeErrors,
		"agent_report_errors":        a.counters.reportErrors,
		"requests_received":          a.counters.requestsReceived,
		"requests_refused":           a.counters.requestsRefused,
		"requests_pending":           uint64(len(a.requests)),
		"actions_performed":          a.counters.performed,
		"actions_dropped":            a.counters.performDropped,
		"actions_abandoned":          a.counters.abandoned,
		"outcomes_ok":                a.counters.outcomesOK,
		"outcomes_failed":            a.counters.outcomesFailed,
		"outcomes_refused":           a.counters.refusedOutcomes,
		"outcome_queries":            a.counters.outcomeQueries,
		"outcome_answers":            a.counters.outcomeAnswers,
		"readings_taken":             a.counters.readings,
		"readings_refused":           a.counters.refusedReadings,
		"assignments_open":           uint64(len(a.open)),
		"observations_made":          a.counters.observations,
		"observations_refused":       a.counters.refusedObservations,
		"accusations_made":           a.counters.accusationsMade,
		"effects_contradicted":       a.counters.effectsContradicted,
		"accusations_heard":          a.counters.accusationsHeard,
		"accusations_refused":        a.counters.refusedAccusations,
		"readings_audit_refused":     a.counters.auditRefused,
	}
	rs := a.reports.Stats()
	for k, v := range map[string]uint64{
		"connects": rs.Connects, "connections_lost": rs.ConnectionsLost, "queued": rs.Queued,
		"delivered": rs.Delivered, "resent": rs.Resent, "outbox_errors": rs.OutboxErrors,
		"pending": uint64(rs.Pending), "published": rs.Published, "dropped": rs.Dropped,
		"requests_received": rs.RequestsReceived, "requests_malformed": rs.RequestsMalformed,
		"requests_refused": rs.RequestsRefused, "requests_dropped": rs.RequestsDropped,
		"requests_delivered": rs.RequestsDelivered, "connected": boolCount(rs.Connected),
	} {
		m["mqtt_"+k] = v
	}
	for k, v := range map[string]uint64{
		"received": ts.Received, "delivered": ts.Delivered, "malformed": ts.Malformed,
		"unknown_kind": ts.UnknownKind, "bad_signature": ts.BadSignature,
		"unknown_sender": ts.UnknownSender, "rate_limited": ts.RateLimited, "busy": ts.Busy,
		"inbound_full": ts.InboundFull, "sent_best_effort": ts.SentBestEffort,
		"sent_reliable": ts.SentReliable, "send_errors": ts.SendErrors,
		"candidate_status": ts.CandidateStatus, "oversize_reliable": ts.OversizeReliable,
		"send_queue_full": ts.SendQueueFull, "send_dropped": ts.SendDropped,
	} {
		m["transport_"+k] = v
	}
	if a.members != nil {
		ms := a.members.Stats()
		for k, v := range map[string]uint64{
			"join_attempts": ms.JoinAttempts, "join_failures": ms.JoinFailures,
			"refused_ejected": ms.RefusedEjected, "refused_wrong_key": ms.RefusedWrongKey,
			"refused_bad_meta": ms.RefusedBadMeta, "refused_other": ms.RefusedOther,
			"merges_refused": ms.MergesRefused, "hidden": ms.Hidden,
			"suspicions": ms.Suspicions, "refutations": ms.Refutations,
			"messages_received": ms.MessagesReceived, "messages_dropped": ms.MessagesDropped,
			"mdns_queries": ms.MDNSQueries, "mdns_found": ms.MDNSFound,
			"health_score": uint64(max(a.members.HealthScore(), 0)),
		} {
			m["membership_"+k] = v
		}
	}
	return m
}

func boolCount(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
