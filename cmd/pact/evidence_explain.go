package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/seed44533760/pact/agent"
	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// The decoding and checking half of pact evidence: each reason's evidence
// turned into an explanation whose every signature was verified here.

type keyring struct {
	keys map[string]namedKey
}

type namedKey struct {
	pub  ed25519.PublicKey
	from string
}

func newKeyring(rep *agent.EjectionsReport, genesis map[string]string) keyring {
	k := keyring{keys: map[string]namedKey{}}
	add := func(name, b64, from string) {
		if _, ok := k.keys[name]; ok || b64 == "" {
			return
		}
		if pub, err := identity.ParsePublicKey(b64); err == nil {
			k.keys[name] = namedKey{pub, from}
		}
	}
	for name, b64 := range rep.Validators {
		add(name, b64, "a validator's key, as the agent reports it")
	}
	for name, j := range rep.Ejections {
		add(name, j.Key, fmt.Sprintf("recorded with its ejection at height %d", j.Height))
	}
	for name, b64 := range genesis {
		add(name, b64, "its genesis key in the cluster file")
	}
	return k
}

func (k keyring) lookup(name string) (ed25519.PublicKey, string, bool) {
	nk, ok := k.keys[name]
	return nk.pub, nk.from, ok
}

// ejectionExplanation is one ejection, decoded and checked: what `pact
// evidence --json` prints.
type ejectionExplanation struct {
	Node    string `json:"node"`
	Height  uint64 `json:"height"`
	Reason  string `json:"reason"`
	Key     string `json:"key"`
	KeyFrom string `json:"key_from"`
	Summary string `json:"summary"`
	// Verified: every signature checks out and the evidence shows what its
	// reason says. Problems say why not.
	Verified bool     `json:"verified"`
	Problems []string `json:"problems,omitempty"`

	Equivocation *equivocationExplanation `json:"equivocation,omitempty"`
	Outcomes     []*outcomeExplanation    `json:"outcomes,omitempty"`
	Accusations  []*accusationExplanation `json:"accusations,omitempty"`
	Forged       *forgedExplanation       `json:"forged,omitempty"`
	// Raw is the start of evidence in a format pact evidence cannot read.
	Raw string `json:"raw,omitempty"`
}

type equivocationExplanation struct {
	Offender string           `json:"offender"`
	Type     string           `json:"type"`
	Height   uint64           `json:"height"`
	Round    int32            `json:"round"`
	Messages [2]signedMessage `json:"messages"`
}

type signedMessage struct {
	BlockHash string `json:"block_hash"` // hex; "nil" for a vote for no block
	POLRound  *int32 `json:"pol_round,omitempty"`
	Signature string `json:"signature"`
	signature
}

// signature says whether a payload's signature checks out with its
// signer's key.
type signature struct {
	SignatureOK    bool   `json:"signature_ok"`
	SignatureError string `json:"signature_error,omitempty"`
}

func checkSignature(signer string, pub ed25519.PublicKey, verify func(ed25519.PublicKey) error) signature {
	if pub == nil {
		return signature{SignatureError: signer + "'s key is unknown (not a validator now, not in the cluster file): not checked"}
	}
	if err := verify(pub); err != nil {
		return signature{SignatureError: err.Error()}
	}
	return signature{SignatureOK: true}
}

type outcomeExplanation struct {
	*wire.Outcome
	signature
}

type observationExplanation struct {
	*wire.Observation
	signature
}

type readingsExplanation struct {
	Node   string `json:"node"`
	At     string `json:"ts"`
	Values int    `json:"values"`
	signature
}

type accusationExplanation struct {
	Accuser string `json:"accuser"`
	Accused string `json:"accused"`
	Reason  string `json:"reason"`
	Height  uint64 `json:"height"`
	At      string `json:"ts"`
	Summary string `json:"summary"`
	signature
	// Evidence is one line on what the accusation rests on; the fields
	// below it are the decoded payloads, each checked with its signer's key.
	Evidence    string                  `json:"evidence"`
	Readings    []*readingsExplanation  `json:"readings,omitempty"`
	Outcome     *outcomeExplanation     `json:"outcome,omitempty"`
	Outcomes    []*outcomeExplanation   `json:"outcomes,omitempty"` // sensor-contradiction: the runs
	Observation *observationExplanation `json:"observation,omitempty"`
	Raw         string                  `json:"raw,omitempty"`
}

// explainer builds one ejection's explanation.
type explainer struct {
	x       *ejectionExplanation
	cluster string
	pub     ed25519.PublicKey // the ejected node's; nil when unknown
	keys    keyring
}

func (e *explainer) problem(format string, args ...any) {
	e.x.Problems = append(e.x.Problems, fmt.Sprintf(format, args...))
}

// keyOf is the key name signs with, the ejected node's included.
func (e *explainer) keyOf(name string) ed25519.PublicKey {
	if name == e.x.Node && e.pub != nil {
		return e.pub
	}
	pub, _, _ := e.keys.lookup(name)
	return pub
}

// unreadable records evidence that does not decode as its reason says.
func (e *explainer) unreadable(evidence []byte, what string, err error) {
	e.problem("the evidence is not %s: %v", what, err)
	e.x.Raw = rawPreview(evidence)
	e.x.Summary = "evidence that does not decode as " + what
}

// explainEjection decodes j's evidence and checks every signature in it.
// It never fails: what it cannot read or check ends up in Problems.
func explainEjection(cluster, node string, j agreed.Ejected, keys keyring) *ejectionExplanation {
	e := &explainer{x: &ejectionExplanation{Node: node, Height: j.Height, Reason: j.Reason, Key: j.Key}, cluster: cluster, keys: keys}
	if pub, err := identity.ParsePublicKey(j.Key); err == nil {
		e.pub, e.x.KeyFrom = pub, "recorded with the ejection"
	} else if pub, from, ok := keys.lookup(node); ok {
		e.pub, e.x.Key, e.x.KeyFrom = pub, identity.PublicKeyString(pub), from
	} else if j.Reason != agreed.ReasonAccused {
		e.problem("%s's key is unknown (none recorded with the ejection, none in the cluster file): its signatures cannot be checked", node)
	}
	switch j.Reason {
	case agreed.ReasonEquivocation:
		e.equivocation(j.Evidence)
	case agreed.ReasonConflictingOutcomes, agreed.ReasonUnassignedOutcome:
		e.outcomes(j.Evidence)
	case agreed.ReasonAccused:
		e.accused(j.Evidence)
	case agreed.ReasonForgedEntry:
		e.forgedEntry(j.Evidence)
	default:
		e.problem("pact evidence does not know the reason %q: the evidence is shown raw", j.Reason)
		e.x.Raw = rawPreview(j.Evidence)
		e.x.Summary = "evidence in a format this pact cannot read"
	}
	e.x.Verified = len(e.x.Problems) == 0
	return e.x
}

func (e *explainer) equivocation(evidence []byte) {
	ev, err := consensus.UnmarshalEvidence(evidence)
	if err != nil {
		e.unreadable(evidence, "consensus evidence", err)
		return
	}
	eq := &equivocationExplanation{Offender: string(ev.Offender()), Type: ev.A.Type.String(), Height: ev.A.Height, Round: ev.A.Round}
	for i, m := range []*consensus.Message{&ev.A, &ev.B} {
		sm := signedMessage{BlockHash: "nil", Signature: base64.StdEncoding.EncodeToString(m.Signature)}
		if !m.BlockHash.IsZero() {
			sm.BlockHash = hex.EncodeToString(m.BlockHash[:])
		}
		if m.Type == consensus.MsgProposal {
			pol := m.POLRound
			sm.POLRound = &pol
		}
		sm.signature = checkSignature(string(m.From), e.keyOf(string(m.From)), func(pub ed25519.PublicKey) error {
			if !(consensus.Ed25519Verifier{}).Verify(consensus.PublicKey(pub), consensus.SignBytes(e.cluster, m), m.Signature) {
				return fmt.Errorf("%w: %s", consensus.ErrBadSignature, m)
			}
			return nil
		})
		eq.Messages[i] = sm
	}
	e.x.Equivocation = eq
	e.x.Summary = fmt.Sprintf("signed two %ss for height %d round %d: %s vs %s", eq.Type, eq.Height, eq.Round, ev.A.BlockHash, ev.B.BlockHash)
	if ev.A.From != ev.B.From || eq.Offender != e.x.Node {
		e.problem("the messages were signed as %s and %s, not %s", ev.A.From, ev.B.From, e.x.Node)
	}
	if e.pub != nil {
		if err := ev.Verify(e.cluster, consensus.PublicKey(e.pub), consensus.Ed25519Verifier{}); err != nil {
			e.problem("%v", err)
		}
	}
}

func (e *explainer) outcomes(evidence []byte) {
	var ev agreed.OutcomeEvidence
	if err := json.Unmarshal(evidence, &ev); err != nil {
		e.unreadable(evidence, "a list of outcomes", err)
		return
	}
	x := e.x
	want := 1
	if x.Reason == agreed.ReasonConflictingOutcomes {
		want = 2
	}
	if len(ev.Outcomes) != want {
		e.problem("%s needs %d outcomes, the evidence holds %d", x.Reason, want, len(ev.Outcomes))
	}
	for i, o := range ev.Outcomes {
		if o == nil {
			e.problem("outcome %d is null", i+1)
			continue
		}
		if o.Performer != x.Node {
			e.problem("outcome %d was performed by %s, not %s", i+1, o.Performer, x.Node)
		}
		oe := e.outcome(o)
		if e.pub != nil && !oe.SignatureOK {
			e.problem("outcome %d: %s", i+1, oe.SignatureError)
		}
		x.Outcomes = append(x.Outcomes, oe)
	}
	if len(x.Outcomes) == 0 {
		x.Summary = "no outcome in the evidence"
		return
	}
	o := x.Outcomes[0].Outcome
	if x.Reason == agreed.ReasonUnassignedOutcome || len(x.Outcomes) < 2 {
		x.Summary = fmt.Sprintf("signed an outcome for %s %s (height %d) it was never assigned: %s", o.Action, o.Instance, o.Height, outcomeResult(o))
		return
	}
	p := x.Outcomes[1].Outcome
	x.Summary = fmt.Sprintf("signed two different outcomes for %s %s (height %d): %s vs %s", o.Action, o.Instance, o.Height, outcomeResult(o), outcomeResult(p))
	if o.Action != p.Action || o.Instance != p.Instance || o.Height != p.Height {
		e.problem("the two outcomes are of different work (%s %s at %d, %s %s at %d)", o.Action, o.Instance, o.Height, p.Action, p.Instance, p.Height)
	} else if o.OK == p.OK && o.Error == p.Error && o.Readback == p.Readback {
		e.problem("the two outcomes say the same thing")
	}
}

func (e *explainer) outcome(o *wire.Outcome) *outcomeExplanation {
	return &outcomeExplanation{o, checkSignature(o.Performer, e.keyOf(o.Performer), func(pub ed25519.PublicKey) error {
		return wire.VerifyOutcome(e.cluster, o, pub)
	})}
}

func (e *explainer) observation(o *wire.Observation) *observationExplanation {
	return &observationExplanation{o, checkSignature(o.Node, e.keyOf(o.Node), func(pub ed25519.PublicKey) error {
		return wire.VerifyObservation(e.cluster, o, pub)
	})}
}

func (e *explainer) accused(evidence []byte) {
	var ev agreed.AccusedEvidence
	if err := json.Unmarshal(evidence, &ev); err != nil {
		e.unreadable(evidence, "a list of accusations", err)
		return
	}
	var accusers, reasons []string
	for i, a := range ev.Accusations {
		if a == nil {
			e.problem("accusation %d is null", i+1)
			continue
		}
		ae := &accusationExplanation{Accuser: a.Node, Accused: a.Accused, Reason: a.Reason, Height: a.Height, At: a.TS, Summary: a.Summary}
		// The accuser's key, never the accused's: nobody accuses itself.
		pub, _, _ := e.keys.lookup(a.Node)
		ae.signature = checkSignature(a.Node, pub, func(pub ed25519.PublicKey) error { return wire.VerifyAccusation(e.cluster, a, pub) })
		if !ae.SignatureOK {
			e.problem("%s's accusation: %s", a.Node, ae.SignatureError)
		}
		if a.Accused != e.x.Node {
			e.problem("%s's accusation is of %s, not %s", a.Node, a.Accused, e.x.Node)
		}
		if slices.Contains(accusers, a.Node) {
			e.problem("%s accuses twice", a.Node)
		}
		accusers = append(accusers, a.Node)
		if !slices.Contains(reasons, a.Reason) {
			reasons = append(reasons, a.Reason)
		}
		e.accusationEvidence(ae, a)
		e.x.Accusations = append(e.x.Accusations, ae)
	}
	if len(e.x.Accusations) == 0 {
		e.problem("no accusation in the evidence")
		e.x.Summary = "accused, but the evidence holds no accusation"
		return
	}
	e.x.Summary = fmt.Sprintf("accused by %s (%s): %s", strings.Join(accusers, ", "), strings.Join(reasons, ", "), e.x.Accusations[0].Summary)
}

// accusationEvidence reads what an accusation rests on. Its signatures are
// shown, not held against the ejection: the accusers' signatures are what
// the cluster decided on, and flood counts, say, are signed by nobody.
func (e *explainer) accusationEvidence(ae *accusationExplanation, a *wire.Accusation) {
	if len(a.Evidence) == 0 {
		ae.Evidence = "none attached: the accuser's word"
		return
	}
	switch a.Reason {
	case wire.AccuseReadings:
		payloads, ok := decodeReadingsEvidence(a.Evidence)
		if !ok {
			break
		}
		perNode := map[string]int{}
		bad := 0
		for _, r := range payloads {
			re := &readingsExplanation{Node: r.Node, At: r.TS, Values: len(r.Readings)}
			re.signature = checkSignature(r.Node, e.keyOf(r.Node), func(pub ed25519.PublicKey) error { return wire.VerifyReadings(e.cluster, r, pub) })
			if !re.SignatureOK {
				bad++
			}
			perNode[r.Node]++
			ae.Readings = append(ae.Readings, re)
		}
		var parts []string
		for _, n := range slices.Sorted(maps.Keys(perNode)) {
			parts = append(parts, fmt.Sprintf("%s ×%d", n, perNode[n]))
		}
		ae.Evidence = fmt.Sprintf("%d signed readings (%s); %s", len(payloads), strings.Join(parts, ", "), countVerified(len(payloads), bad))
		return
	case wire.AccuseWitness:
		var w struct {
			Outcome     *wire.Outcome     `json:"outcome"`
			Observation *wire.Observation `json:"observation"`
		}
		if json.Unmarshal(a.Evidence, &w) != nil || w.Outcome == nil || w.Observation == nil {
			break
		}
		ae.Outcome, ae.Observation = e.outcome(w.Outcome), e.observation(w.Observation)
		o, obs := w.Outcome, w.Observation
		saw := "never saw it " + obs.Level
		if obs.Saw != "" {
			saw = "saw it " + obs.Saw + " at " + obs.SeenAt
		}
		ae.Evidence = fmt.Sprintf("%s's outcome of %s %s: %s (signature %s); %s's %s, wired to %s/%s, watched %s to %s and %s (signature %s)",
			o.Performer, o.Action, o.Instance, outcomeResult(o), okWord(ae.Outcome.SignatureOK),
			obs.Node, obs.Input, obs.Performer, obs.Output, obs.WatchedFrom, obs.WatchedUntil, saw, okWord(ae.Observation.SignatureOK))
		return
	case wire.AccuseEffect:
		var runs []agent.EffectRun
		if json.Unmarshal(a.Evidence, &runs) != nil || len(runs) == 0 {
			break
		}
		var parts []string
		outcomes, readings, bad := 0, 0, 0
		for _, run := range runs {
			if run.Outcome == nil {
				continue
			}
			oe := e.outcome(run.Outcome)
			ae.Outcomes = append(ae.Outcomes, oe)
			outcomes++
			if !oe.SignatureOK {
				bad++
			}
			for _, r := range run.Readings {
				readings++
				if !checkSignature(r.Node, e.keyOf(r.Node), func(pub ed25519.PublicKey) error { return wire.VerifyReadings(e.cluster, r, pub) }).SignatureOK {
					bad++
				}
			}
			parts = append(parts, fmt.Sprintf("%s %s ok, median %.2f before, %.2f after over %d nodes", run.Outcome.Action, run.Outcome.Instance, run.Before, run.After, run.Nodes))
		}
		ae.Evidence = fmt.Sprintf("%s; %d signed outcomes and %d signed readings: %s", strings.Join(parts, "; "), outcomes, readings, countVerified(outcomes+readings, bad))
		return
	case wire.AccuseRogue:
		var obs wire.Observation
		if json.Unmarshal(a.Evidence, &obs) != nil || obs.Node == "" {
			break
		}
		ae.Observation = e.observation(&obs)
		ae.Evidence = fmt.Sprintf("%s's %s saw %s/%s %s at %s with no assignment (signature %s)",
			obs.Node, obs.Input, obs.Performer, obs.Output, obs.Saw, obs.SeenAt, okWord(ae.Observation.SignatureOK))
		return
	}
	ae.Raw = rawPreview(a.Evidence)
	ae.Evidence = "not signed payloads pact evidence can read: " + ae.Raw
}

func outcomeResult(o *wire.Outcome) string {
	s := "ok"
	if !o.OK {
		s = fmt.Sprintf("failed %q", o.Error)
	}
	if o.Readback != "" {
		s += fmt.Sprintf(", readback %q", o.Readback)
	}
	return s
}

// decodeReadingsEvidence reads the signed readings of an
// inconsistent-readings accusation: a list of them, or an object that holds
// them under "evidence" (audit.Accusation).
func decodeReadingsEvidence(b []byte) ([]*wire.Readings, bool) {
	var list []*wire.Readings
	if json.Unmarshal(b, &list) != nil {
		var obj struct {
			Evidence []*wire.Readings `json:"evidence"`
		}
		if json.Unmarshal(b, &obj) != nil || obj.Evidence == nil {
			return nil, false
		}
		list = obj.Evidence
	}
	return slices.DeleteFunc(list, func(r *wire.Readings) bool { return r == nil }), true
}

func countVerified(n, bad int) string {
	switch {
	case n == 0:
		return "nothing to check"
	case bad == 0 && n == 1:
		return "its signature verifies"
	case bad == 0:
		return fmt.Sprintf("all %d signatures verify", n)
	}
	return fmt.Sprintf("%d of %d signatures do NOT verify", bad, n)
}

func okWord(ok bool) string {
	if ok {
		return "ok"
	}
	return "NOT OK"
}

// rawPreview shows the start of evidence pact evidence cannot read: as
// text when it is text, base64 otherwise.
func rawPreview(b []byte) string {
	const limit = 160
	s := string(b)
	if !utf8.Valid(b) {
		s = "base64:" + base64.StdEncoding.EncodeToString(b)
	}
	if utf8.RuneCountInString(s) > limit {
		return terminalSafe(s, limit) + fmt.Sprintf(" (%d bytes)", len(b))
	}
	return terminalSafe(s, limit)
}

// terminalSafe makes a string from the evidence safe for a terminal: control
// characters escaped, at most limit runes.
func terminalSafe(s string, limit int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == limit {
			b.WriteString("…")
			break
		}
		n++
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// reasonMeaning says in one sentence why the reason is grounds for
// ejection.
var reasonMeaning = map[string]string{
	agreed.ReasonEquivocation:        "An honest validator signs one proposal, one prevote and one precommit per round; two that differ told different validators different things. The evidence proves itself: anyone with the node's key and the cluster name can check it.",
	agreed.ReasonConflictingOutcomes: "A performer reports one outcome per assignment; two different ones, both signed by it, prove it lied in one of them.",
	agreed.ReasonUnassignedOutcome:   "The cluster checked its agreed assignments when it decided the ejection: this work was never given to the node. pact evidence checks the signature; the assignments are in the decisions (pact watch).",
	agreed.ReasonAccused:             "What is not self-proving (a lying sensor, a pin that did not move, a flood) ejects a node once f+1 distinct validators accuse it: at least one of them is honest.",
}

// forgedExplanation explains a forged-entry ejection.
type forgedExplanation struct {
	FrameSignatureOK bool   `json:"frame_signature_ok"`
	Entry            string `json:"entry"`
	Why              string `json:"why"`
}

func (e *explainer) forgedEntry(evidence []byte) {
	var f agreed.ForgedFrame
	if err := json.Unmarshal(evidence, &f); err != nil {
		e.unreadable(evidence, "a forged frame", err)
		return
	}
	fx := &forgedExplanation{Entry: rawPreview(f.Entry)}
	e.x.Forged = fx
	if e.pub != nil && ed25519.Verify(e.pub, agreed.EntryFrameSignBytes(e.cluster, f.Entry), f.Sig) {
		fx.FrameSignatureOK = true
	} else {
		e.problem("the frame's signature does not verify with %s's key", e.x.Node)
	}
	// Whether the entry inside is forged is judged by the keys of the
	// cluster at the time; here: the entry's own embedded signatures as far
	// as this command can check them.
	fx.Why = forgedWhy(e.cluster, f.Entry, e.keys)
	if fx.Why == "" {
		e.problem("no forged signature found in the entry with the keys known here")
	}
	e.x.Summary = "signed a frame passing on a forged entry: " + fx.Why
}

// forgedWhy finds the signature that does not verify in a forwarded entry,
// with the keys pact evidence knows.
func forgedWhy(cluster string, raw []byte, keys keyring) string {
	e, err := agreed.Decode(raw)
	if err != nil {
		return "the entry does not decode: " + err.Error()
	}
	switch {
	case e.Doc != nil:
		if err := e.Doc.Verify(cluster); err != nil {
			return fmt.Sprintf("capability document of %s: %v", e.Doc.Node, err)
		}
	case e.Assign != nil && e.Assign.Request != nil:
		r := e.Assign.Request
		if k, err := identity.ParsePublicKey(r.Key); err == nil {
			if err := wire.VerifyRequest(cluster, r, map[string]ed25519.PublicKey{"signer": k}, true); err != nil {
				return fmt.Sprintf("request %s: %v", r.ID, err)
			}
		}
	case e.Assign != nil:
		for _, rd := range e.Assign.Trigger {
			if pub, _, ok := keys.lookup(rd.Node); ok && wire.VerifyReadings(cluster, rd, pub) != nil {
				return "readings of " + rd.Node + " with a bad signature"
			}
		}
	}
	return ""
}
