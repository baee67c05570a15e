package agent

import (
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
	"github.com/seed44533760/pact/internal/version"
)

// Prometheus metrics
//
// GET /metrics on the admin address serves the agent's own registry (never
// the global one: a demo or a test runs many agents in one process). Two
// sources feed it:
//
//   - Everything the loop already counts comes from one snapshot the loop
//     builds on request (metrics_loop.go): the same status() and counterMap
//     that `pact status --json` prints, so the two never disagree. A scrape
//     waits at most metricsLoopTimeout for it, then serves the last one with
//     pact_loop_up 0 — /metrics never hangs on a stuck loop.
//   - What only makes sense as a distribution, or is seen off the loop, is
//     recorded where it happens: decision latency and ejections (loop),
//     action durations and hardware errors (workers, the sampler), action
//     results (loop). Those are client_golang instruments, safe from any
//     goroutine.
//
// docs/METRICS.md lists every metric, what it means and what to alert on.

// AdminMetricsPath is where the admin server serves Prometheus metrics.
const AdminMetricsPath = "/metrics"

// metricsLoopTimeout bounds how long a scrape waits for the loop's snapshot.
const metricsLoopTimeout = time.Second

// Action results, the result label of pact_actions_performed_total.
const (
	resultOK          = "ok"
	resultFailed      = "failed"
	resultInterrupted = "interrupted"
)

// Hardware device kinds, the kind label of pact_hardware_errors_total.
const (
	deviceSensor = "sensor"
	deviceOutput = "output"
)

// ejectionReasons are the reasons an eject entry may carry; each gets its
// pact_ejections_total series at zero from the start, so that increase()
// sees the first ejection.
var ejectionReasons = []string{
	agreed.ReasonEquivocation, agreed.ReasonForgedEntry, agreed.ReasonAccused,
	agreed.ReasonConflictingOutcomes, agreed.ReasonUnassignedOutcome,
}

// Buckets. Decisions take a few rounds of messages on a LAN (tens of ms) up
// to several round timeouts when a proposer is down (seconds to tens of
// seconds). Actions drive an output from a blink (50 ms) to minutes.
var (
	decisionBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30}
	actionBuckets   = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}
)

// agentMetrics is one agent's registry and the instruments recorded where
// their events happen. A nil *agentMetrics records nothing, so agents built
// without New (unit tests) need none.
type agentMetrics struct {
	registry *prometheus.Registry
	handler  http.Handler
	loop     *loopCollector

	// Loop goroutine only: when this node started working on a height
	// (its consensus core became active there), for decision latency.
	startHeight uint64
	heightStart time.Time

	actionsMu sync.Mutex
	actions   map[string]bool // action label values in use

	decisionLatency prometheus.Histogram
	ejections       *prometheus.CounterVec
	performed       *prometheus.CounterVec
	actionDuration  *prometheus.HistogramVec
	sensorReadings  *prometheus.CounterVec
	hardwareErrors  *prometheus.CounterVec
}

// newMetrics builds the agent's registry; New calls it once the board is
// open (its devices name the hardware series).
func newMetrics(a *Agent) *agentMetrics {
	m := &agentMetrics{
		registry: prometheus.NewRegistry(),
		actions:  map[string]bool{},
		decisionLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pact_consensus_decision_latency_seconds",
			Help:    "Time from when this node started working on a height (it had an entry to decide, or heard a peer's proposal or vote) to when it decided that height. Heights this node only learned from a peer's commit certificate, catching up, are not observed.",
			Buckets: decisionBuckets,
		}),
		ejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pact_ejections_total",
			Help: "Nodes ejected from the cluster by heights this node decided since it started, by the reason the eject entry gives.",
		}, []string{"reason"}),
		performed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pact_actions_performed_total",
			Help: "Assignments this node performed, by action and result: ok (the output was driven and read back), failed (an error, reported so the cluster can reassign), interrupted (the agent stopped while driving; reported at the next start, never repeated).",
		}, []string{"action", "result"}),
		actionDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pact_action_duration_seconds",
			Help:    "How long this node took to perform an assignment, from driving the output to putting it back, by action.",
			Buckets: actionBuckets,
		}, []string{"action"}),
		sensorReadings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pact_sensor_readings_total",
			Help: "Readings this node's sensors gave (finite values, signed and shared with the cluster), by sensor.",
		}, []string{"sensor"}),
		hardwareErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pact_hardware_errors_total",
			Help: "Hardware operations that failed on this node, by device kind (sensor: a reading failed or was not a number; output: driving it, reading it back or putting it back failed) and device name.",
		}, []string{"kind", "device"}),
	}
	for name := range a.cluster.Actions {
		m.actions[name] = true
		m.performed.WithLabelValues(name, resultOK)
		m.performed.WithLabelValues(name, resultFailed)
		m.actionDuration.WithLabelValues(name)
	}
	for _, r := range ejectionReasons {
		m.ejections.WithLabelValues(r)
	}
	if a.board != nil {
		for _, s := range a.board.Sensors() {
			m.sensorReadings.WithLabelValues(s.Name())
			m.hardwareErrors.WithLabelValues(deviceSensor, s.Name())
		}
		for _, o := range a.board.Outputs() {
			m.hardwareErrors.WithLabelValues(deviceOutput, o.Name())
		}
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "pact_build_info",
		Help: "Always 1; the labels say which pact build runs here (version and commit as `pact version` prints them).",
		ConstLabels: prometheus.Labels{
			"version": version.Version, "commit": version.Commit,
			"goversion": runtime.Version(), "goarch": runtime.GOARCH,
		},
	})
	buildInfo.Set(1)
	m.loop = newLoopCollector(a)
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo, m.loop,
		m.decisionLatency, m.ejections, m.performed, m.actionDuration,
		m.sensorReadings, m.hardwareErrors,
	)
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		// A collector that fails (the process collector on an odd
		// kernel) costs its own series, not the whole scrape.
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	})
	return m
}

// noteActive marks the start of the height the consensus core is on, the
// first time the loop sees it active there; loop goroutine, after each
// event. An idle cluster has no height in progress: latency counts from
// the work, not from the previous decision.
func (m *agentMetrics) noteActive(n *consensus.Node) {
	if m == nil {
		return
	}
	h := n.Height()
	if h == m.startHeight && !m.heightStart.IsZero() {
		return
	}
	if n.Status().Active {
		m.startHeight, m.heightStart = h, time.Now()
	}
}

// decided records a decided height: its latency when this node saw the
// height start, and its ejections; loop goroutine.
func (m *agentMetrics) decided(c *consensus.Commit, entries []*agreed.Entry) {
	if m == nil {
		return
	}
	if c.Block.Height == m.startHeight && !m.heightStart.IsZero() {
		m.decisionLatency.Observe(time.Since(m.heightStart).Seconds())
	}
	m.heightStart = time.Time{}
	for _, e := range entries {
		if e.Type == agreed.TypeEject {
			m.ejections.WithLabelValues(e.Eject.Reason).Inc()
		}
	}
}

// performedOutcome counts one of this node's own outcomes by result; loop
// goroutine (performedOutcome).
func (m *agentMetrics) performedOutcome(o *wire.Outcome) {
	if m == nil {
		return
	}
	result := resultFailed
	switch {
	case o.OK:
		result = resultOK
	case strings.HasPrefix(o.Error, "interrupted"):
		result = resultInterrupted
	}
	m.performed.WithLabelValues(m.actionLabel(o.Action), result).Inc()
}

// drove records how long driving an output for an assignment took, and a
// hardware error if it failed; output worker goroutines.
func (m *agentMetrics) drove(j job, took time.Duration, err error) {
	if m == nil {
		return
	}
	m.actionDuration.WithLabelValues(m.actionLabel(j.action)).Observe(took.Seconds())
	if err != nil {
		m.hardwareErrors.WithLabelValues(deviceOutput, j.output).Inc()
	}
}

// sensed counts one sensor reading, good or failed; sampling goroutine.
func (m *agentMetrics) sensed(sensor string, ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.sensorReadings.WithLabelValues(sensor).Inc()
	} else {
		m.hardwareErrors.WithLabelValues(deviceSensor, sensor).Inc()
	}
}

// maxActionLabels bounds the action label's values. The agreed state
// assigns only the catalogue's actions, so the bound is a guard against a
// bug, not a limit an operator meets.
const maxActionLabels = 256

// actionLabel is the action label for an action name: the name, unless
// maxActionLabels names are in use already.
func (m *agentMetrics) actionLabel(action string) string {
	m.actionsMu.Lock()
	defer m.actionsMu.Unlock()
	if !m.actions[action] {
		if len(m.actions) >= maxActionLabels {
			return "other"
		}
		m.actions[action] = true
	}
	return action
}
