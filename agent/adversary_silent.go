package agent

import (
	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/wire"
)

// silent: a hung process. Its memberlist still answers probes (the node
// looks alive), its loop still runs, but nothing it writes leaves it: send
// drops consensus messages, readSensors reads nothing, assignments hang
// (hang), and silentReports swallows every MQTT publication. The honest
// nodes must treat it as crashed — reassign its work, decide without it —
// and never eject it: silence is not evidence.

// silentReports publishes nothing and reports success, so the agent does
// not count errors; requests still come in, and Close still closes.
type silentReports struct{ report.Reports }

func (silentReports) PublishCapabilities(*capability.Document) error { return nil }
func (silentReports) PublishReadings(*wire.Readings) error           { return nil }
func (silentReports) PublishObservation(*wire.Observation) error     { return nil }
func (silentReports) PublishDecision(*wire.Decision) error           { return nil }
func (silentReports) PublishOutcome(*wire.Outcome) error             { return nil }
func (silentReports) PublishEjection(*wire.Ejection) error           { return nil }
func (silentReports) PublishError(string, string) error              { return nil }
func (silentReports) SetState(wire.NodeState) error                  { return nil }

var _ report.Reports = silentReports{}
