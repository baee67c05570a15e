package wire

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestVerifyRequest_Table(t *testing.T) {
	operators := map[string]ed25519.PublicKey{"alice": pub("alice"), "bob": pub("bob")}
	good := func() *Request { return signedRequest(t, "r-1") }
	cases := []struct {
		name          string
		req           func() *Request
		cluster       string
		allowUnsigned bool
		want          error // nil: accepted
	}{
		{"good", good, testCluster, false, nil},
		{"good, unsigned also allowed", good, testCluster, true, nil},
		{"forged: param changed after signing", func() *Request {
			r := good()
			r.Params["duration"] = "1h"
			return r
		}, testCluster, false, ErrBadSignature},
		{"forged: alice's key, mallory's signature", func() *Request {
			r := good()
			if err := SignRequest(testCluster, r, key("mallory")); err != nil {
				t.Fatal(err)
			}
			r.Key = encodeKey(pub("alice"))
			return r
		}, testCluster, false, ErrBadSignature},
		{"forged: signature of another request", func() *Request {
			r := good()
			r.Sig = signedRequest(t, "r-2").Sig
			return r
		}, testCluster, false, ErrBadSignature},
		{"replayed into another cluster", good, "shed", false, ErrWrongCluster},
		{"signed for another cluster, relabelled", func() *Request {
			r := &Request{Header: Header{TS: Timestamp(t0)}, ID: "r-1", Action: "blink"}
			if err := SignRequest("shed", r, key("alice")); err != nil {
				t.Fatal(err)
			}
			r.Cluster = testCluster
			return r
		}, testCluster, false, ErrBadSignature},
		{"unknown operator", func() *Request {
			r := &Request{Header: Header{TS: Timestamp(t0)}, ID: "r-1", Action: "blink"}
			if err := SignRequest(testCluster, r, key("mallory")); err != nil {
				t.Fatal(err)
			}
			return r
		}, testCluster, false, ErrUnknownOperator},
		{"unsigned, allowed", func() *Request {
			return &Request{Header: Header{V: 1, Cluster: testCluster, TS: Timestamp(t0)}, ID: "r-1", Action: "blink", Params: map[string]string{}}
		}, testCluster, true, nil},
		{"unsigned, refused", func() *Request {
			return &Request{Header: Header{V: 1, Cluster: testCluster, TS: Timestamp(t0)}, ID: "r-1", Action: "blink", Params: map[string]string{}}
		}, testCluster, false, ErrUnsigned},
		{"key without sig", func() *Request {
			r := good()
			r.Sig = ""
			return r
		}, testCluster, true, ErrMalformed},
		{"sig not base64", func() *Request {
			r := good()
			r.Sig = "!!"
			return r
		}, testCluster, false, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := VerifyRequest(c.cluster, c.req(), operators, c.allowUnsigned)
			switch {
			case c.want == nil && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestVerifyRequest_NamesTheOperator(t *testing.T) {
	operators := map[string]ed25519.PublicKey{"alice": pub("alice"), "bob": pub("bob")}
	r := &Request{Header: Header{TS: Timestamp(t0)}, ID: "r-1", Action: "blink"}
	if err := SignRequest(testCluster, r, key("bob")); err != nil {
		t.Fatal(err)
	}
	if name, err := VerifyRequestBy(testCluster, r, operators, false); err != nil || name != "bob" {
		t.Errorf("verifyRequest = %q, %v; want bob", name, err)
	}
}

func TestWrongCluster_IsBadSignature(t *testing.T) {
	if !errors.Is(ErrWrongCluster, ErrBadSignature) || errors.Is(ErrBadSignature, ErrWrongCluster) {
		t.Error("ErrWrongCluster must match ErrBadSignature, not the other way round")
	}
}

func TestSignOutcome_Verify(t *testing.T) {
	o := signedOutcome(t, 1)
	if o.TS != o.Finished {
		t.Errorf("ts %q, want finished %q", o.TS, o.Finished)
	}
	if err := VerifyOutcome(testCluster, o, pub(testNode)); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Outcome){
		"claims failure": func(o *Outcome) { o.OK, o.Error = false, "stuck" },
		"other instance": func(o *Outcome) { o.Instance = "i-99999" },
		"other height":   func(o *Outcome) { o.Height++ },
		"other readback": func(o *Outcome) { o.Readback = "low" },
	} {
		c := *o
		mutate(&c)
		if err := VerifyOutcome(testCluster, &c, pub(testNode)); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
	if err := VerifyOutcome(testCluster, o, pub("gh-2")); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another node's key: %v", err)
	}
	if err := VerifyOutcome("shed", o, pub(testNode)); !errors.Is(err, ErrWrongCluster) {
		t.Errorf("another cluster: %v", err)
	}
	bad := &Outcome{Action: "blink", Instance: "i-1", Performer: testNode, OK: true, Error: "but failed", Started: "yesterday", Finished: Timestamp(t0)}
	if err := SignOutcome(testCluster, bad, key(testNode)); !errors.Is(err, ErrMalformed) || bad.Sig != "" {
		t.Errorf("SignOutcome of a malformed outcome: %v (sig %q)", err, bad.Sig)
	}
}

func TestSignReadings_Verify(t *testing.T) {
	r := &Readings{Header: Header{TS: Timestamp(t0)}, Node: testNode, Readings: []Reading{{Sensor: "air", Kind: "temperature", Value: 21.25, Unit: "°C"}}}
	if err := SignReadings(testCluster, r, key(testNode)); err != nil {
		t.Fatal(err)
	}
	var back Readings
	if err := Unmarshal(mustJSON(t, r), &back); err != nil {
		t.Fatal(err)
	}
	if err := VerifyReadings(testCluster, &back, pub(testNode)); err != nil {
		t.Fatalf("after a round trip: %v", err)
	}
	back.Readings[0].Value = 30
	if err := VerifyReadings(testCluster, &back, pub(testNode)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("altered value: %v", err)
	}
	nan := &Readings{Header: Header{TS: Timestamp(t0)}, Node: testNode, Readings: []Reading{{Sensor: "air", Value: zero() / zero()}}}
	if err := SignReadings(testCluster, nan, key(testNode)); !errors.Is(err, ErrMalformed) {
		t.Errorf("NaN reading: %v", err)
	}
}

func zero() float64 { return 0 }

func TestSignObservation_Verify(t *testing.T) {
	o := &Observation{Header: Header{TS: Timestamp(t0)}, Node: "gh-2", Input: "witness", Action: "blink", Instance: "i-1",
		Performer: "gh-1", Output: "led", Height: 7, Level: "high", Saw: "high", SeenAt: Timestamp(t0), ClearedAt: Timestamp(t0.Add(time.Second))}
	if err := SignObservation(testCluster, o, key("gh-2")); err != nil {
		t.Fatal(err)
	}
	if err := VerifyObservation(testCluster, o, pub("gh-2")); err != nil {
		t.Fatalf("a fresh signature: %v", err)
	}
	b, _ := json.Marshal(o)
	back, err := DecodeObservation(b)
	if err != nil || VerifyObservation(testCluster, back, pub("gh-2")) != nil {
		t.Fatalf("round trip: %v", err)
	}
	for name, change := range map[string]func(*Observation){
		"saw changed":       func(o *Observation) { o.Saw = "" },
		"performer changed": func(o *Observation) { o.Performer = "gh-3" },
		"instance changed":  func(o *Observation) { o.Instance = "i-2" },
	} {
		c := *o
		change(&c)
		if err := VerifyObservation(testCluster, &c, pub("gh-2")); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
	if err := VerifyObservation(testCluster, o, pub("gh-1")); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another node's key: %v", err)
	}
	if err := VerifyObservation("lab", o, pub("gh-2")); !errors.Is(err, ErrWrongCluster) {
		t.Errorf("another cluster: %v", err)
	}
	bad := *o
	bad.Saw = "low"
	if err := SignObservation(testCluster, &bad, key("gh-2")); !errors.Is(err, ErrMalformed) {
		t.Errorf("saw a level other than the driven one: %v", err)
	}
	if _, err := DecodeObservation([]byte(`{"v":1,"node":"gh-2","extra":1}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown field: %v", err)
	}
}
