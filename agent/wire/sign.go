package wire

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
)

// Sign bytes
//
// A signed payload's signature covers
//
//	<domain> "\n" <cluster> "\n" <canonical JSON of the payload without "sig">
//
// where domain is "pact/request/v1", "pact/outcome/v1" or "pact/readings/v1",
// so a signature is never valid for another kind of message or another
// cluster. The canonical JSON is RFC 8785 (JCS) for the payloads pact
// accepts: members sorted by name at every level, no whitespace, numbers as
// ECMAScript prints them, strings with only '"', '\' and control characters
// escaped. An operator's script in another language signs a request by
// building that text; a request whose strings hold U+2028 or U+2029 (which
// Go would escape, JCS would not) is refused rather than signed ambiguously.

// Domains of the signed payloads.
const (
	DomainRequest     = "pact/request/v1"
	DomainOutcome     = "pact/outcome/v1"
	DomainReadings    = "pact/readings/v1"
	DomainObservation = "pact/observation/v1"
)

// SignBytes returns what a signature over payload v covers: domain, cluster
// and the canonical JSON of v with its top-level "sig" member removed.
func SignBytes(domain, cluster string, v any) []byte {
	body, err := canonicalJSON(v, "sig")
	if err != nil {
		panic(fmt.Sprintf("report: canonical JSON of a payload struct failed: %v", err))
	}
	out := make([]byte, 0, len(domain)+len(cluster)+2+len(body))
	out = append(out, domain...)
	out = append(out, '\n')
	out = append(out, cluster...)
	out = append(out, '\n')
	return append(out, body...)
}

// canonicalJSON encodes v as JCS-style canonical JSON without the named
// top-level members. encoding/json already writes numbers as ECMAScript
// does; going through a generic value sorts every object's members (Go
// sorts map keys), and json.Number keeps the numbers' text untouched.
func canonicalJSON(v any, drop ...string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	if m, ok := generic.(map[string]any); ok {
		for _, k := range drop {
			delete(m, k)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func encodeSig(key ed25519.PrivateKey, msg []byte) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(key, msg))
}

func encodeKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

func decodeSig(s string) ([]byte, error) {
	sig, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: sig is not a base64 Ed25519 signature", ErrMalformed)
	}
	return sig, nil
}

func decodeKey(s string) (ed25519.PublicKey, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: key is not a base64 Ed25519 public key", ErrMalformed)
	}
	return ed25519.PublicKey(k), nil
}

// SignRequest signs req for cluster with an operator key: it sets v,
// cluster and key (and an empty params map for nil), checks the request's
// form and fills in sig. ts, id and action are the caller's.
func SignRequest(cluster string, req *Request, key ed25519.PrivateKey) error {
	req.V, req.Cluster = Version, cluster
	if req.Params == nil {
		req.Params = map[string]string{}
	}
	req.Key = encodeKey(key.Public().(ed25519.PublicKey))
	req.Sig = ""
	if err := req.check(true); err != nil {
		return err
	}
	req.Sig = encodeSig(key, SignBytes(DomainRequest, cluster, req))
	return nil
}

// VerifyRequest checks that req is a well-formed request for cluster, signed
// by one of operators (name → key). An unsigned request (no key, no sig)
// passes only when allowUnsigned is set (the cluster file's
// allow_unsigned_requests). The errors match ErrMalformed, ErrWrongCluster
// (and so ErrBadSignature), ErrUnsigned, ErrUnknownOperator and
// ErrBadSignature.
func VerifyRequest(cluster string, req *Request, operators map[string]ed25519.PublicKey, allowUnsigned bool) error {
	_, err := VerifyRequestBy(cluster, req, operators, allowUnsigned)
	return err
}

// VerifyRequestBy is VerifyRequest that also says which operator signed ("" for
// an unsigned request).
func VerifyRequestBy(cluster string, req *Request, operators map[string]ed25519.PublicKey, allowUnsigned bool) (string, error) {
	if err := req.Check(); err != nil {
		return "", err
	}
	if req.Cluster != cluster {
		return "", fmt.Errorf("%w: request for cluster %q, not %q", ErrWrongCluster, req.Cluster, cluster)
	}
	if req.Key == "" && req.Sig == "" {
		if allowUnsigned {
			return "", nil
		}
		return "", ErrUnsigned
	}
	pub, err := decodeKey(req.Key)
	if err != nil {
		return "", err
	}
	operator := ""
	for name, k := range operators {
		if k.Equal(pub) {
			operator = name
			break
		}
	}
	if operator == "" {
		return "", fmt.Errorf("%w: %s", ErrUnknownOperator, req.Key)
	}
	sig, err := decodeSig(req.Sig)
	if err != nil {
		return "", err
	}
	if !ed25519.Verify(pub, SignBytes(DomainRequest, cluster, req), sig) {
		return "", fmt.Errorf("%w: request %s from operator %s", ErrBadSignature, req.ID, operator)
	}
	return operator, nil
}

// SignOutcome signs o for cluster with the performer's node key: it sets v
// and cluster, ts to finished when it is empty, checks the outcome's form
// and fills in sig.
func SignOutcome(cluster string, o *Outcome, key ed25519.PrivateKey) error {
	o.V, o.Cluster = Version, cluster
	if o.TS == "" {
		o.TS = o.Finished
	}
	o.Sig = ""
	if err := o.Check(); err != nil {
		return err
	}
	o.Sig = encodeSig(key, SignBytes(DomainOutcome, cluster, o))
	return nil
}

// VerifyOutcome checks that o is a well-formed outcome for cluster signed
// with performer, the performer's node key (from the agreed validator set;
// the outcome does not carry it).
func VerifyOutcome(cluster string, o *Outcome, performer ed25519.PublicKey) error {
	if err := o.Check(); err != nil {
		return err
	}
	if o.Cluster != cluster {
		return fmt.Errorf("%w: outcome for cluster %q, not %q", ErrWrongCluster, o.Cluster, cluster)
	}
	sig, err := decodeSig(o.Sig)
	if err != nil {
		return err
	}
	if !ed25519.Verify(performer, SignBytes(DomainOutcome, cluster, o), sig) {
		return fmt.Errorf("%w: outcome %s/%s from %s", ErrBadSignature, o.Action, o.Instance, o.Performer)
	}
	return nil
}

// SignReadings signs r for cluster with the node's key: it sets v and
// cluster and fills in sig. ts and node are the caller's. A value that JSON
// cannot carry (NaN, ±Inf) is ErrMalformed.
func SignReadings(cluster string, r *Readings, key ed25519.PrivateKey) error {
	r.V, r.Cluster, r.Sig = Version, cluster, ""
	if r.Readings == nil {
		r.Readings = []Reading{}
	}
	for i, x := range r.Readings {
		if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) {
			return fmt.Errorf("%w: readings[%d] (%s): value %v", ErrMalformed, i, x.Sensor, x.Value)
		}
	}
	r.Sig = encodeSig(key, SignBytes(DomainReadings, cluster, r))
	return nil
}

// VerifyReadings checks r's signature for cluster with the node's key.
func VerifyReadings(cluster string, r *Readings, node ed25519.PublicKey) error {
	if r.Cluster != cluster {
		return fmt.Errorf("%w: readings for cluster %q, not %q", ErrWrongCluster, r.Cluster, cluster)
	}
	sig, err := decodeSig(r.Sig)
	if err != nil {
		return err
	}
	if !ed25519.Verify(node, SignBytes(DomainReadings, cluster, r), sig) {
		return fmt.Errorf("%w: readings from %s", ErrBadSignature, r.Node)
	}
	return nil
}

// SignObservation signs o for cluster with the witness's node key: it sets
// v and cluster and fills in sig. ts and the rest are the caller's.
func SignObservation(cluster string, o *Observation, key ed25519.PrivateKey) error {
	o.V, o.Cluster, o.Sig = Version, cluster, ""
	if err := o.Check(); err != nil {
		return err
	}
	o.Sig = encodeSig(key, SignBytes(DomainObservation, cluster, o))
	return nil
}

// VerifyObservation checks o's form and its signature for cluster with the
// witness's node key.
func VerifyObservation(cluster string, o *Observation, witness ed25519.PublicKey) error {
	if err := o.Check(); err != nil {
		return err
	}
	if o.Cluster != cluster {
		return fmt.Errorf("%w: observation for cluster %q, not %q", ErrWrongCluster, o.Cluster, cluster)
	}
	sig, err := decodeSig(o.Sig)
	if err != nil {
		return err
	}
	if !ed25519.Verify(witness, SignBytes(DomainObservation, cluster, o), sig) {
		return fmt.Errorf("%w: observation of %s/%s by %s", ErrBadSignature, o.Action, o.Instance, o.Node)
	}
	return nil
}
