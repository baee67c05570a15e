package agent

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
	"github.com/seed44533760/pact/internal/version"
)

// requestBuffer is how many requests may wait for the loop: a burst of a
// thousand published at once is taken whole, not refused.
const requestBuffer = 4096

// setupReports connects the node's MQTT side: the one Options gives (tests,
// the demo), a Reporter for the agent file's broker, or none.
func (a *Agent) setupReports(opts Options) error {
	switch {
	case opts.Reports != nil:
		a.reports = opts.Reports
	case a.acfg.MQTT.URL != "":
		r, err := report.New(a.reporterConfig(a.acfg.MQTT))
		if err != nil {
			return fmt.Errorf("mqtt: %w", err)
		}
		a.reports = r
	default:
		a.reports = noReports{}
	}
	return nil
}

// reporterConfig is the Reporter's configuration for the mqtt section m:
// at start (setupReports) and when a reload changed it (reload.go). Every
// Reporter of the node shares the store's outbox, so what one could not
// send the next one does.
func (a *Agent) reporterConfig(m config.MQTT) report.Config {
	cfg := report.FromAgent(m, a.cluster.Name, a.name)
	cfg.Outbox = a.store.Outbox()
	cfg.NextBDSeq = report.FileBDSeq(filepath.Join(a.acfg.DataDir, "mqtt.bdseq"))
	cfg.Operators = a.cluster.OperatorKeys()
	cfg.AllowUnsignedRequests = a.cluster.AllowUnsignedRequests
	cfg.Logger = a.log
	cfg.RequestBuffer = requestBuffer
	if cfg.HomeAssistant != nil {
		cfg.HomeAssistant.SWVersion = version.Version
		cfg.HomeAssistant.Actions = make(map[string]config.Needs, len(a.cluster.Actions))
		for name, act := range a.cluster.Actions {
			cfg.HomeAssistant.Actions[name] = act.Needs
		}
	}
	return cfg
}

// discoveryRemover is the part of a Reports that can take the node's Home
// Assistant entities off the broker (report.Reporter, report.Memory).
type discoveryRemover interface{ RemoveDiscovery() error }

// removeDiscovery takes the node's Home Assistant entities off the broker
// before a reload closes the reporter, when the new settings no longer
// publish them (off, or another prefix). Done at a reload only: at a
// restart the node does not know what an earlier run published.
func (a *Agent) removeDiscovery(old, next config.MQTT) {
	was, is := old.HomeAssistant, next.HomeAssistant
	if !was.Enabled || old.URL == "" || (is.Enabled && is.Prefix == was.Prefix && next.URL != "") {
		return
	}
	if rm, ok := a.reports.(discoveryRemover); ok {
		if err := rm.RemoveDiscovery(); err != nil {
			a.log.Warn("home assistant: removing the entities", "err", err)
			return
		}
		a.log.Info("home assistant: entities removed", "prefix", was.Prefix)
	}
}

// closeReports says goodbye to the broker; what is still in the outbox is
// sent after the next start.
func (a *Agent) closeReports() {
	if a.reports == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := a.reports.Close(ctx); err != nil {
		a.log.Warn("closing the mqtt connection", "err", err)
	}
}

// publishDecision reports a decided height on nodes/<node>/decisions, and
// the ejections it decided on ejections/<node>.
func (a *Agent) publishDecision(c *consensus.Commit, entries []*agreed.Entry) {
	d := &wire.Decision{
		Node:        a.name,
		Height:      c.Block.Height,
		Round:       c.Round,
		Entries:     make([]wire.DecisionEntry, 0, len(entries)),
		Certificate: wire.CertificateOf(c),
	}
	for _, e := range entries {
		d.Entries = append(d.Entries, decisionEntry(e))
	}
	if err := a.reports.PublishDecision(d); err != nil {
		a.counters.reportErrors++
		a.log.Warn("publish decision", "height", c.Block.Height, "err", err)
	}
	for _, e := range entries {
		if e.Type != agreed.TypeEject {
			continue
		}
		j := e.Eject
		ev := wire.Evidence{Type: j.Reason, Data: base64.StdEncoding.EncodeToString(j.Evidence)}
		if cev, err := consensus.UnmarshalEvidence(j.Evidence); err == nil {
			ev.Summary = cev.String()
		}
		if err := a.reports.PublishEjection(&wire.Ejection{Node: j.Node, Height: c.Block.Height, Reason: j.Reason, Evidence: []wire.Evidence{ev}}); err != nil {
			a.counters.reportErrors++
			a.log.Warn("publish ejection", "ejected", j.Node, "err", err)
		}
		if j.Node == a.name {
			_ = a.reports.SetState(wire.StateEjected)
		}
	}
}

// decisionEntry flattens an entry for subscribers (wire.DecisionEntry).
func decisionEntry(e *agreed.Entry) wire.DecisionEntry {
	d := wire.DecisionEntry{Type: e.Type}
	switch e.Type {
	case agreed.TypeAdvertise:
		d.Node, d.Seq = e.Doc.Node, e.Doc.Seq
	case agreed.TypeAdmit:
		d.Node, d.Key, d.Operator = e.Admit.Node, e.Admit.Key, e.Admit.Operator
	case agreed.TypeEject:
		d.Node, d.Reason = e.Eject.Node, e.Eject.Reason
	case agreed.TypeRetire:
		d.Node, d.Key, d.Operator, d.Reason = e.Retire.Node, e.Retire.Key, e.Retire.Operator, e.Retire.Reason
	case agreed.TypeAssign:
		s := e.Assign
		d.Action, d.Instance, d.RequestID, d.Performer = s.Action, s.Instance, s.RequestID, s.Performer
		if len(s.Trigger) > 0 {
			d.Reason = "trigger"
		}
	case agreed.TypeReassign:
		s := e.Reassign
		d.Action, d.Instance, d.RequestID, d.Performer = s.Action, s.Instance, s.RequestID, s.Performer
		d.Node, d.Reason = s.From, s.Reason
	case agreed.TypeRearm:
		d.Action = e.Rearm.Action
	}
	return d
}

// publishCapabilities puts the node's document on the broker (retained).
func (a *Agent) publishCapabilities(doc *capability.Document) {
	if err := a.reports.PublishCapabilities(doc); err != nil {
		a.counters.reportErrors++
		a.log.Debug("publish capabilities", "err", err)
	}
}

// noReports is the MQTT side of an agent without a broker.
type noReports struct{}

var _ report.Reports = noReports{}

func (noReports) PublishCapabilities(*capability.Document) error { return nil }
func (noReports) PublishReadings(*wire.Readings) error           { return nil }
func (noReports) PublishObservation(*wire.Observation) error     { return nil }
func (noReports) PublishDecision(*wire.Decision) error           { return nil }
func (noReports) PublishOutcome(*wire.Outcome) error             { return nil }
func (noReports) PublishEjection(*wire.Ejection) error           { return nil }
func (noReports) PublishError(string, string) error              { return nil }
func (noReports) SetState(wire.NodeState) error                  { return nil }
func (noReports) Requests() <-chan report.InboundRequest         { return nil }
func (noReports) Stats() report.Stats                            { return report.Stats{} }
func (noReports) Close(context.Context) error                    { return nil }
