package wire

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/capability"
)

// Fuzz targets for every decoder of the MQTT contract: whatever a broker
// (or anyone who can publish to it) hands the node. Their seed corpora are
// committed under testdata/fuzz/<target>, so plain `go test` replays them.

// encode is how payloads are published: encoding/json, without HTML
// escaping so that a re-encoded payload is no larger than its decoder's
// limit allowed.
func encode(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func requestSeeds(t testing.TB) [][]byte {
	unsigned := &Request{Header: Header{V: Version, Cluster: testCluster, TS: Timestamp(t0)}, ID: "r-2", Action: "ventilate", Params: map[string]string{}}
	return [][]byte{mustJSON(t, signedRequest(t, "r-1")), mustJSON(t, unsigned)}
}

// A request decodes strictly; one that decodes re-encodes to a request that
// decodes to the same value, and VerifyRequestBy judges it without
// panicking, the same before and after the round trip.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range requestSeeds(f) {
		f.Add(s)
	}
	operators := map[string]ed25519.PublicKey{"alice": pub("alice")}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRequest(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeRequest: %v, want ErrMalformed", err)
			}
			return
		}
		_, verr := VerifyRequestBy(testCluster, req, operators, true)
		e := encode(t, req)
		if len(e) > MaxRequestSize {
			return
		}
		again, err := DecodeRequest(e)
		if err != nil {
			t.Fatalf("re-encoded request %s does not decode: %v", e, err)
		}
		if !reflect.DeepEqual(again, req) {
			t.Fatalf("round trip changed the request:\n got %+v\nwant %+v", again, req)
		}
		if _, err := VerifyRequestBy(testCluster, again, operators, true); (err == nil) != (verr == nil) {
			t.Fatalf("VerifyRequestBy: %v before the round trip, %v after", verr, err)
		}
	})
}

// payloadDecoder is one payload type of the contract: how a node decodes
// it, and how it checks its signature (nil for unsigned payloads).
type payloadDecoder struct {
	name   string
	decode func([]byte) (any, error)
	verify func(any) error
}

func decodeInto[T any](b []byte) (any, error) {
	v := new(T)
	if err := Unmarshal(b, v); err != nil {
		return nil, err
	}
	return v, nil
}

// payloadDecoders are every payload type but requests (FuzzDecodeRequest).
// The fuzz input's first byte picks one; the order is part of the committed
// corpus, so add new types at the end.
var payloadDecoders = []payloadDecoder{
	{"outcome", func(b []byte) (any, error) { return DecodeOutcome(b) },
		func(v any) error { return VerifyOutcome(testCluster, v.(*Outcome), pub(testNode)) }},
	{"observation", func(b []byte) (any, error) { return DecodeObservation(b) },
		func(v any) error { return VerifyObservation(testCluster, v.(*Observation), pub("gh-2")) }},
	{"accusation", func(b []byte) (any, error) { return DecodeAccusation(b) },
		func(v any) error { return VerifyAccusation(testCluster, v.(*Accusation), pub("gh-2")) }},
	{"readings", decodeInto[Readings],
		func(v any) error { return VerifyReadings(testCluster, v.(*Readings), pub(testNode)) }},
	{"decision", decodeInto[Decision], nil},
	{"state", decodeInto[State], nil},
	{"ejection", decodeInto[Ejection], nil},
	{"capabilities", decodeInto[Capabilities],
		func(v any) error { return v.(*Capabilities).Verify(testCluster) }},
	{"error report", decodeInto[ErrorReport], nil},
}

// payloadSeeds are one or more valid payloads of each type, prefixed with
// the index of its decoder.
func payloadSeeds(t testing.TB) [][]byte {
	o := signedOutcome(t, 1)
	obs := &Observation{Header: Header{TS: Timestamp(t0)}, Node: "gh-2", Input: "witness", Action: "blink", Instance: "i-1",
		Performer: testNode, Output: "led", Height: 7, Level: "high", Saw: "high", SeenAt: Timestamp(t0), ClearedAt: Timestamp(t0.Add(time.Second))}
	if err := SignObservation(testCluster, obs, key("gh-2")); err != nil {
		t.Fatal(err)
	}
	acc := &Accusation{Header: Header{TS: Timestamp(t0)}, Node: "gh-2", Accused: testNode, Reason: AccuseWitness, Height: 9,
		Summary: "led stayed low", Evidence: json.RawMessage(`{"outcome":{"ok":true},"observation":{"saw":""}}`)}
	if err := SignAccusation(testCluster, acc, key("gh-2")); err != nil {
		t.Fatal(err)
	}
	r := &Readings{Header: Header{TS: Timestamp(t0)}, Node: testNode, Readings: []Reading{{Sensor: "air", Kind: "temperature", Value: 21.25, Unit: "°C"}}}
	if err := SignReadings(testCluster, r, key(testNode)); err != nil {
		t.Fatal(err)
	}
	hdr := Header{V: Version, Cluster: testCluster, TS: Timestamp(t0)}
	dec := &Decision{Header: hdr, Node: testNode, Height: 12, Round: 1,
		Entries:     []DecisionEntry{{Type: EntryAssign, Action: "blink", Instance: "i-1", RequestID: "r-1", Performer: testNode}, {Type: EntryAdvertise, Node: "gh-2", Seq: 3}},
		Certificate: Certificate{Round: 1, Block: "00ff", Votes: []Vote{{From: testNode, Sig: "AAAA"}}}}
	doc := capability.Document{Cluster: testCluster, Node: testNode, Zone: "north", Outputs: []capability.Output{{Name: "led", Kind: "led"}}, Seq: 2}
	doc.Sign(key(testNode))
	payloads := []any{
		o, obs, acc, r, dec,
		&State{Header: hdr, Node: testNode, State: StateReady, BDSeq: 4},
		&Ejection{Header: hdr, Node: "gh-4", Height: 30, Reason: "equivocation", Evidence: []Evidence{{Type: "equivocation", Summary: "two prevotes", Data: "AQID"}}},
		&Capabilities{Document: doc, TS: Timestamp(t0)},
		&ErrorReport{Header: hdr, RequestID: "r-9", Node: testNode, Topic: "pact/greenhouse/requests/blink", Error: "unknown action"},
	}
	var out [][]byte
	for i, p := range payloads {
		out = append(out, append([]byte{byte(i)}, mustJSON(t, p)...))
	}
	return out
}

// Every payload decoder refuses what is malformed with ErrMalformed and
// never panics. What decodes re-encodes to a payload that decodes again
// and encodes to the same bytes, and its signature check gives the same
// verdict before and after: a relayed payload keeps its meaning.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range payloadSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		d := payloadDecoders[int(in[0])%len(payloadDecoders)]
		v, err := d.decode(in[1:])
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: decode: %v, want ErrMalformed", d.name, err)
			}
			return
		}
		var verr error
		if d.verify != nil {
			verr = d.verify(v)
		}
		e := encode(t, v)
		if len(e) > MaxPayloadSize {
			return
		}
		again, err := d.decode(e)
		if err != nil {
			t.Fatalf("%s: re-encoded %s does not decode: %v", d.name, e, err)
		}
		if e2 := encode(t, again); !bytes.Equal(e2, e) {
			t.Fatalf("%s: round trip changed the payload:\n got %s\nwant %s", d.name, e2, e)
		}
		if d.verify != nil {
			if err := d.verify(again); (err == nil) != (verr == nil) {
				t.Fatalf("%s: verify: %v before the round trip, %v after", d.name, verr, err)
			}
		}
	})
}

// ParseTopic refuses what is not a topic of the contract; what it accepts,
// String builds back exactly.
func FuzzParseTopic(f *testing.F) {
	tp := Topics{Cluster: testCluster}
	for _, s := range []string{tp.State(testNode), tp.Outcome("blink", "i-1"), tp.LastOutcome(testNode, "blink"),
		tp.Request("ventilate"), tp.Errors(), tp.Ejection("gh-4"), tp.Decisions(testNode)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, topic string) {
		p, err := ParseTopic(topic)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseTopic: %v, want ErrMalformed", err)
			}
			return
		}
		if p.String() != topic {
			t.Fatalf("ParseTopic(%q) = %+v, which builds %q", topic, p, p.String())
		}
		_ = p.Kind.Retained()
		_ = p.Kind.Durable()
	})
}
