package agent

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed44533760/pact/agent/membership"
)

// The loop's metrics: one snapshot per scrape, taken on the loop goroutine
// from status() and counterMap — the numbers `pact status --json` shows —
// and turned into constant metrics on the scraping goroutine.

// metricsSnapshot is what the loop hands a scrape.
type metricsSnapshot struct {
	status     Status
	ejected    map[string]int // reason → nodes ejected for it, in the agreed state
	lastDecide time.Time
	broker     bool // an MQTT side is configured: pact_mqtt_connected means something
	at         time.Time
}

// metricsSnapshot builds the snapshot; loop goroutine only.
func (a *Agent) metricsSnapshot() *metricsSnapshot {
	s := &metricsSnapshot{status: a.status(), ejected: map[string]int{}, lastDecide: a.lastDecide, at: time.Now()}
	for _, j := range a.state.Ejected {
		s.ejected[j.Reason]++
	}
	_, none := a.reports.(noReports)
	s.broker = !none
	return s
}

// metricFamily exports counterMap entries as one metric: without a label,
// one series; with one, a series per (label value, counterMap key). A key
// missing from the map (membership's, on an in-memory network) is skipped.
type metricFamily struct {
	name, help string
	kind       prometheus.ValueType
	label      string
	series     []metricSeries
	desc       *prometheus.Desc
}

type metricSeries struct{ value, key string }

func counterOf(name, key, help string) *metricFamily {
	return &metricFamily{name: name, help: help, kind: prometheus.CounterValue, series: []metricSeries{{key: key}}}
}

func gaugeOf(name, key, help string) *metricFamily {
	return &metricFamily{name: name, help: help, kind: prometheus.GaugeValue, series: []metricSeries{{key: key}}}
}

// countersBy takes label value, key pairs.
func countersBy(name, label, help string, pairs ...string) *metricFamily {
	f := &metricFamily{name: name, help: help, kind: prometheus.CounterValue, label: label}
	for i := 0; i+1 < len(pairs); i += 2 {
		f.series = append(f.series, metricSeries{value: pairs[i], key: pairs[i+1]})
	}
	return f
}

// metricFamilies maps every counterMap key but those in exportedElsewhere to
// a metric. TestMetrics_EveryCounterExported keeps the two in step.
func metricFamilies() []*metricFamily {
	fs := []*metricFamily{
		// Consensus.
		counterOf("pact_consensus_messages_received_total", "consensus_received",
			"Consensus messages (proposals, votes, statuses, commits) handed to this node's consensus core after the transport checked them."),
		countersBy("pact_consensus_messages_dropped_total", "reason",
			"Consensus messages the consensus core dropped, by reason: duplicate, malformed, bad_signature, unknown_sender (not a validator), not_proposer, stale (a past height; harmless), future_dropped (too far ahead), invalid_block (the proposal broke the agreed rules), bad_certificate (a commit certificate that did not verify).",
			"duplicate", "consensus_duplicates", "malformed", "consensus_malformed",
			"bad_signature", "consensus_bad_signatures", "unknown_sender", "consensus_unknown_senders",
			"not_proposer", "consensus_not_proposer", "stale", "consensus_stale",
			"future_dropped", "consensus_future_dropped", "invalid_block", "consensus_invalid_blocks",
			"bad_certificate", "consensus_bad_certificates"),
		counterOf("pact_consensus_messages_buffered_total", "consensus_future_buffered",
			"Consensus messages for the next height kept until this node gets there."),
		counterOf("pact_consensus_round_changes_total", "consensus_round_changes",
			"Rounds this node entered after round 0 of a height: each is a proposer that was slow, down or refused. A steady rate means the cluster decides slowly."),
		countersBy("pact_consensus_heights_total", "via",
			"Heights this node decided: via rounds (it voted or watched the votes) or catchup (it learned a commit certificate from a peer after falling behind).",
			"rounds", "consensus_decided", "catchup", "consensus_catchup_applied"),
		counterOf("pact_consensus_catchup_served_total", "consensus_catchup_served",
			"Commits this node sent to peers that were behind."),
		counterOf("pact_consensus_equivocations_total", "consensus_equivocations",
			"Equivocations this node proved: a validator signed two different proposals or votes for one height and round. Each leads to an ejection."),
		counterOf("pact_consensus_guard_refusals_total", "consensus_guard_refusals",
			"Signatures this node's double-sign guard refused to make. Non-zero after a restore from an old backup or with two processes on one key."),
		counterOf("pact_consensus_entries_dropped_total", "consensus_dropped_entries",
			"Entries waiting to be decided that the agreed state no longer accepted (usually decided meanwhile, or superseded)."),
		counterOf("pact_consensus_bad_prepared_blocks_total", "consensus_bad_prepared",
			"Blocks this node built as proposer that failed its own validation (a bug: the pending entries were proposed instead)."),
		gaugeOf("pact_consensus_pending_entries", "consensus_pending",
			"Entries this node's consensus core holds to be decided."),

		// Transport.
		counterOf("pact_transport_frames_received_total", "transport_received",
			"Frames that arrived from peers."),
		counterOf("pact_transport_frames_delivered_total", "transport_delivered",
			"Frames that passed the transport's checks and reached the agent loop."),
		countersBy("pact_transport_frames_dropped_total", "reason",
			"Frames from peers the transport dropped, by reason: malformed, unknown_kind, bad_signature, unknown_sender (not a validator now), rate_limited (over the sender's budget: a flood), busy (the verification workers were behind), inbound_full (the agent loop was behind).",
			"malformed", "transport_malformed", "unknown_kind", "transport_unknown_kind",
			"bad_signature", "transport_bad_signature", "unknown_sender", "transport_unknown_sender",
			"rate_limited", "transport_rate_limited", "busy", "transport_busy",
			"inbound_full", "transport_inbound_full"),
		counterOf("pact_transport_candidate_status_total", "transport_candidate_status",
			"Status messages from nodes that are not validators (candidates following the chain), passed on unverified."),
		countersBy("pact_transport_frames_sent_total", "mode",
			"Frames this node handed to the network, per peer: best_effort (datagrams) or reliable (streams).",
			"best_effort", "transport_sent_best_effort", "reliable", "transport_sent_reliable"),
		counterOf("pact_transport_oversize_reliable_total", "transport_oversize_reliable",
			"Votes and statuses too big for one datagram, sent reliably instead."),
		countersBy("pact_transport_send_failures_total", "reason",
			"Frames this node could not send, by reason: error (the network refused or failed the send), queue_full (the peer's reliable queue was full), expired (waited past the send timeout, or the peer was unreachable).",
			"error", "transport_send_errors", "queue_full", "transport_send_queue_full",
			"expired", "transport_send_dropped"),

		// Signatures, across layers (also counted among the drops above).
		countersBy("pact_signature_failures_total", "layer",
			"Signatures that did not verify, by where: transport (a peer's frame), consensus (a proposal or vote), certificate (a commit certificate), request (an operator request from MQTT: forged, unknown operator, unsigned). Honest nodes produce none: any increase is a forger, a replay or a misconfigured key.",
			"transport", "transport_bad_signature", "consensus", "consensus_bad_signatures",
			"certificate", "consensus_bad_certificates", "request", "mqtt_requests_refused"),

		// Membership (memberlist).
		counterOf("pact_membership_join_attempts_total", "membership_join_attempts",
			"Attempts to join the cluster through the seeds or mDNS answers."),
		counterOf("pact_membership_join_failures_total", "membership_join_failures",
			"Join attempts in which no node answered."),
		countersBy("pact_membership_peers_refused_total", "reason",
			"Gossip about peers this node refused, by reason: ejected (a node the cluster ejected), wrong_key (its identity key differs from the agreed one), bad_meta (unreadable node metadata), other. Counted per message, so a refused node that keeps trying keeps counting.",
			"ejected", "membership_refused_ejected", "wrong_key", "membership_refused_wrong_key",
			"bad_meta", "membership_refused_bad_meta", "other", "membership_refused_other"),
		counterOf("pact_membership_merges_refused_total", "membership_merges_refused",
			"Joins cancelled because the joining side listed a refused node."),
		counterOf("pact_membership_hidden_total", "membership_hidden",
			"Members taken out of the member list after the cluster ejected them."),
		counterOf("pact_membership_suspicions_total", "membership_suspicions",
			"Peers this node's own probes found unresponsive."),
		counterOf("pact_membership_refutations_total", "membership_refutations",
			"Times peers suspected this node or declared it dead while it ran, and it refuted: false suspicions against it (a slow or overloaded node, or a lossy link)."),
		counterOf("pact_membership_messages_received_total", "membership_messages_received",
			"Messages memberlist handed to the transport."),
		counterOf("pact_membership_messages_dropped_total", "membership_messages_dropped",
			"Messages that arrived before the agent was ready for them."),
		counterOf("pact_membership_mdns_queries_total", "membership_mdns_queries",
			"mDNS queries sent to find peers."),
		counterOf("pact_membership_mdns_found_total", "membership_mdns_found",
			"mDNS answers naming a node of this cluster that was not yet a member."),
		gaugeOf("pact_membership_health_score", "membership_health_score",
			"memberlist's (Lifeguard) view of this node's own health: 0 is healthy; higher means its probes keep failing in ways that suggest it is the slow one."),

		// The agent.
		countersBy("pact_agent_refused_total", "what",
			"Input the agent loop refused after the transport passed it, by what: consensus_message (the consensus core refused it, stale ones aside), entry (an entry peers asked to decide that the agreed state refused; mostly harmless: decided a moment ago), outcome, readings, observation (a witness's), accusation.",
			"consensus_message", "agent_refused_messages", "entry", "agent_refused_entries",
			"outcome", "outcomes_refused", "readings", "readings_refused",
			"observation", "observations_refused", "accusation", "accusations_refused"),
		counterOf("pact_readings_audit_refused_total", "readings_audit_refused",
			"Signed readings the consistency audit refused: malformed, stale, too far in the future, duplicates (replays) or over its per-node budget (a flood)."),
		counterOf("pact_store_errors_total", "agent_store_errors",
			"Failures to persist the consensus state. After the first, the node stops signing until restarted after repair: alert on any."),
		counterOf("pact_report_errors_total", "agent_report_errors",
			"Decisions, outcomes and readings the agent could not hand to its MQTT side."),
		counterOf("pact_requests_received_total", "requests_received",
			"Operator requests the agent loop took from MQTT."),
		counterOf("pact_requests_refused_total", "requests_refused",
			"Operator requests the agent refused (a replayed id, an unknown action, bad parameters, no node able to perform it in time); each is answered on the errors topic."),
		gaugeOf("pact_requests_pending", "requests_pending",
			"Operator requests waiting to be assigned."),
		counterOf("pact_actions_dropped_total", "actions_dropped",
			"Assignments of this node dropped because too many waited for one output (the cluster reassigns them)."),
		counterOf("pact_actions_abandoned_total", "actions_abandoned",
			"Action instances that failed with no node left to try them."),
		gaugeOf("pact_assignments_open", "assignments_open",
			"Assignments this node follows until their outcome or deadline."),
		countersBy("pact_outcomes_total", "result",
			"Signed outcomes this node verified and recorded, its own and its peers', by result (ok, failed).",
			"ok", "outcomes_ok", "failed", "outcomes_failed"),
		counterOf("pact_signatures_verified_total", "signatures_verified",
			"Consensus message signatures this node verified with Ed25519 (each valid one once)."),
		counterOf("pact_signatures_cached_total", "signatures_cached",
			"Consensus message signatures found already verified (the transport checked them; the core did not have to again)."),
		counterOf("pact_outcome_queries_total", "outcome_queries",
			"Performers this node asked for an outcome it had not heard of by the action's deadline."),
		counterOf("pact_outcome_answers_total", "outcome_answers",
			"Outcomes this node sent again because a peer asked for them."),
		counterOf("pact_observations_total", "observations_made",
			"Edges this node's witness inputs saw on other nodes' outputs."),
		counterOf("pact_accusations_made_total", "accusations_made",
			"Signed accusations this node made against a peer it caught misbehaving (f+1 distinct accusers eject a node)."),
		counterOf("pact_accusations_heard_total", "accusations_heard",
			"Accusations by peers this node verified and kept."),
		counterOf("pact_effects_contradicted_total", "effects_contradicted",
			"Ok outcomes of actions verified by sensor whose trigger median did not move the expected way while they ran."),
		counterOf("pact_readings_kept_total", "readings_taken",
			"Signed sensor readings kept as the newest of their node, this node's and its peers'. Triggers are judged on them."),

		// MQTT (the reporter).
		counterOf("pact_mqtt_connects_total", "mqtt_connects",
			"Connections to the MQTT broker made (each publishes the node's birth)."),
		counterOf("pact_mqtt_connection_losses_total", "mqtt_connections_lost",
			"Connections to the MQTT broker that ended without the agent closing them."),
		gaugeOf("pact_mqtt_outbox_pending", "mqtt_pending",
			"Durable messages (decisions, outcomes, ejections) waiting in the outbox for the broker's acknowledgement. Grows while the broker is away; sent after it returns."),
		counterOf("pact_mqtt_outbox_queued_total", "mqtt_queued",
			"Durable messages written to the outbox."),
		counterOf("pact_mqtt_outbox_delivered_total", "mqtt_delivered",
			"Outbox messages the broker acknowledged."),
		counterOf("pact_mqtt_outbox_resent_total", "mqtt_resent",
			"Outbox messages published again after an unacknowledged attempt (a subscriber may see those twice)."),
		counterOf("pact_mqtt_outbox_errors_total", "mqtt_outbox_errors",
			"Failed writes to the outbox: the message was not queued."),
		counterOf("pact_mqtt_published_total", "mqtt_published",
			"Best-effort messages (states, capabilities, readings, errors) the broker took."),
		counterOf("pact_mqtt_dropped_total", "mqtt_dropped",
			"Best-effort messages given up: queue full, broker down, or no acknowledgement in time."),
		counterOf("pact_mqtt_requests_received_total", "mqtt_requests_received",
			"Messages that arrived on the requests topics."),
		counterOf("pact_mqtt_requests_delivered_total", "mqtt_requests_delivered",
			"Requests that passed the reporter's checks and went to the agent loop."),
		countersBy("pact_mqtt_requests_rejected_total", "reason",
			"Requests the reporter rejected (each answered on the errors topic), by reason: malformed, bad_signature (forged, unknown operator, another cluster, unsigned), full (valid, but the agent's request queue was full).",
			"malformed", "mqtt_requests_malformed", "bad_signature", "mqtt_requests_refused",
			"full", "mqtt_requests_dropped"),
	}
	for _, f := range fs {
		var labels []string
		if f.label != "" {
			labels = []string{f.label}
		}
		f.desc = prometheus.NewDesc(f.name, f.help, labels, nil)
	}
	return fs
}

// exportedElsewhere are counterMap keys with no metricFamily: exported
// another way, or not worth a series. TestMetrics_EveryCounterExported
// allows exactly these.
var exportedElsewhere = map[string]string{
	"actions_performed": "pact_actions_performed_total, by action and result (metrics.go)",
	"mqtt_connected":    "pact_mqtt_connected, only when a broker is configured",
}

// loopCollector turns the loop's snapshot into metrics.
type loopCollector struct {
	a        *Agent
	families []*metricFamily
	timeout  time.Duration

	up, age, height, round, validator, validators     *prometheus.Desc
	members, candidates, ejected, halted, lastDecided *prometheus.Desc
	mqttConnected, nodeInfo                           *prometheus.Desc

	mu   sync.Mutex
	last *metricsSnapshot
}

var _ prometheus.Collector = (*loopCollector)(nil)

func newLoopCollector(a *Agent) *loopCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &loopCollector{
		a: a, families: metricFamilies(), timeout: metricsLoopTimeout,
		up: d("pact_loop_up",
			"1 if the agent loop answered this scrape in time; 0 if it did not, and the pact_ metrics taken from it are the last it gave (see pact_loop_snapshot_age_seconds). A loop that stays stuck is a hung agent: alert on 0 for a minute."),
		age: d("pact_loop_snapshot_age_seconds",
			"How old the agent loop's numbers in this scrape are: about 0 while pact_loop_up is 1."),
		height: d("pact_consensus_height",
			"The last height this node decided (what `pact status` shows as height). Nodes of a healthy cluster agree within a height or two."),
		round: d("pact_consensus_round",
			"The round this node is in at the height it is deciding; above 0 means proposers failed at this height."),
		validator: d("pact_consensus_validator",
			"1 if this node is a validator (votes); 0 for a candidate waiting for `pact admit`, or a node the cluster ejected."),
		validators: d("pact_consensus_validators",
			"Validators in the agreed state. The cluster tolerates f faulty ones where validators = 3f+1 (or more)."),
		members: d("pact_members",
			"Members of the gossip cluster by the state this node sees them in (this node included): alive, suspect (its probes failed), dead (declared failed), left (left cleanly).",
			"state"),
		candidates: d("pact_membership_candidates",
			"Reachable members that are not validators and not ejected: nodes waiting for `pact admit`."),
		ejected: d("pact_ejected_nodes",
			"Nodes ejected in the agreed state (every honest node agrees on them), by the reason the ejection gives.",
			"reason"),
		halted: d("pact_agent_halted",
			"1 if this node stopped signing because its store failed (see pact_store_errors_total); it needs an operator."),
		lastDecided: d("pact_consensus_last_decision_timestamp_seconds",
			"Unix time of the last height this node decided since it started; absent before the first."),
		mqttConnected: d("pact_mqtt_connected",
			"1 while the connection to the MQTT broker is up, 0 while it is not; absent when the agent has no broker configured."),
		nodeInfo: d("pact_node_info",
			"Always 1; the labels name this node, its cluster and zone.",
			"node", "cluster", "zone"),
	}
}

// Describe sends every descriptor the collector may use.
func (c *loopCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range c.families {
		ch <- f.desc
	}
	for _, d := range []*prometheus.Desc{c.up, c.age, c.height, c.round, c.validator, c.validators,
		c.members, c.candidates, c.ejected, c.halted, c.lastDecided, c.mqttConnected, c.nodeInfo} {
		ch <- d
	}
}

// Collect asks the loop for a snapshot and sends its metrics.
func (c *loopCollector) Collect(ch chan<- prometheus.Metric) {
	s, fresh := c.snapshot()
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, boolValue(fresh))
	cfg := c.a.acfg
	ch <- prometheus.MustNewConstMetric(c.nodeInfo, prometheus.GaugeValue, 1, c.a.name, c.a.cluster.Name, cfg.Zone)
	if s == nil {
		return // the loop never answered: nothing to say rather than zeros
	}
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, time.Since(s.at).Seconds())
	for _, f := range c.families {
		for _, sr := range f.series {
			v, ok := s.status.Counters[sr.key]
			if !ok {
				continue
			}
			var labels []string
			if f.label != "" {
				labels = []string{sr.value}
			}
			ch <- prometheus.MustNewConstMetric(f.desc, f.kind, float64(v), labels...)
		}
	}
	st := &s.status
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(c.height, float64(st.Height))
	gauge(c.round, float64(st.Round))
	gauge(c.validator, boolValue(st.Validator))
	gauge(c.validators, float64(len(st.Validators)))
	gauge(c.candidates, float64(len(st.Candidates)))
	gauge(c.halted, boolValue(st.Halted != ""))
	if !s.lastDecide.IsZero() {
		gauge(c.lastDecided, float64(s.lastDecide.UnixNano())/1e9)
	}
	if s.broker {
		gauge(c.mqttConnected, float64(st.Counters["mqtt_connected"]))
	}
	for _, state := range countByState(st.Members) {
		gauge(c.members, float64(state.n), state.name)
	}
	reasons := map[string]int{}
	for _, r := range ejectionReasons {
		reasons[r] = 0
	}
	for r, n := range s.ejected {
		reasons[r] += n
	}
	for r, n := range reasons {
		gauge(c.ejected, float64(n), r)
	}
}

type stateCount struct {
	name string
	n    int
}

// countByState counts members by state, every membership state present
// (at zero) so that a series does not vanish when its last member leaves it.
func countByState(members []MemberStatus) []stateCount {
	n := map[string]int{}
	for s := membership.StateAlive; s <= membership.StateLeft; s++ {
		n[s.String()] = 0
	}
	for _, m := range members {
		n[m.State]++
	}
	out := make([]stateCount, 0, len(n))
	for name, k := range n {
		out = append(out, stateCount{name, k})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// snapshot asks the loop for a new snapshot, waiting at most c.timeout; it
// returns the last one and false when the loop does not answer.
func (c *loopCollector) snapshot() (*metricsSnapshot, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	reply := make(chan *metricsSnapshot, 1) // the loop never blocks on a scrape that gave up
	var s *metricsSnapshot
	select {
	case c.a.inspectReq <- func() { reply <- c.a.metricsSnapshot() }:
		select {
		case s = <-reply:
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == nil {
		return c.last, false
	}
	if c.last == nil || s.at.After(c.last.at) {
		c.last = s
	}
	return s, true
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
