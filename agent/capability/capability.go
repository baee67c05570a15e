// Package capability is the signed capability document: what one node
// offers the cluster — its sensors, outputs and inputs, its zone and its
// constraints — signed with the node's identity key.
//
// A document is advertised in two ways. Its digest and sequence number ride
// in the node's memberlist meta (which memberlist caps at 512 bytes), so
// peers notice a change at once; the document itself is committed through
// consensus in an `advertise` entry, so every honest node holds the same
// view. Gossip is only ever a hint: a document counts once it is decided.
//
// The signature covers a domain string, the cluster name and the document's
// canonical JSON without its signature, so a document cannot be replayed
// into another cluster or altered in transit.
package capability

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// Version is the document format version carried in V.
const Version = 1

// MaxSize bounds an encoded document; anything larger is refused unread.
const MaxSize = 64 << 10

const signDomain = "pact/capabilities/v1\n"

// Errors.
var (
	ErrMalformed    = errors.New("malformed capability document")
	ErrBadSignature = errors.New("capability document signature does not verify")
)

// Sensor is a sensor the node can read.
type Sensor struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Unit string `json:"unit,omitempty"`
}

// Output is an output the node can drive.
type Output struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Input is an input the node can read; Watches names the output ("node/output")
// it is wired to witness, if any.
type Input struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Watches string `json:"watches,omitempty"`
}

// Constraints limit what the node may be asked to do.
type Constraints struct {
	Power   string  `json:"power,omitempty"`
	MaxDuty float64 `json:"max_duty,omitempty"`
}

// Document is a node's signed capability document. Field names are the
// contract of the retained MQTT topic nodes/<node>/capabilities.
type Document struct {
	V           int         `json:"v"`
	Cluster     string      `json:"cluster"`
	Node        string      `json:"node"`
	Key         string      `json:"key"` // base64 Ed25519 public key
	Zone        string      `json:"zone"`
	Sensors     []Sensor    `json:"sensors"`
	Outputs     []Output    `json:"outputs"`
	Inputs      []Input     `json:"inputs"`
	Constraints Constraints `json:"constraints"`
	Seq         uint64      `json:"seq"`
	Sig         string      `json:"sig"` // base64 Ed25519 signature
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]{0,62})$`)

// Normalize sorts the lists by name, so that two nodes describing the same
// hardware produce the same document and digest, and makes nil lists empty
// so the JSON says [] rather than null.
func (d *Document) Normalize() {
	slices.SortFunc(d.Sensors, func(a, b Sensor) int { return cmpStr(a.Name, b.Name) })
	slices.SortFunc(d.Outputs, func(a, b Output) int { return cmpStr(a.Name, b.Name) })
	slices.SortFunc(d.Inputs, func(a, b Input) int { return cmpStr(a.Name, b.Name) })
	if d.Sensors == nil {
		d.Sensors = []Sensor{}
	}
	if d.Outputs == nil {
		d.Outputs = []Output{}
	}
	if d.Inputs == nil {
		d.Inputs = []Input{}
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// signBytes is what the signature covers.
func (d *Document) signBytes() []byte {
	c := *d
	c.Sig = ""
	body, err := json.Marshal(&c)
	if err != nil {
		panic(fmt.Sprintf("capability: marshal of a plain struct failed: %v", err))
	}
	return append([]byte(signDomain), body...)
}

// Sign fills in Key and Sig with the node's identity key.
func (d *Document) Sign(key ed25519.PrivateKey) {
	d.V = Version
	d.Normalize()
	d.Key = base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	d.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(key, d.signBytes()))
}

// PublicKey decodes Key.
func (d *Document) PublicKey() (ed25519.PublicKey, error) {
	k, err := base64.StdEncoding.DecodeString(d.Key)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: key is not a base64 Ed25519 public key", ErrMalformed)
	}
	return ed25519.PublicKey(k), nil
}

// Verify checks the document's form and that it is signed, for cluster, by
// the key it carries. Whether that key belongs to the node is the caller's
// question (the agreed validator set answers it).
func (d *Document) Verify(cluster string) error {
	if err := d.check(); err != nil {
		return err
	}
	if d.Cluster != cluster {
		return fmt.Errorf("%w: document for cluster %q, not %q", ErrBadSignature, d.Cluster, cluster)
	}
	pub, err := d.PublicKey()
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(d.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: sig is not a base64 Ed25519 signature", ErrMalformed)
	}
	if !ed25519.Verify(pub, d.signBytes(), sig) {
		return ErrBadSignature
	}
	return nil
}

func (d *Document) check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...))
	}
	if d.V != Version {
		bad("v is %d, want %d", d.V, Version)
	}
	if !nameRE.MatchString(d.Node) {
		bad("node %q is not a valid node name", d.Node)
	}
	// Device names must be valid and unique within each list.
	checkList := func(list string, names, kinds []string) {
		seen := map[string]bool{}
		for i, name := range names {
			if !nameRE.MatchString(name) || kinds[i] == "" {
				bad("%s[%d]: name %q or kind %q invalid", list, i, name, kinds[i])
			}
			if seen[name] {
				bad("%s[%d]: %q listed twice", list, i, name)
			}
			seen[name] = true
		}
	}
	var names, kinds []string
	for _, x := range d.Sensors {
		names, kinds = append(names, x.Name), append(kinds, x.Kind)
	}
	checkList("sensors", names, kinds)
	names, kinds = nil, nil
	for _, x := range d.Outputs {
		names, kinds = append(names, x.Name), append(kinds, x.Kind)
	}
	checkList("outputs", names, kinds)
	names, kinds = nil, nil
	for _, x := range d.Inputs {
		names, kinds = append(names, x.Name), append(kinds, x.Kind)
	}
	checkList("inputs", names, kinds)
	if d.Constraints.MaxDuty < 0 || d.Constraints.MaxDuty > 1 {
		bad("constraints.max_duty %v outside 0..1", d.Constraints.MaxDuty)
	}
	return errors.Join(errs...)
}

// Marshal encodes the document as JSON.
func (d *Document) Marshal() []byte {
	b, err := json.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("capability: marshal of a plain struct failed: %v", err))
	}
	return b
}

// Unmarshal decodes a document strictly: unknown fields and oversized input
// are refused. It does not verify the signature.
func Unmarshal(b []byte) (*Document, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(b), MaxSize)
	}
	var d Document
	if err := strictJSON(b, &d); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return &d, nil
}

// Digest identifies a signed document in 32 bytes: what node meta carries.
func (d *Document) Digest() [32]byte { return sha256.Sum256(d.Marshal()) }

// Sensor, Output and Input lookups.

// HasOutput reports whether the document offers an output matching name
// (if set) and kind (if set).
func (d *Document) HasOutput(name, kind string) bool {
	for _, o := range d.Outputs {
		if (name == "" || o.Name == name) && (kind == "" || o.Kind == kind) {
			return true
		}
	}
	return false
}
