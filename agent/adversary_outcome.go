package agent

import (
	"context"
	"time"

	"github.com/seed44533760/pact/agent/config"
)

// falseOutcome (false-outcome mode) claims every assignment done without
// touching the pin: it waits out the drive's duration, as the honest drive
// would, and reports the level it was to drive as read back. perform then
// signs an ok outcome. A witness wired to the output sees nothing move.
type falseOutcome struct{}

func (falseOutcome) drive(ctx context.Context, j job) (string, error) {
	t := time.NewTimer(j.duration)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return levelName(j.level != config.Low), nil
}

// hang (silent mode) is a hung process's drive: the pin never moves and
// the call returns only when the agent stops, so no outcome is ever
// signed; the cluster reassigns the work after its deadline, as it would
// for a crashed node.
type hang struct{}

func (hang) drive(ctx context.Context, _ job) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

var (
	_ driveFaker = falseOutcome{}
	_ driveFaker = hang{}
)
