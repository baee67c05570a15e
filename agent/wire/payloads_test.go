package wire

import (
	"strings"
	"testing"

	"github.com/seed44533760/pact/consensus"
)

// A request's JSON and the exact bytes its signature covers, which an
// operator's script in another language must reproduce.
func TestRequest_GoldenSignBytes(t *testing.T) {
	req := &Request{Header: Header{TS: "2026-03-01T12:00:00Z"}, ID: "r-1", Action: "blink", Params: map[string]string{"pin": "<17>", "duration": "2s"}}
	if err := SignRequest(testCluster, req, key("alice")); err != nil {
		t.Fatal(err)
	}
	k := req.Key
	wantJSON := `{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:00Z","id":"r-1","action":"blink","params":{"duration":"2s","pin":"\u003c17\u003e"},"key":"` + k + `","sig":"` + req.Sig + `"}`
	if got := string(mustJSON(t, req)); got != wantJSON {
		t.Errorf("request JSON:\n got %s\nwant %s", got, wantJSON)
	}
	// Members sorted, no whitespace, no HTML escaping, sig left out.
	wantSign := "pact/request/v1\ngreenhouse\n" +
		`{"action":"blink","cluster":"greenhouse","id":"r-1","key":"` + k + `","params":{"duration":"2s","pin":"<17>"},"ts":"2026-03-01T12:00:00Z","v":1}`
	if got := string(SignBytes(DomainRequest, testCluster, req)); got != wantSign {
		t.Errorf("sign bytes:\n got %q\nwant %q", got, wantSign)
	}
}

// Numbers in sign bytes are written as ECMAScript (and so RFC 8785) writes
// them, and survive a decode and re-encode unchanged.
func TestSignBytes_Numbers(t *testing.T) {
	for _, v := range []float64{21.5, 0.1, 1e21, 1e-7, -0, 100, 123456789.125} {
		r := &Readings{Header: Header{V: 1, Cluster: testCluster, TS: Timestamp(t0)}, Node: testNode, Readings: []Reading{{Sensor: "s", Kind: "k", Value: v}}}
		b1 := SignBytes(DomainReadings, testCluster, r)
		var back Readings
		if err := Unmarshal(mustJSON(t, r), &back); err != nil {
			t.Fatal(err)
		}
		if b2 := SignBytes(DomainReadings, testCluster, &back); string(b1) != string(b2) {
			t.Errorf("%v: sign bytes change across a round trip:\n%s\n%s", v, b1, b2)
		}
	}
	r := &Readings{Readings: []Reading{{Value: 1e21}, {Value: 0.000001}, {Value: 1e-7}}}
	got := string(SignBytes(DomainReadings, testCluster, r))
	if !strings.Contains(got, `"value":1e+21`) || !strings.Contains(got, `"value":0.000001`) || !strings.Contains(got, `"value":1e-7`) {
		t.Errorf("numbers not in ECMAScript form: %s", got)
	}
}

func TestCertificateOf(t *testing.T) {
	c := &consensus.Commit{Block: consensus.Block{Height: 3, Entries: []consensus.Entry{[]byte("x")}}, Round: 2,
		Votes: []consensus.CommitVote{{From: "a", Signature: []byte{0xff}}, {From: "b", Signature: []byte{0}}}}
	cert := CertificateOf(c)
	h := c.Block.Hash()
	if cert.Round != 2 || len(cert.Votes) != 2 || cert.Votes[0] != (Vote{From: "a", Sig: "/w=="}) || len(cert.Block) != 64 || !strings.HasPrefix(cert.Block, h.String()) {
		t.Errorf("CertificateOf = %+v", cert)
	}
}
