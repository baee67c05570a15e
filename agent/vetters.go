package agent

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// signedVetter authenticates, for the transport, frames that carry one
// signed JSON payload of the contract (an outcome, readings, an
// observation, an accusation): the author is the payload's own field, and
// only a validator's valid signature lets it through.
type signedVetter struct {
	what   string // for errors: "outcome", "readings", …
	author string // the JSON member naming the signer
	// verify decodes p and checks its signature with key.
	verify func(p []byte, key ed25519.PublicKey) error
}

func (v signedVetter) Sender(p []byte) (string, error) {
	var fields map[string]json.RawMessage
	var name string
	if err := json.Unmarshal(p, &fields); err != nil || json.Unmarshal(fields[v.author], &name) != nil || name == "" {
		return "", fmt.Errorf("%w: %s frame", transport.ErrMalformed, v.what)
	}
	return name, nil
}

func (v signedVetter) Verify(from string, key consensus.PublicKey, known bool, p []byte) error {
	if !known {
		return fmt.Errorf("%w: %s from %s, who is not a validator", transport.ErrBadSignature, v.what, from)
	}
	switch err := v.verify(p, ed25519.PublicKey(key)); {
	case err == nil:
		return nil
	case errors.Is(err, wire.ErrBadSignature):
		return fmt.Errorf("%w: %v", transport.ErrBadSignature, err)
	default:
		return fmt.Errorf("%w: %v", transport.ErrMalformed, err)
	}
}

// frameVetters are the vetters of every frame kind the agent registers
// with its transport besides consensus messages.
func frameVetters(cluster string) map[transport.Kind]transport.Vetter {
	vs := payloadVetters(cluster)
	vs[kindEntry] = entryVetter{cluster: cluster}
	vs[kindOutcomeQuery] = outcomeQueryVetter{}
	vs[transport.KindCapabilityRequest] = capabilityRequestVetter{}
	vs[transport.KindCapabilityResponse] = capabilityResponseVetter{cluster: cluster}
	return vs
}

// payloadVetters are the vetters of the signed payload kinds.
func payloadVetters(cluster string) map[transport.Kind]transport.Vetter {
	return map[transport.Kind]transport.Vetter{
		kindOutcome: signedVetter{what: "outcome", author: "performer", verify: func(p []byte, key ed25519.PublicKey) error {
			o, err := wire.DecodeOutcome(p)
			if err != nil {
				return err
			}
			return wire.VerifyOutcome(cluster, o, key)
		}},
		kindReadings: signedVetter{what: "readings", author: "node", verify: func(p []byte, key ed25519.PublicKey) error {
			var r wire.Readings
			if err := wire.Unmarshal(p, &r); err != nil {
				return err
			}
			return wire.VerifyReadings(cluster, &r, key)
		}},
		kindObservation: signedVetter{what: "observation", author: "node", verify: func(p []byte, key ed25519.PublicKey) error {
			o, err := wire.DecodeObservation(p)
			if err != nil {
				return err
			}
			return wire.VerifyObservation(cluster, o, key)
		}},
		kindAccusation: signedVetter{what: "accusation", author: "node", verify: func(p []byte, key ed25519.PublicKey) error {
			a, err := wire.DecodeAccusation(p)
			if err != nil {
				return err
			}
			return wire.VerifyAccusation(cluster, a, key)
		}},
	}
}
