package wire

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeRequest_Strict(t *testing.T) {
	valid := `{"v":1,"cluster":"greenhouse","ts":"2026-03-01T12:00:00Z","id":"r-1","action":"blink","params":{"duration":"2s"}}`
	if r, err := DecodeRequest([]byte(valid)); err != nil || r.ID != "r-1" || r.Params["duration"] != "2s" {
		t.Fatalf("valid request: %+v, %v", r, err)
	}
	replace := func(old, new string) string { return strings.Replace(valid, old, new, 1) }
	cases := []struct {
		name, payload, want string
		id                  string // what the partial request names, for the error reply
	}{
		{"not JSON", `{"v":1,`, "unexpected EOF", ""},
		{"not an object", `[1,2]`, "cannot unmarshal array", ""},
		{"trailing data", valid + `{}`, "trailing data", ""},
		{"trailing garbage", valid + `}}`, "trailing data", ""},
		{"unknown field", replace(`"params"`, `"colour":"red","params"`), `unknown field "colour"`, "r-1"},
		{"misspelt case", replace(`"id"`, `"ID"`), `unknown field "ID"`, ""},
		{"missing id", replace(`"id":"r-1",`, ``), `missing field "id"`, ""},
		{"missing params", replace(`,"params":{"duration":"2s"}`, ``), `missing field "params"`, "r-1"},
		{"missing ts", replace(`"ts":"2026-03-01T12:00:00Z",`, ``), `missing field "ts"`, "r-1"},
		{"null params", replace(`{"duration":"2s"}`, `null`), `field "params" is null`, "r-1"},
		{"wrong version", replace(`"v":1`, `"v":2`), "v is 2", "r-1"},
		{"bad ts", replace(`2026-03-01T12:00:00Z`, `yesterday`), "not an RFC 3339 time", "r-1"},
		{"bad action", replace(`"blink"`, `"Blink!"`), "not a valid name", "r-1"},
		{"bad id", replace(`"r-1"`, `"r 1/+"`), "id", "r 1/+"},
		{"bad param name", replace(`"duration"`, `"Duration"`), "param name", "r-1"},
		{"control character", replace(`"2s"`, `"2s\u0007"`), "control character", "r-1"},
		{"line separator", replace(`"2s"`, `"2s\u2028"`), "control character", "r-1"},
		{"param of the wrong type", replace(`"2s"`, `2`), "cannot unmarshal number", "r-1"},
		{"oversized", replace(`"2s"`, `"`+strings.Repeat("x", MaxRequestSize)+`"`), "limit is 65536", ""},
		{"key without sig", replace(`"params"`, `"key":"`+encodeKey(pub("alice"))+`","params"`), "both or neither", "r-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := DecodeRequest([]byte(c.payload))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrMalformed with %q", err, c.want)
			}
			id := ""
			if r != nil {
				id = r.ID
			}
			if id != c.id {
				t.Errorf("partial request id %q, want %q", id, c.id)
			}
		})
	}
}

func TestDecodeRequest_ReportsEveryProblem(t *testing.T) {
	_, err := DecodeRequest([]byte(`{"v":3,"cluster":"X","ts":"","id":"","action":"","params":{}}`))
	for _, want := range []string{"v is 3", "cluster", "ts", "id", "action"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

func TestUnmarshal_Strict(t *testing.T) {
	var s State
	if err := Unmarshal([]byte(`{"v":1,"cluster":"c","ts":"x","node":"n","state":"ready","bdseq":1,"extra":1}`), &s); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown field: %v", err)
	}
	if err := Unmarshal(make([]byte, MaxPayloadSize+1), &s); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized: %v", err)
	}
	if _, err := DecodeOutcome([]byte(`{"v":1}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty outcome: %v", err)
	}
}
