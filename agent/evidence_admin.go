package agent

import (
	"bytes"
	"context"

	"github.com/seed44533760/pact/agent/agreed"
)

// EjectionsReport is what the admin server answers on AdminEjectionsPath:
// every ejection in the agreed state with its evidence as decided, and the
// validators' keys, so `pact evidence` can check every signature itself
// instead of trusting the agent's word.
type EjectionsReport struct {
	Cluster string `json:"cluster"`
	// Height is the agreed state's height when the report was made.
	Height uint64 `json:"height"`
	// Ejections are the ejected nodes by name; Evidence is base64 in JSON.
	Ejections map[string]agreed.Ejected `json:"ejections"`
	// Validators are the current validators: name → base64 public key.
	Validators map[string]string `json:"validators"`
}

// Ejections asks the loop for the ejections and the keys to check their
// evidence with; it fails if the loop does not answer within ctx.
func (a *Agent) Ejections(ctx context.Context) (EjectionsReport, error) {
	reply := make(chan EjectionsReport, 1)
	select {
	case a.ejectionsReq <- reply:
	case <-ctx.Done():
		return EjectionsReport{}, ctx.Err()
	}
	select {
	case r := <-reply:
		return r, nil
	case <-ctx.Done():
		return EjectionsReport{}, ctx.Err()
	}
}

// ejectionsReport builds the report; loop goroutine. It copies what it
// hands out: the loop keeps writing its state.
func (a *Agent) ejectionsReport() EjectionsReport {
	r := EjectionsReport{
		Cluster:    a.cluster.Name,
		Height:     a.state.Height,
		Ejections:  make(map[string]agreed.Ejected, len(a.state.Ejected)),
		Validators: make(map[string]string, len(a.state.Validators)),
	}
	for name, j := range a.state.Ejected {
		j.Evidence = bytes.Clone(j.Evidence)
		r.Ejections[name] = j
	}
	for name, k := range a.state.Validators {
		r.Validators[name] = k
	}
	return r
}
