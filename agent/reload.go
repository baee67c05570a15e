package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/hw"
)

// Reloading the agent file (SIGHUP)
//
// Reload reads the agent file again, and the cluster file it names, and
// applies what can change under a running node:
//
//   - log.level, through the slog.LevelVar the logger was built with
//     (Options.LogLevel); log.format needs a restart;
//   - mqtt.*: the node says goodbye to the old broker and connects with the
//     new settings, and so publishes its Home Assistant configurations
//     again (mqtt.home_assistant), or removes them from the old broker when
//     discovery was turned off or its prefix changed. Decisions, outcomes and ejections not yet acknowledged
//     stay in the store's outbox and go out on the new connection. The
//     new settings are checked (password and TLS files too) before the old
//     connection is closed, so a mistake leaves it running. The old
//     reporter is closed before the new one connects, not after: both
//     would use one client id (the broker would throw them off in turn,
//     publishing "lost" wills) and one outbox (which one sender owns);
//   - hardware.outputs[i].max_on and min_off, through the board's limits
//     (hw.LimitSetter), when nothing else about that output changed;
//   - constraints.max_duty: the capability document is signed again and
//     advertised to the cluster, which decides it like any other change.
//
// Everything else in the agent file (node, bind, seeds, data_dir, keys,
// admin, zone, pins and drivers, …) is logged as changed, needs a restart.
// The cluster file is never reloaded: it is part of what the validators
// agreed on (its action catalogue and triggers decide what the cluster
// does), and one node changing it alone would make it disagree with the
// others. Its changes need a restart of every node.
//
// The file is read and validated on the caller's goroutine; the diff and
// the changes run on the loop, which owns everything they touch. An invalid
// file is logged problem by problem and changes nothing.

// reloadState is what Reload needs from New.
type reloadState struct {
	file       string         // the agent file New's configuration came from
	level      *slog.LevelVar // Options.LogLevel; nil: levels need a restart
	ownReports bool           // the agent built its MQTT side from mqtt.*
	requests   chan reloadRequest
}

func newReloadState(acfg *config.Agent, opts Options) reloadState {
	return reloadState{file: acfg.File(), level: opts.LogLevel, ownReports: opts.Reports == nil, requests: make(chan reloadRequest)}
}

type reloadRequest struct {
	acfg    *config.Agent
	cluster *config.Cluster
	reply   chan Reloaded
}

// Reloaded is what one reload found and did.
type Reloaded struct {
	// Applied are the changes in effect now.
	Applied []config.Change
	// Restart are agent-file changes that take effect at the next start.
	Restart []config.Change
	// Failed are changes that could not be applied; the running value
	// stays. Each says why.
	Failed []string
	// Cluster are the cluster file's keys that changed: not reloaded, they
	// need a restart of every node.
	Cluster []string
}

// ErrNoConfigFile: the agent was built from a configuration made in code,
// so there is no file to reload.
var ErrNoConfigFile = errors.New("the agent's configuration was not loaded from a file")

// Reload reads the agent file again and applies what may change while the
// node runs (see above); it is what SIGHUP does. It returns once the loop
// has applied the changes, or with the file's problems, or when ctx ends.
// Whatever it does, it logs.
func (a *Agent) Reload(ctx context.Context) (Reloaded, error) {
	file := a.reload.file
	if file == "" {
		return Reloaded{}, ErrNoConfigFile
	}
	acfg, cluster, err := config.Load(file)
	if err != nil {
		ps := config.Problems(err)
		a.log.Error("reload refused: the file has problems; the running configuration stays", "file", file, "problems", max(len(ps), 1))
		for _, p := range ps {
			a.log.Error("reload refused", "problem", p.Error())
		}
		if len(ps) == 0 {
			a.log.Error("reload refused", "err", err)
		}
		return Reloaded{}, fmt.Errorf("reload: %s is not valid; the running configuration stays: %w", file, err)
	}
	req := reloadRequest{acfg: acfg, cluster: cluster, reply: make(chan Reloaded, 1)}
	select {
	case a.reload.requests <- req:
	case <-ctx.Done():
		return Reloaded{}, fmt.Errorf("reload: the agent's loop did not take it: %w", ctx.Err())
	}
	select {
	case r := <-req.reply:
		return r, nil
	case <-ctx.Done():
		return Reloaded{}, fmt.Errorf("reload: no answer from the agent's loop: %w", ctx.Err())
	}
}

// outputLimitKey matches the keys of an output's limits.
var outputLimitKey = regexp.MustCompile(`^hardware\.outputs\[(\d+)\]\.(max_on|min_off)$`)

// reloadable splits agent-file changes into those the running agent can
// apply and those that need a restart. An output's limits are applied only
// when nothing else about the output changed: its name or pin may now
// mean another device.
func reloadable(changes []config.Change) (live, restart []config.Change) {
	reshaped := map[string]bool{} // "hardware.outputs[i]" with another change
	for _, c := range changes {
		if rest, ok := strings.CutPrefix(c.Key, "hardware.outputs["); ok && !outputLimitKey.MatchString(c.Key) {
			i, _, _ := strings.Cut(rest, "]")
			reshaped[i] = true
		}
	}
	for _, c := range changes {
		m := outputLimitKey.FindStringSubmatch(c.Key)
		switch {
		case c.Key == "log.level", c.Key == "constraints.max_duty", strings.HasPrefix(c.Key, "mqtt."):
			live = append(live, c)
		case m != nil && !reshaped[m[1]]:
			live = append(live, c)
		default:
			restart = append(restart, c)
		}
	}
	return live, restart
}

// applyReload applies what changed from the running configuration to next
// and logs it; loop goroutine only. a.acfg afterwards is the configuration
// in effect: the running one with the applied changes.
func (a *Agent) applyReload(next *config.Agent, cluster *config.Cluster) Reloaded {
	var r Reloaded
	live, restart := reloadable(config.DiffAgent(a.acfg, next))
	r.Restart = restart
	for _, c := range config.DiffCluster(a.cluster, cluster) {
		r.Cluster = append(r.Cluster, c.Key)
	}

	running := *a.acfg
	running.Hardware.Outputs = slices.Clone(running.Hardware.Outputs)
	var level *config.Change
	var mqtt []config.Change
	redoc := false
	for _, c := range live {
		switch m := outputLimitKey.FindStringSubmatch(c.Key); {
		case c.Key == "log.level" && a.reload.level == nil:
			r.Restart = append(r.Restart, c)
		case c.Key == "log.level":
			level = &c
			running.Log.Level = next.Log.Level
		case strings.HasPrefix(c.Key, "mqtt."):
			mqtt = append(mqtt, c)
		case c.Key == "constraints.max_duty":
			running.Constraints.MaxDuty = next.Constraints.MaxDuty
			redoc = true
			r.Applied = append(r.Applied, c)
		case m != nil:
			i, _ := strconv.Atoi(m[1]) // the pattern's digits; same length lists (config.DiffAgent)
			o := next.Hardware.Outputs[i]
			if err := a.setOutputLimits(o); err != nil {
				r.Restart = append(r.Restart, c)
				a.log.Warn("output limits not changed while running", "output", o.Name, "err", err)
				continue
			}
			running.Hardware.Outputs[i].MaxOn, running.Hardware.Outputs[i].MinOff = o.MaxOn, o.MinOff
			r.Applied = append(r.Applied, c)
		}
	}
	if len(mqtt) > 0 {
		switch err := a.swapReports(next.MQTT); {
		case !a.reload.ownReports:
			r.Restart = append(r.Restart, mqtt...)
		case err != nil:
			r.Failed = append(r.Failed, fmt.Sprintf("mqtt: %v", err))
		default:
			running.MQTT = next.MQTT
			r.Applied = append(r.Applied, mqtt...)
		}
	}
	a.acfg = &running
	if redoc {
		a.buildDocument() // signed again; advertiseIfChanged puts it to the cluster on the next tick
	}

	// The summary is logged while the more verbose of the two levels holds,
	// so that a node turned quieter still says so.
	quieter := false
	if level != nil {
		r.Applied = append([]config.Change{*level}, r.Applied...)
		if quieter = next.Log.SlogLevel() > a.reload.level.Level(); !quieter {
			a.reload.level.Set(next.Log.SlogLevel())
		}
	}
	a.logReload(r)
	if quieter {
		a.reload.level.Set(next.Log.SlogLevel())
	}
	a.log.Debug("reload done", "file", a.reload.file, "log.level", a.acfg.Log.Level)
	return r
}

// logReload says what a reload did, change by change.
func (a *Agent) logReload(r Reloaded) {
	if len(r.Applied)+len(r.Restart)+len(r.Failed)+len(r.Cluster) == 0 {
		a.log.Info("reloaded: nothing changed", "file", a.reload.file)
	}
	if len(r.Applied) > 0 {
		a.log.Info("reloaded", "applied", joinChanges(r.Applied))
	}
	if len(r.Restart) > 0 {
		a.log.Warn("changed, needs a restart", "keys", joinChanges(r.Restart))
	}
	for _, f := range r.Failed {
		a.log.Error("reload: not applied; the running setting stays", "err", f)
	}
	if len(r.Cluster) > 0 {
		a.log.Warn("the cluster file changed and is not reloaded: cluster-file changes need a restart of every node, so that all validators agree on them",
			"file", a.acfg.ClusterFile, "keys", strings.Join(r.Cluster, ", "))
	}
}

func joinChanges(cs []config.Change) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.String()
	}
	return strings.Join(s, ", ")
}

// setOutputLimits gives the board's output o's max_on and min_off. An
// output the board does not hold (it did not answer at start) has nothing
// to change.
func (a *Agent) setOutputLimits(o config.Output) error {
	out, err := a.board.Output(o.Name)
	if err != nil {
		return nil
	}
	ls, ok := out.(hw.LimitSetter)
	if !ok {
		return fmt.Errorf("the board's output %s (%T) cannot change its limits while running", o.Name, out)
	}
	ls.SetLimits(hw.Limits{MaxOn: o.MaxOn, MinOff: o.MinOff})
	return nil
}

// swapReports replaces the node's MQTT side with one for m. It does nothing
// when the agent did not build its MQTT side itself (Options.Reports).
func (a *Agent) swapReports(m config.MQTT) error {
	if !a.reload.ownReports {
		return nil
	}
	var cfg report.Config
	if m.URL != "" {
		cfg = a.reporterConfig(m)
		if err := cfg.Check(); err != nil {
			return err // the running reporter stays
		}
	}
	a.removeDiscovery(a.acfg.MQTT, m)
	a.closeReports() // what it could not send stays in the outbox
	var next report.Reports = noReports{}
	if m.URL != "" {
		r, err := report.New(cfg)
		if err != nil {
			// Check passed a moment ago: a file changed since. Back to the
			// settings that worked.
			if old, oerr := report.New(a.reporterConfig(a.acfg.MQTT)); oerr == nil {
				next = old
			}
			a.installReports(next)
			return err
		}
		next = r
	}
	a.installReports(next)
	return nil
}

// installReports makes r the node's MQTT side and tells it what the old
// one knew: the capability document and an ejection.
func (a *Agent) installReports(r report.Reports) {
	a.reports = a.adversary.muteReports(r)
	if a.state.IsEjected(a.name) {
		_ = a.reports.SetState(wire.StateEjected)
	}
	a.publishCapabilities(a.doc)
}
