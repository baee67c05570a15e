package agent

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// Fuzz targets for the agent's own decoders of peer bytes: the node meta
// every member announces, and the payloads of the frame kinds the agent
// registers with the transport. Their seed corpora are committed under
// testdata/fuzz/<target>, so plain `go test` replays them.

// fuzzKey is the key every fuzzed payload is checked against.
var fuzzKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

func fuzzPub() ed25519.PublicKey { return fuzzKey.Public().(ed25519.PublicKey) }

// A peer's meta decodes or is refused; what decodes encodes to a meta that
// decodes to the same value.
func FuzzDecodeNodeMeta(f *testing.F) {
	for _, m := range []nodeMeta{
		{key: fuzzPub(), digest: [32]byte{1, 2, 3}, seq: 4, height: 1 << 20},
		{key: fuzzPub()},
	} {
		f.Add(m.encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			return
		}
		if len(m.key) != ed25519.PublicKeySize {
			t.Fatalf("decoded a %d-byte key", len(m.key))
		}
		again, err := decodeMeta(m.encode())
		if err != nil || !m.key.Equal(again.key) || again.digest != m.digest || again.seq != m.seq || again.height != m.height {
			t.Fatalf("meta %x: round trip gives %+v, %v; want %+v", b, again, err, m)
		}
	})
}

// fuzzVetters are the vetters the agent registers (connect), in kind order:
// the fuzz input's first byte picks one.
func fuzzVetters() ([]transport.Kind, map[transport.Kind]transport.Vetter) {
	vs := frameVetters("c")
	var kinds []transport.Kind
	for k := range vs {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds, vs
}

// vetterSeeds are a valid payload of each kind, signed with fuzzKey and
// prefixed with the kind's index in fuzzVetters' order.
func vetterSeeds(t testing.TB) [][]byte {
	now := wire.Timestamp(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	o := &wire.Outcome{Header: wire.Header{TS: now}, Action: "blink", Instance: "i-1", RequestID: "r-1", Performer: "node-2", Height: 3, OK: true, Started: now, Finished: now, Readback: "high"}
	if err := wire.SignOutcome("c", o, fuzzKey); err != nil {
		t.Fatal(err)
	}
	r := &wire.Readings{Header: wire.Header{TS: now}, Node: "node-2", Readings: []wire.Reading{{Sensor: "t1", Kind: "temperature", Value: 21.5, Unit: "°C"}}}
	if err := wire.SignReadings("c", r, fuzzKey); err != nil {
		t.Fatal(err)
	}
	obs := &wire.Observation{Header: wire.Header{TS: now}, Node: "node-2", Input: "w1", Action: "blink", Instance: "i-1", Performer: "node-3", Output: "led", Height: 3, Level: "high", Saw: "high", SeenAt: now}
	if err := wire.SignObservation("c", obs, fuzzKey); err != nil {
		t.Fatal(err)
	}
	acc := &wire.Accusation{Header: wire.Header{TS: now}, Node: "node-2", Accused: "node-3", Reason: wire.AccuseFlood, Height: 3, Summary: "flood", Evidence: json.RawMessage(`{"dropped":500}`)}
	if err := wire.SignAccusation("c", acc, fuzzKey); err != nil {
		t.Fatal(err)
	}
	doc := &capability.Document{Cluster: "c", Node: "node-2", Zone: "z", Outputs: []capability.Output{{Name: "led", Kind: "led"}}, Seq: 1}
	doc.Sign(fuzzKey)
	marshal := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	payloads := map[transport.Kind][]byte{
		transport.KindCapabilityRequest:  []byte("node-2"),
		transport.KindCapabilityResponse: doc.Marshal(),
		kindEntry:                        encodeEntryFrame("c", "node-2", fuzzKey, consensus.Entry(`{"type":"advertise"}`)),
		kindOutcome:                      marshal(o),
		kindReadings:                     marshal(r),
		kindObservation:                  marshal(obs),
		kindAccusation:                   marshal(acc),
		kindOutcomeQuery:                 marshal(outcomeQuery{From: "node-2", Instance: "i-1"}),
	}
	kinds, _ := fuzzVetters()
	var out [][]byte
	for i, k := range kinds {
		p, ok := payloads[k]
		if !ok {
			t.Fatalf("no seed for frame kind %s", k)
		}
		out = append(out, append([]byte{byte(i)}, p...))
	}
	return out
}

// Every registered vetter names a sender or refuses the payload as
// malformed, and verifies it or refuses it as malformed or forged: what a
// peer sends never panics a transport worker. An entry frame that decodes
// re-encodes to one that decodes to the same sender, signature and entry.
func FuzzVetters(f *testing.F) {
	for _, s := range vetterSeeds(f) {
		f.Add(s)
	}
	kinds, vetters := fuzzVetters()
	key := consensus.PublicKey(fuzzPub())
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		kind := kinds[int(in[0])%len(kinds)]
		v, p := vetters[kind], in[1:]
		from, err := v.Sender(p)
		if err != nil {
			if !errors.Is(err, transport.ErrMalformed) {
				t.Fatalf("%s: Sender: %v, want ErrMalformed", kind, err)
			}
			return
		}
		for _, known := range []bool{true, false} {
			err := v.Verify(from, key, known, p)
			if err != nil && !errors.Is(err, transport.ErrMalformed) && !errors.Is(err, transport.ErrBadSignature) {
				t.Fatalf("%s: Verify: %v, want ErrMalformed or ErrBadSignature", kind, err)
			}
		}
		if kind != kindEntry {
			return
		}
		from, sig, entry, err := decodeEntryFrame(p)
		if err != nil {
			t.Fatalf("Sender accepted an entry frame decodeEntryFrame refuses: %v", err)
		}
		b := binary.AppendUvarint(nil, uint64(len(from)))
		b = append(b, from...)
		b = binary.AppendUvarint(b, uint64(len(sig)))
		b = append(append(b, sig...), entry...)
		from2, sig2, entry2, err := decodeEntryFrame(b)
		if err != nil || from2 != from || !bytes.Equal(sig2, sig) || !bytes.Equal(entry2, entry) {
			t.Fatalf("entry frame round trip: %q %x %q, %v; want %q %x %q", from2, sig2, entry2, err, from, sig, entry)
		}
	})
}
