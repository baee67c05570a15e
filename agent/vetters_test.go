package agent

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// Signed payload frames name their author and pass only with that
// validator's valid signature; forgeries and garbage are told apart.
func TestSignedVetter_Payloads(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	pub := consensus.PublicKey(key.Public().(ed25519.PublicKey))
	_, other, _ := ed25519.GenerateKey(nil)
	v := payloadVetters("c")[kindOutcome]
	o := &wire.Outcome{Action: "blink", Instance: "i-1", RequestID: "r-1", Performer: "node-2", Height: 3, OK: true,
		Started: wire.Timestamp(time.Now()), Finished: wire.Timestamp(time.Now()), Readback: "high"}
	if err := wire.SignOutcome("c", o, key); err != nil {
		t.Fatal(err)
	}
	good, _ := json.Marshal(o)
	if from, err := v.Sender(good); err != nil || from != "node-2" {
		t.Fatalf("Sender = %q, %v", from, err)
	}
	if err := v.Verify("node-2", pub, true, good); err != nil {
		t.Errorf("a genuine outcome: %v", err)
	}
	if err := v.Verify("node-2", nil, false, good); !errors.Is(err, transport.ErrBadSignature) {
		t.Errorf("from a non-validator: %v", err)
	}
	if err := wire.SignOutcome("c", o, other); err != nil {
		t.Fatal(err)
	}
	forged, _ := json.Marshal(o)
	if err := v.Verify("node-2", pub, true, forged); !errors.Is(err, transport.ErrBadSignature) {
		t.Errorf("signed with another key: %v", err)
	}
	if err := v.Verify("node-2", pub, true, []byte(`{"performer":"node-2","ok":"yes"}`)); !errors.Is(err, transport.ErrMalformed) {
		t.Errorf("garbage: %v", err)
	}
	if _, err := v.Sender([]byte(`{"performer":7}`)); !errors.Is(err, transport.ErrMalformed) {
		t.Errorf("an author that is not a name: %v", err)
	}
}
