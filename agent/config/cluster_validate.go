package config

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/identity"
)

// Validate reports every problem of the cluster file at once, joined with
// errors.Join; each is a *Problem naming its key path (and line, when c was
// loaded from a file). nil means the file is usable.
func (c *Cluster) Validate() error {
	r := newReport(c.src)
	c.validate(r)
	return r.err()
}

func (c *Cluster) validate(r *report) {
	if c.Name == "" {
		r.errorf("cluster", "required: the cluster's name, e.g. cluster: greenhouse")
	} else if msg := checkName(c.Name); msg != "" {
		r.errorf("cluster", "cluster name %s", msg)
	}

	const genHint = "generate one with: head -c32 /dev/urandom | base64"
	if c.GossipKey == "" {
		r.errorf("gossip_key", "required: %s", genHint)
	} else if msg := checkGossipKey(c.GossipKey); msg != "" {
		r.errorf("gossip_key", "%s; %s", msg, genHint)
	}
	for i, k := range c.GossipKeys {
		p := indexPath("gossip_keys", i)
		if msg := checkGossipKey(k); msg != "" {
			r.errorf(p, "%s", msg)
		} else if k == c.GossipKey || slices.Index(c.GossipKeys, k) < i {
			r.errorf(p, "the same key is listed twice")
		}
	}

	if len(c.Validators) == 0 {
		r.errorf("validators", "required: at least one genesis validator, node name → base64 Ed25519 public key")
	}
	checkKeyMap(r, "validators", "node", c.Validators)

	if len(c.Operators) == 0 && !c.AllowUnsignedRequests {
		r.errorf("operators", "required: at least one operator public key to sign requests (or allow_unsigned_requests: true, for a bench only)")
	}
	checkKeyMap(r, "operators", "operator", c.Operators)

	c.Timings.validate(r, "timings")
	c.Gossip.validate(r, "gossip")

	for _, name := range sortedKeys(c.Actions) {
		validateAction(r, keyPath("actions", name), name, c.Actions[name])
	}
}

// checkKeyMap checks a map of names to public keys; kind says what the
// names are ("node", "operator"). A key listed under two names is refused:
// two validators sharing a key are one signer with two votes.
func checkKeyMap(r *report, path, kind string, m map[string]string) {
	owner := map[string]string{}
	for _, name := range sortedKeys(m) {
		p := keyPath(path, name)
		if msg := checkName(name); msg != "" {
			r.errorf(p, "%s name %s", kind, msg)
		}
		if _, err := identity.ParsePublicKey(m[name]); err != nil {
			r.errorf(p, "public key %s; write the base64 Ed25519 public key (pact config pubkey KEYFILE prints it)", err)
			continue
		}
		if other, dup := owner[m[name]]; dup {
			r.errorf(p, "has the same public key as %s.%s: every %s needs its own key", path, other, kind)
			continue
		}
		owner[m[name]] = name
	}
}

func checkGossipKey(s string) string {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "not valid base64"
	}
	if len(k) != gossipKeySize {
		return fmt.Sprintf("decodes to %d bytes; the gossip key must be %d bytes (AES-256)", len(k), gossipKeySize)
	}
	return ""
}

// Bounds on the consensus tick: shorter floods a Pi with timer work, longer
// makes every timeout coarse.
const (
	minTick = time.Millisecond
	maxTick = 10 * time.Second
)

func (t Timings) validate(r *report, path string) {
	switch {
	case t.Tick <= 0:
		r.errorf(keyPath(path, "tick"), "must be positive (default 100ms)")
		return
	case t.Tick < minTick || t.Tick > maxTick:
		r.errorf(keyPath(path, "tick"), "%v is outside [%v, %v]", t.Tick, minTick, maxTick)
		return
	}
	for _, f := range []struct {
		key string
		v   time.Duration
	}{
		{"propose", t.Propose},
		{"prevote", t.Prevote},
		{"precommit", t.Precommit},
		{"round_increase", t.RoundIncrease},
		{"rebroadcast", t.Rebroadcast},
		{"status", t.Status},
	} {
		p := keyPath(path, f.key)
		switch {
		case f.v < t.Tick:
			r.errorf(p, "%v is shorter than one tick (%v)", f.v, t.Tick)
		case f.v%t.Tick != 0:
			r.errorf(p, "%v is not a whole number of ticks (%v); use %v or %v", f.v, t.Tick, f.v.Truncate(t.Tick), f.v.Truncate(t.Tick)+t.Tick)
		}
	}
}

// GossipProfiles lists the valid GossipProfile values.
var GossipProfiles = []GossipProfile{GossipLAN, GossipPi}

func (g Gossip) validate(r *report, path string) {
	if msg := oneOf(g.Profile, GossipProfiles); msg != "" {
		r.errorf(keyPath(path, "profile"), "%s", msg)
	}
	for _, f := range []struct {
		key string
		v   time.Duration
	}{{"probe_interval", g.ProbeInterval}, {"probe_timeout", g.ProbeTimeout}, {"gossip_interval", g.GossipInterval}} {
		if f.v < 0 {
			r.errorf(keyPath(path, f.key), "%v is negative", f.v)
		}
	}
	if g.SuspicionMult < 0 {
		r.errorf(keyPath(path, "suspicion_mult"), "%d is negative", g.SuspicionMult)
	}
	if g.ProbeInterval > 0 && g.ProbeTimeout > 0 && g.ProbeTimeout >= g.ProbeInterval {
		r.errorf(keyPath(path, "probe_timeout"), "%v must be shorter than probe_interval (%v)", g.ProbeTimeout, g.ProbeInterval)
	}
}

// warnings are legal settings that are probably mistakes.
func (c *Cluster) warnings(r *report) {
	if c.AllowUnsignedRequests {
		r.warnf("allow_unsigned_requests", "anyone who can publish to the broker can request actions; use operator keys outside a bench")
	}
	if k, err := base64.StdEncoding.DecodeString(c.GossipKey); err == nil && len(k) == gossipKeySize && looksLikeText(k) {
		r.warnf("gossip_key", "decodes to readable text (%q), not random bytes: generate a real key with head -c32 /dev/urandom | base64", k)
	}
	for _, m := range []struct {
		path string
		keys map[string]string
	}{{"validators", c.Validators}, {"operators", c.Operators}} {
		for _, name := range sortedKeys(m.keys) {
			if pub, err := identity.ParsePublicKey(m.keys[name]); err == nil && looksLikeText(pub) {
				r.warnf(keyPath(m.path, name), "the key decodes to readable text (%q): a placeholder, not a real public key", []byte(pub))
			}
		}
	}
	if n := len(c.Validators); n > 0 && n < 4 {
		r.warnf("validators", "%d validators tolerate no Byzantine node; n = 3f+1 validators tolerate f (4 tolerate 1)", n)
	}
}

// looksLikeText reports whether b is printable ASCII. Random key material
// almost never is (the odds for 32 bytes are about 1 in 10^14); example
// placeholders always are.
func looksLikeText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// sortedKeys returns m's keys in order, so problems come out the same way
// every run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare[string])
	return keys
}

func joinWords[S ~string](ss []S) string {
	words := make([]string, len(ss))
	for i, s := range ss {
		words[i] = string(s)
	}
	return strings.Join(words, ", ")
}
