package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/seed44533760/pact/agent"
)

// reloadTimeout bounds one reload: reading the files, and the loop's
// work (reconnecting MQTT takes the longest, a few seconds at most).
const reloadTimeout = 30 * time.Second

// reloadOnHangup makes SIGHUP reload the agent file (`systemctl reload
// pact`, whose unit runs `kill -HUP $MAINPID`), until ctx ends or the
// returned function is called. Signals that arrive during a reload are
// merged into one more reload. The agent logs what each reload did.
func reloadOnHangup(ctx context.Context, a *agent.Agent) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reloadAgent(ctx, a)
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
	}
}

// reloadAgent is what one SIGHUP does.
func reloadAgent(ctx context.Context, a *agent.Agent) {
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	_, _ = a.Reload(ctx) // logged by the agent, problem by problem
}
