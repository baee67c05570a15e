package wire

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"
)

const (
	testCluster = "greenhouse"
	testNode    = "gh-1"
)

var keys sync.Map // name → ed25519.PrivateKey

// key returns a deterministic Ed25519 key for a name.
func key(name string) ed25519.PrivateKey {
	if k, ok := keys.Load(name); ok {
		return k.(ed25519.PrivateKey)
	}
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, name)
	k := ed25519.NewKeyFromSeed(seed)
	keys.Store(name, k)
	return k
}

func pub(name string) ed25519.PublicKey { return key(name).Public().(ed25519.PublicKey) }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// signedOutcome is outcome instance i of blink, performed by testNode.
func signedOutcome(t testing.TB, i int) *Outcome {
	t.Helper()
	o := &Outcome{
		Action:    "blink",
		Instance:  fmt.Sprintf("i-%05d", i),
		RequestID: fmt.Sprintf("r-%05d", i),
		Performer: testNode,
		Height:    uint64(100 + i),
		OK:        true,
		Started:   Timestamp(t0),
		Finished:  Timestamp(t0.Add(time.Second)),
		Readback:  "high",
	}
	if err := SignOutcome(testCluster, o, key(testNode)); err != nil {
		t.Fatal(err)
	}
	return o
}
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signedRequest(t testing.TB, id string) *Request {
	t.Helper()
	req := &Request{Header: Header{TS: Timestamp(t0)}, ID: id, Action: "blink", Params: map[string]string{"duration": "2s"}}
	if err := SignRequest(testCluster, req, key("alice")); err != nil {
		t.Fatal(err)
	}
	return req
}
