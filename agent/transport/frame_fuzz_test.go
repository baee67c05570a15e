package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// frameSeeds are frames of every kind, built with EncodeFrame from what the
// agent sends.
func frameSeeds() [][]byte {
	doc := []byte(`{"node":"n2","seq":3}`)
	return [][]byte{
		frameOf(vote("n2", 7)),
		frameOf(proposal("n3", 7, []byte("advertise/n3"))),
		frameOf(signed(consensus.Message{Type: consensus.MsgStatus, From: "n4", Height: 9})),
		frameOf(consensus.Message{Type: consensus.MsgCommit, From: "n1", Height: 2, Commit: &consensus.Commit{
			Block: consensus.Block{Height: 2, Entries: []consensus.Entry{[]byte("x")}},
			Votes: []consensus.CommitVote{{From: "n1", Signature: []byte{1}}},
		}}),
		EncodeFrame(KindCapabilityRequest, []byte("n2")),
		EncodeFrame(KindCapabilityResponse, doc),
		EncodeFrame(KindAccusation, []byte(`{"node":"n3","accused":"n4"}`)),
		EncodeFrame(KindEvidence, nil),
	}
}

// A frame splits into a kind and a payload that build the same frame again,
// and the transport's receive path (decode, rate limit, verify, deliver)
// survives any frame a peer can send.
func FuzzReceive(f *testing.F) {
	for _, s := range frameSeeds() {
		f.Add(s)
	}
	// One transport per fuzzing process; its clock jumps an hour per read so
	// that rate limits never hide the verification path from the fuzzer.
	var clock atomic.Int64
	cfg := testConfig("n1")
	cfg.Workers = 1
	cfg.Now = func() time.Time { return time.Unix(clock.Add(3600), 0) }
	tr, err := New(cfg, newRecordingLink("n1", "n2", "n3", "n4"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = tr.Close() })
	for _, k := range []Kind{KindCapabilityRequest, KindCapabilityResponse, KindEvidence, KindAccusation} {
		if err := tr.Register(k, jsonVetter{}); err != nil {
			f.Fatal(err)
		}
	}

	f.Fuzz(func(t *testing.T, frame []byte) {
		kind, payload, err := DecodeFrame(frame)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeFrame: %v, want ErrMalformed", err)
			}
		} else if again := EncodeFrame(kind, payload); !bytes.Equal(again, frame) {
			t.Fatalf("frame %x re-encodes as %x", frame, again)
		}
		tr.Receive(bytes.Clone(frame))
		for {
			select {
			case in := <-tr.Inbound():
				if (in.Kind == KindConsensus) != (in.Msg != nil) {
					t.Fatalf("delivered %+v: Msg set for the wrong kind", in)
				}
			default:
				return
			}
		}
	})
}

// jsonVetter names the sender from a JSON payload's "node" member, as the
// agent's signed payload vetters do, and accepts what names one.
type jsonVetter struct{}

func (jsonVetter) Sender(p []byte) (string, error) {
	var v struct{ Node string }
	if err := json.Unmarshal(p, &v); err != nil || v.Node == "" {
		return "", fmt.Errorf("%w: no node", ErrMalformed)
	}
	return v.Node, nil
}

func (jsonVetter) Verify(from string, _ consensus.PublicKey, known bool, _ []byte) error {
	if !known {
		return fmt.Errorf("%w: %s", ErrBadSignature, from)
	}
	return nil
}
