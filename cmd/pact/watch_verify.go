package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
	"github.com/seed44533760/pact/consensus/quorum"
)

// watchTrust is what `pact watch` checks signatures with: the cluster file's
// validator and operator keys, and the keys of nodes admitted by a
// decision whose certificate it verified. A nil trust checks nothing, and
// every check of a cluster other than the file's answers "unverified".
type watchTrust struct {
	name string
	// keys are node keys: the genesis validators, then admitted nodes.
	keys map[string]ed25519.PublicKey
	// retired are nodes of keys retired by a verified decision: no longer
	// expected to publish decisions, until admitted again.
	retired map[string]bool
	// genesis is the size of the genesis validator set, whose quorum a
	// certificate must reach.
	genesis       int
	operators     map[string]ed25519.PublicKey
	allowUnsigned bool
}

func newWatchTrust(c *config.Cluster) *watchTrust {
	t := &watchTrust{name: c.Name, keys: map[string]ed25519.PublicKey{}, retired: map[string]bool{}, operators: c.OperatorKeys(), allowUnsigned: c.AllowUnsignedRequests}
	for name := range c.Validators {
		if k, ok := c.ValidatorKey(name); ok {
			t.keys[name] = k
		}
	}
	t.genesis = len(t.keys)
	return t
}

// covers reports whether signatures of cluster can be checked.
func (t *watchTrust) covers(cluster string) bool { return t != nil && t.name == cluster }

var verdictUnverified = sigVerdict{state: sigUnverified}

// document checks a capability document: its form always (an error is a
// malformed payload), its signature against the node's key when known.
func (t *watchTrust) document(cluster string, d *capability.Document) (sigVerdict, error) {
	if d.Cluster != cluster {
		return sigVerdict{}, fmt.Errorf("%w: document for cluster %q on cluster %s's topic", wire.ErrMalformed, d.Cluster, cluster)
	}
	err := d.Verify(cluster)
	if errors.Is(err, capability.ErrMalformed) {
		return sigVerdict{}, err
	}
	if !t.covers(cluster) {
		return verdictUnverified, nil
	}
	if err != nil {
		return sigVerdict{sigBad, "does not verify with the key it carries"}, nil
	}
	want := t.keys[d.Node]
	if want == nil {
		return sigVerdict{sigUnverified, "self-signed; " + d.Node + " is not in the cluster file"}, nil
	}
	if pub, _ := d.PublicKey(); !want.Equal(pub) {
		return sigVerdict{sigBad, "signed with a key that is not " + d.Node + "'s"}, nil
	}
	return sigVerdict{state: sigOK}, nil
}

func (t *watchTrust) readings(cluster string, r *wire.Readings) sigVerdict {
	if !t.covers(cluster) {
		return verdictUnverified
	}
	key := t.keys[r.Node]
	if key == nil {
		return sigVerdict{sigUnverified, r.Node + " is not in the cluster file"}
	}
	if wire.VerifyReadings(cluster, r, key) != nil {
		return sigVerdict{sigBad, "not " + r.Node + "'s signature"}
	}
	return sigVerdict{state: sigOK}
}

func (t *watchTrust) observation(cluster string, o *wire.Observation) sigVerdict {
	if !t.covers(cluster) {
		return verdictUnverified
	}
	key := t.keys[o.Node]
	if key == nil {
		return sigVerdict{sigUnverified, o.Node + " is not in the cluster file"}
	}
	if wire.VerifyObservation(cluster, o, key) != nil {
		return sigVerdict{sigBad, "not " + o.Node + "'s signature"}
	}
	return sigVerdict{state: sigOK}
}

func (t *watchTrust) outcome(cluster string, o *wire.Outcome) sigVerdict {
	if !t.covers(cluster) {
		return verdictUnverified
	}
	key := t.keys[o.Performer]
	if key == nil {
		return sigVerdict{sigUnverified, "performer not in the cluster file"}
	}
	if wire.VerifyOutcome(cluster, o, key) != nil {
		return sigVerdict{sigBad, "not " + o.Performer + "'s signature"}
	}
	return sigVerdict{state: sigOK}
}

func (t *watchTrust) request(cluster string, r *wire.Request) sigVerdict {
	if !t.covers(cluster) {
		return verdictUnverified
	}
	operator, err := wire.VerifyRequestBy(cluster, r, t.operators, t.allowUnsigned)
	switch {
	case errors.Is(err, wire.ErrUnsigned):
		return sigVerdict{sigBad, "unsigned, and the cluster file does not allow it"}
	case errors.Is(err, wire.ErrUnknownOperator):
		return sigVerdict{sigBad, "signed by a key that is no operator's"}
	case err != nil:
		return sigVerdict{sigBad, "does not verify"}
	case operator == "":
		return sigVerdict{sigUnverified, "unsigned, allowed by the cluster file"}
	}
	return sigVerdict{sigOK, "operator " + operator}
}

// certificate checks a decision's precommits: each vote of a known node
// must verify, and together they must reach the genesis set's quorum, or
// that of the known nodes not retired when retirements left fewer. Too
// few valid votes is bad only when every voter is known; otherwise the
// validator set may have changed in a way the watcher did not see.
func (t *watchTrust) certificate(cluster string, height uint64, cert wire.Certificate, block [32]byte) sigVerdict {
	if !t.covers(cluster) {
		return verdictUnverified
	}
	msg := consensus.SignBytes(cluster, &consensus.Message{Type: consensus.MsgPrecommit, Height: height, Round: cert.Round, BlockHash: consensus.Hash(block)})
	valid, unknown := map[string]bool{}, 0
	for _, v := range cert.Votes {
		key := t.keys[v.From]
		if key == nil {
			unknown++
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(v.Sig)
		if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(key, msg, sig) {
			return sigVerdict{sigBad, "the precommit of " + v.From + " does not verify"}
		}
		valid[v.From] = true
	}
	need := quorum.Threshold(min(t.genesis, len(t.keys)-len(t.retired)))
	switch {
	case len(valid) >= need:
		return sigVerdict{sigOK, fmt.Sprintf("%d valid votes", len(valid))}
	case unknown == 0:
		return sigVerdict{sigBad, fmt.Sprintf("%d valid votes, a quorum is %d", len(valid), need)}
	}
	return sigVerdict{sigUnverified, fmt.Sprintf("%d valid votes of the %d needed; %d voters not in the cluster file", len(valid), need, unknown)}
}

// learn takes the keys of nodes admitted by a verified decision, and notes
// the retired ones. A retired node's key still checks what it signed; an
// admission after its retirement may bring another.
func (t *watchTrust) learn(cluster string, entries []wire.DecisionEntry) {
	if !t.covers(cluster) {
		return
	}
	for _, e := range entries {
		switch {
		case e.Type == wire.EntryRetire && t.keys[e.Node] != nil:
			t.retired[e.Node] = true
		case e.Type == wire.EntryAdmit && (t.keys[e.Node] == nil || t.retired[e.Node]):
			if k, err := identity.ParsePublicKey(e.Key); err == nil {
				t.keys[e.Node] = k
				delete(t.retired, e.Node)
			}
		}
	}
}
