package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/seed44533760/pact/agent/config"
)

// Size limits. A request larger than MaxRequestSize is refused unread; other
// payloads (a decision may carry many entries) up to MaxPayloadSize.
const (
	MaxRequestSize = 64 << 10
	MaxPayloadSize = 1 << 20
)

// Limits on a request's parameters.
const (
	maxParams     = 32
	maxParamValue = 1024
)

// paramRE is the cluster file's rule for parameter names (config's
// paramRE): `pact request --param duration=2s`.
var paramRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// requestFields are a request's members; required ones are true. A request
// whose members are not exactly among these (in this spelling: encoding/json
// alone would match "ID" to id) is malformed.
var requestFields = map[string]bool{
	"v": true, "cluster": true, "ts": true, "id": true, "action": true, "params": true,
	"key": false, "sig": false,
}

// DecodeRequest parses a request strictly: more than MaxRequestSize bytes,
// anything but one JSON object, unknown or misspelt members, a missing
// required member (v, cluster, ts, id, action, params), a null where an
// object or string belongs, or a field of the wrong form is ErrMalformed.
// It does not check the signature (VerifyRequest does). On error the
// returned request, when not nil, holds whatever could be read — its ID
// lets the error reply name the request.
func DecodeRequest(b []byte) (*Request, error) {
	if len(b) > MaxRequestSize {
		return nil, fmt.Errorf("%w: request is %d bytes, the limit is %d", ErrMalformed, len(b), MaxRequestSize)
	}
	var members map[string]json.RawMessage
	if err := strictJSON(b, &members, false); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	partial := &Request{}
	if raw, ok := members["id"]; ok {
		_ = json.Unmarshal(raw, &partial.ID) // only to name the request in the reply
	}
	var problems []string
	for k := range members {
		if _, ok := requestFields[k]; !ok {
			problems = append(problems, fmt.Sprintf("unknown field %q", k))
		}
	}
	for k, required := range requestFields {
		raw, ok := members[k]
		switch {
		case !ok && required:
			problems = append(problems, fmt.Sprintf("missing field %q", k))
		case ok && bytes.Equal(bytes.TrimSpace(raw), []byte("null")):
			problems = append(problems, fmt.Sprintf("field %q is null", k))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return partial, fmt.Errorf("%w: %s", ErrMalformed, strings.Join(problems, "; "))
	}
	var req Request
	if err := strictJSON(b, &req, true); err != nil {
		return partial, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := req.Check(); err != nil {
		return &req, err
	}
	return &req, nil
}

// Check reports every problem with the request's form, joined; each matches
// ErrMalformed. It does not look at the signature.
func (r *Request) Check() error { return r.check(false) }

// check is Check; unsigned describes a request about to be signed, whose
// key is set and sig not yet.
func (r *Request) check(unsigned bool) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...))
	}
	r.Header.check(bad)
	if !ValidID(r.ID) {
		bad("id %q: use 1 to 128 letters, digits and . _ : - (starting with a letter or digit)", r.ID)
	}
	if !config.ValidName(r.Action) {
		bad("action %q is not a valid name", r.Action)
	}
	if len(r.Params) > maxParams {
		bad("%d params, the limit is %d", len(r.Params), maxParams)
	}
	for _, k := range sortedKeys(r.Params) {
		if !paramRE.MatchString(k) {
			bad("param name %q: use a lower-case letter, then letters, digits and _", k)
		}
		if why := checkText(r.Params[k], maxParamValue); why != "" {
			bad("param %s: %s", k, why)
		}
	}
	switch {
	case unsigned:
	case r.Key == "" && r.Sig == "":
	case r.Key == "" || r.Sig == "":
		bad("key and sig go together: both or neither")
	default:
		if _, err := decodeKey(r.Key); err != nil {
			errs = append(errs, err)
		}
		if _, err := decodeSig(r.Sig); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Check reports every problem with the outcome's form, joined; each matches
// ErrMalformed. It does not look at the signature.
func (o *Outcome) Check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...))
	}
	o.Header.check(bad)
	if !config.ValidName(o.Action) {
		bad("action %q is not a valid name", o.Action)
	}
	if !ValidID(o.Instance) {
		bad("instance %q is not a valid id", o.Instance)
	}
	if o.RequestID != "" && !ValidID(o.RequestID) {
		bad("request_id %q is not a valid id", o.RequestID)
	}
	if !config.ValidName(o.Performer) {
		bad("performer %q is not a valid name", o.Performer)
	}
	for _, f := range [...]struct{ name, ts string }{{"started", o.Started}, {"finished", o.Finished}} {
		if _, err := ParseTime(f.ts); err != nil {
			bad("%s %q is not an RFC 3339 time", f.name, f.ts)
		}
	}
	if o.OK && o.Error != "" {
		bad("ok is true but error is %q", o.Error)
	}
	for _, f := range [...]struct{ name, text string }{{"error", o.Error}, {"readback", o.Readback}} {
		if why := checkText(f.text, 4096); why != "" {
			bad("%s: %s", f.name, why)
		}
	}
	return errors.Join(errs...)
}

// check adds the header's problems.
func (h *Header) check(bad func(string, ...any)) {
	if h.V != Version {
		bad("v is %d, want %d", h.V, Version)
	}
	if !config.ValidName(h.Cluster) {
		bad("cluster %q is not a valid name", h.Cluster)
	}
	if _, err := ParseTime(h.TS); err != nil {
		bad("ts %q is not an RFC 3339 time", h.TS)
	}
}

// checkText says what is wrong with a free-text value, or "": it must be
// valid UTF-8 without control characters or U+2028/U+2029 (see "Sign
// bytes"), and at most limit bytes.
func checkText(s string, limit int) string {
	switch {
	case len(s) > limit:
		return fmt.Sprintf("%d bytes, the limit is %d", len(s), limit)
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	}
	for _, c := range s {
		if unicode.IsControl(c) || c == '\u2028' || c == '\u2029' {
			return fmt.Sprintf("holds the control character %U", c)
		}
	}
	return ""
}

// DecodeOutcome parses an outcome strictly (unknown fields, trailing data,
// more than MaxPayloadSize bytes and a malformed field are ErrMalformed). It
// does not check the signature (VerifyOutcome does).
func DecodeOutcome(b []byte) (*Outcome, error) {
	var o Outcome
	if err := Unmarshal(b, &o); err != nil {
		return nil, err
	}
	if err := o.Check(); err != nil {
		return &o, err
	}
	return &o, nil
}

// Unmarshal decodes any payload of the contract strictly: one JSON value
// of at most MaxPayloadSize bytes, no unknown fields, no trailing data.
// Errors match ErrMalformed.
func Unmarshal(b []byte, v any) error {
	if len(b) > MaxPayloadSize {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrMalformed, len(b), MaxPayloadSize)
	}
	if err := strictJSON(b, v, true); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// strictJSON decodes exactly one JSON value into v, refusing trailing data
// and, with known, unknown fields.
func strictJSON(b []byte, v any, known bool) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if known {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// Printable reports whether s is valid UTF-8 without control characters:
// what a name, client id or text field of a payload may hold.
func Printable(s string) bool { return checkText(s, len(s)) == "" }

// Check validates an observation's fields (not its signature). SignObservation
// sets the header's v and cluster before it checks.
func (o *Observation) Check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: observation: "+format, append([]any{ErrMalformed}, args...)...))
	}
	o.Header.check(bad)
	for _, f := range [...]struct{ name, v string }{{"node", o.Node}, {"input", o.Input}, {"action", o.Action}, {"performer", o.Performer}, {"output", o.Output}} {
		if !config.ValidName(f.v) {
			bad("%s %q is not a valid name", f.name, f.v)
		}
	}
	if !ValidID(o.Instance) {
		bad("instance %q is not a valid id", o.Instance)
	}
	if o.Level != "high" && o.Level != "low" {
		bad("level %q is neither high nor low", o.Level)
	}
	if o.Saw != "" && o.Saw != o.Level {
		bad("saw %q is neither the level nor empty", o.Saw)
	}
	for _, f := range [...]struct{ name, ts string }{{"seen_at", o.SeenAt}, {"cleared_at", o.ClearedAt}, {"watched_from", o.WatchedFrom}, {"watched_until", o.WatchedUntil}} {
		if f.ts == "" {
			continue
		}
		if _, err := ParseTime(f.ts); err != nil {
			bad("%s %q is not an RFC 3339 time", f.name, f.ts)
		}
	}
	return errors.Join(errs...)
}

// DecodeObservation decodes an observation strictly and checks its form.
func DecodeObservation(b []byte) (*Observation, error) {
	var o Observation
	if err := Unmarshal(b, &o); err != nil {
		return nil, err
	}
	if err := o.Check(); err != nil {
		return nil, err
	}
	return &o, nil
}
