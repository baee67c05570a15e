package agent

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/seed44533760/pact/hw"
)

// rogue-act: the node drives its own first output on now and then, with no
// assignment behind it. Only a witness wired to that output can tell.

const (
	rogueActMinGap = 7 * time.Second
	rogueActMaxGap = 13 * time.Second
	rogueActPulse  = 1500 * time.Millisecond
)

// rogueActor switches an output on for rogueActPulse after every gap drawn
// uniformly from [rogueActMinGap, rogueActMaxGap], then off again.
type rogueActor struct {
	rng    *rand.Rand
	output func() (hw.Output, bool) // the output to drive; false: none now
	log    *slog.Logger
	pulses int // driven so far; run's goroutine only
}

func newRogueActor(node string, output func() (hw.Output, bool), log *slog.Logger) *rogueActor {
	return &rogueActor{rng: seededRand(node, "rogue-act"), output: output, log: log}
}

// firstOutput is the output a rogue node drives: the first its board has.
func (a *Agent) firstOutput() (hw.Output, bool) {
	outs := a.board.Outputs()
	if len(outs) == 0 {
		return nil, false
	}
	return outs[0], true
}

func (r *rogueActor) run(ctx context.Context) {
	for {
		gap := rogueActMinGap + time.Duration(r.rng.Int64N(int64(rogueActMaxGap-rogueActMinGap)+1))
		if !sleepCtx(ctx, gap) {
			return
		}
		if out, ok := r.output(); ok {
			r.pulse(ctx, out)
		}
	}
}

// pulse drives out on for rogueActPulse and off again, even when ctx ends
// meanwhile: the agent halts its outputs at shutdown anyway, and then Set
// fails harmlessly.
func (r *rogueActor) pulse(ctx context.Context, out hw.Output) {
	if err := out.Set(true); err != nil {
		r.log.Debug("adversary: rogue drive refused", "output", out.Name(), "err", err)
		return
	}
	r.pulses++
	r.log.Warn("adversary: driving an output with no assignment", "output", out.Name(), "for", rogueActPulse)
	sleepCtx(ctx, rogueActPulse)
	if err := out.Set(false); err != nil {
		r.log.Debug("adversary: cannot put the output back off", "output", out.Name(), "err", err)
	}
}

// sleepCtx waits d, or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
