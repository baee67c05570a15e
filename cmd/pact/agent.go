package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/seed44533760/pact/agent"
	"github.com/seed44533760/pact/agent/config"
)

func init() {
	register(command{
		name:    "agent",
		summary: "run one agent in the foreground (what systemd starts)",
		run:     runAgent,
	})
}

const defaultAgentConfig = "/etc/pact/pact.yaml"

func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("agent", "pact agent [--config FILE]")
	cfgPath := fs.String("config", defaultAgentConfig, "the agent file")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "agent", "unexpected argument %q", fs.Arg(0))
	}
	acfg, cluster, err := config.Load(*cfgPath)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, line)
		}
		fmt.Fprintf(stderr, "pact agent: %s is not valid; fix the problems above (pact config validate %s)\n", *cfgPath, *cfgPath)
		return exitUsage
	}
	log, level := newLogger(stderr, acfg.Log)
	if acfg.Adversary != nil {
		log.Warn("THIS NODE IS CONFIGURED AS AN ADVERSARY: it misbehaves on purpose, for tests and demos only", "mode", acfg.Adversary.Mode)
	}
	a, err := agent.New(acfg, cluster, agent.Options{Logger: log, LogLevel: level})
	if err != nil {
		fmt.Fprintf(stderr, "pact agent: %v\n", err)
		return exitFailure
	}
	stopReloads := reloadOnHangup(ctx, a) // agent_reload.go
	defer stopReloads()
	if err := a.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "pact agent: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// newLogger builds the agent's slog logger and the level it checks, which
// a reload changes while the logger is in use; the format is fixed for the
// process's life. Under systemd the journal adds its own timestamps, so
// the text format leaves them out there.
func newLogger(w io.Writer, c config.Log) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	level.Set(c.SlogLevel())
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), level
	}
	if os.Getenv("JOURNAL_STREAM") != "" {
		opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	return slog.New(slog.NewTextHandler(w, opts)), level
}
