package wire

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/seed44533760/pact/agent/config"
)

// DomainAccusation is the sign-bytes domain of accusations.
const DomainAccusation = "pact/accusation/v1"

// Accusation is a validator's signed statement that another node
// misbehaved in a way that is not self-proving: its sensor readings
// disagree with every peer's, a witness saw its pin contradict its
// outcome, it flooded the network. One accusation proves nothing (its
// author may lie); an eject entry carrying accusations from f+1 distinct
// validators does, since at least one of them is honest. Evidence holds the
// signed reports the accusation rests on, so an operator (pact evidence)
// and the other validators can look at what was seen.
type Accusation struct {
	Header
	Node     string          `json:"node"` // the accuser
	Accused  string          `json:"accused"`
	Reason   string          `json:"reason"`
	Height   uint64          `json:"height"` // the accuser's agreed height when it accused
	Summary  string          `json:"summary"`
	Evidence json.RawMessage `json:"evidence,omitempty"`
	Sig      string          `json:"sig"`
}

// Accusation reasons.
const (
	// AccuseReadings: the accused's readings persistently disagree with the
	// robust median of its zone's peers (agent/audit). Evidence: the
	// signed readings, the accused's and the peers'.
	AccuseReadings = "inconsistent-readings"
	// AccuseWitness: a witness wired to the accused's output saw it
	// contradict the accused's signed outcome (no pin moved for an ok
	// outcome). Evidence: the outcome and the observation.
	AccuseWitness = "witness-contradiction"
	// AccuseRogue: a witness saw the accused's output driven with no
	// assignment. Evidence: the observation.
	AccuseRogue = "unassigned-drive"
	// AccuseFlood: the accused's messages exceeded the rate limits,
	// persistently. Evidence: counts (not signed by the accused).
	AccuseFlood = "flood"
	// AccuseReplay: the accused sent again, in frames it signed, entries
	// decided long before. Evidence: counts.
	AccuseReplay = "replay"
	// AccuseEffect: the accused's ok outcomes of an action verified by
	// "sensor" persistently left its zone's sensors unmoved, while the same
	// action by other performers moved them. Evidence: the outcomes, the
	// medians before and after, and the signed readings behind them.
	AccuseEffect = "sensor-contradiction"
)

// Check validates an accusation's fields (not its signature).
func (a *Accusation) Check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: accusation: "+format, append([]any{ErrMalformed}, args...)...))
	}
	a.Header.check(bad)
	if !config.ValidName(a.Node) {
		bad("node %q is not a valid name", a.Node)
	}
	if !config.ValidName(a.Accused) {
		bad("accused %q is not a valid name", a.Accused)
	}
	if a.Node == a.Accused {
		bad("%s accuses itself", a.Node)
	}
	if !config.ValidName(a.Reason) {
		bad("reason %q is not a valid name", a.Reason)
	}
	if why := checkText(a.Summary, 1024); why != "" {
		bad("summary: %s", why)
	}
	if len(a.Evidence) > 0 && !json.Valid(a.Evidence) {
		bad("evidence is not JSON")
	}
	return errors.Join(errs...)
}

// SignAccusation signs a for cluster with the accuser's node key: it sets v
// and cluster, checks the form and fills in sig.
func SignAccusation(cluster string, a *Accusation, key ed25519.PrivateKey) error {
	a.V, a.Cluster, a.Sig = Version, cluster, ""
	if err := a.Check(); err != nil {
		return err
	}
	a.Sig = encodeSig(key, SignBytes(DomainAccusation, cluster, a))
	return nil
}

// VerifyAccusation checks a's form and its signature for cluster with the
// accuser's key.
func VerifyAccusation(cluster string, a *Accusation, accuser ed25519.PublicKey) error {
	if err := a.Check(); err != nil {
		return err
	}
	if a.Cluster != cluster {
		return fmt.Errorf("%w: accusation for cluster %q, not %q", ErrWrongCluster, a.Cluster, cluster)
	}
	sig, err := decodeSig(a.Sig)
	if err != nil {
		return err
	}
	if !ed25519.Verify(accuser, SignBytes(DomainAccusation, cluster, a), sig) {
		return fmt.Errorf("%w: accusation of %s by %s", ErrBadSignature, a.Accused, a.Node)
	}
	return nil
}

// DecodeAccusation decodes an accusation strictly and checks its form.
func DecodeAccusation(b []byte) (*Accusation, error) {
	var a Accusation
	if err := Unmarshal(b, &a); err != nil {
		return nil, err
	}
	if err := a.Check(); err != nil {
		return nil, err
	}
	return &a, nil
}
