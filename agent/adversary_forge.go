package agent

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// forge: the node sends forgeries. Two kinds:
//
//   - Entry frames signed by its own key, so attributable to it, carrying
//     entries it cannot have checked: an advert of another validator's
//     capability document with a garbage signature, and an assignment of
//     an operator's request with a garbage signature. Everything else in
//     them is right (the validator's real key, the performer agreed state
//     picks), so the signature is the one reason they are refused.
//   - Prevotes in another validator's name signed with its own key. Not
//     attributable (anyone can write a name); refused by the transport and
//     counted. They are signed over another cluster's sign bytes, so the
//     signature can never stand as a vote of this node in this cluster
//     (no accidental equivocation evidence).

const (
	// forgeEvery is how often a forged entry frame goes out: 2.5 a second,
	// adverts and assignments in turn.
	forgeEvery = 400 * time.Millisecond
	// forgeVoteEvery is how many entry frames go out per forged prevote:
	// one every 3.2 s.
	forgeVoteEvery = 8
)

type forger struct {
	cluster, self string
	key           ed25519.PrivateKey
	net           adversaryNet
	rng           *rand.Rand

	// victim names the validator whose name the forgeries use, and its
	// key: the first other validator by name (node-1 in a testnet).
	victim func() (name string, key ed25519.PublicKey, ok bool)
	// agreed is a private copy of the agreed state, or nil: what the
	// forged assignment's performer and the forged advert's seq come from.
	agreed func() *agreed.State
	// height is the last decided height.
	height func() uint64
	// action is what the forged requests ask for; "" when the catalogue
	// is empty.
	action string
	// operator is the key the forged requests claim to be signed by: an
	// operator's, or a made-up one when the cluster has none.
	operator ed25519.PublicKey
	// doc lends the forged adverts a plausible body.
	doc *capability.Document

	n uint64 // forged entry frames so far
}

// newForger builds the forger from the agent; Run's goroutine, before the
// loop starts.
func (a *Agent) newForger() *forger {
	f := &forger{
		cluster: a.cluster.Name, self: a.name, key: a.key, net: a.net,
		rng:    seededRand(a.name, "forge"),
		victim: a.forgeVictim,
		agreed: a.agreedCopy(),
		height: func() uint64 { return a.view.Load().height },
		doc:    a.doc,
	}
	f.action = forgeAction(a.cluster.Actions)
	ops := a.cluster.OperatorKeys()
	if names := sortedNames(ops); len(names) > 0 {
		f.operator = ops[names[0]]
	} else {
		f.operator = ed25519.NewKeyFromSeed(f.garbage(ed25519.SeedSize)).Public().(ed25519.PublicKey)
	}
	return f
}

// forgeAction picks what forged requests ask for: the first action by name
// without a cooldown (one with a cooldown may be refused for that), else
// the first.
func forgeAction(actions map[string]config.Action) string {
	names := sortedNames(actions)
	for _, n := range names {
		if actions[n].Cooldown == 0 {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

func (f *forger) run(ctx context.Context) { every(ctx, forgeEvery, f.tick) }

// tick sends one forged entry frame, and every forgeVoteEvery a forged
// prevote.
func (f *forger) tick() {
	f.n++
	e, ok := f.assign()
	if f.n%2 == 1 || !ok {
		e, ok = f.advert()
	}
	if ok {
		f.net.SendFrame("", kindEntry, encodeEntryFrame(f.cluster, f.self, f.key, e), true)
	}
	if f.n%forgeVoteEvery == 0 {
		if m, ok := f.prevote(); ok {
			f.net.Send(m)
		}
	}
}

// advert is an advertise entry of the victim's document: its name and real
// key, a body of this node's hardware, the next seq, a garbage signature.
func (f *forger) advert() (consensus.Entry, bool) {
	name, key, ok := f.victim()
	if !ok {
		return nil, false
	}
	d := &capability.Document{
		V: capability.Version, Cluster: f.cluster, Node: name,
		Key: base64.StdEncoding.EncodeToString(key), Seq: 1,
	}
	if f.doc != nil {
		d.Zone, d.Constraints = f.doc.Zone, f.doc.Constraints
		d.Sensors, d.Outputs, d.Inputs = slices.Clone(f.doc.Sensors), slices.Clone(f.doc.Outputs), slices.Clone(f.doc.Inputs)
	}
	if s := f.agreed(); s != nil {
		if old := s.Capabilities[name]; old != nil {
			d.Seq = old.Seq + 1
		}
	}
	d.Normalize()
	d.Sig = base64.StdEncoding.EncodeToString(f.garbage(ed25519.SignatureSize))
	return (&agreed.Entry{Type: agreed.TypeAdvertise, Doc: d}).Encode(), true
}

// assign is an assign entry of a made-up request, fresh, for an action of
// the catalogue, naming the performer agreed state picks, claiming an
// operator's key and carrying a garbage signature.
func (f *forger) assign() (consensus.Entry, bool) {
	if f.action == "" {
		return nil, false
	}
	id := fmt.Sprintf("forged-%s-%d-%08x", f.self, f.n, f.rng.Uint32())
	req := &wire.Request{
		Header: wire.Header{V: wire.Version, Cluster: f.cluster, TS: wire.Timestamp(time.Now())},
		ID:     id, Action: f.action, Params: map[string]string{},
		Key: base64.StdEncoding.EncodeToString(f.operator),
		Sig: base64.StdEncoding.EncodeToString(f.garbage(ed25519.SignatureSize)),
	}
	performer := f.self
	if name, _, ok := f.victim(); ok {
		performer = name
	}
	if s := f.agreed(); s != nil {
		if e := s.Eligible(f.action, id, nil); len(e) > 0 {
			performer = e[0]
		}
	}
	return (&agreed.Entry{Type: agreed.TypeAssign, Assign: &agreed.Assignment{
		Action: f.action, Instance: agreed.InstanceID(f.cluster, id), RequestID: id,
		Performer: performer, Request: req,
	}}).Encode(), true
}

// prevote is a prevote for a made-up block at the height being decided,
// in the victim's name, signed with this node's key (over another
// cluster's sign bytes, see above).
func (f *forger) prevote() (consensus.Message, bool) {
	name, _, ok := f.victim()
	if !ok {
		return consensus.Message{}, false
	}
	m := consensus.Message{Type: consensus.MsgPrevote, From: consensus.NodeID(f.self), Height: f.height() + 1}
	copy(m.BlockHash[:], f.garbage(len(m.BlockHash)))
	m.Signature = ed25519.Sign(f.key, consensus.SignBytes("forged/"+f.cluster, &m))
	m.From = consensus.NodeID(name)
	return m, true
}

func (f *forger) garbage(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(f.rng.Uint32())
	}
	return b
}

// forgeVictim is the first validator by name other than this node.
func (a *Agent) forgeVictim() (string, ed25519.PublicKey, bool) {
	v := a.view.Load()
	for _, name := range sortedNames(v.validators) {
		if name != a.name {
			return name, v.validators[name], true
		}
	}
	return "", nil, false
}

// agreedCopy returns a function that gives a private copy of the agreed
// state, restored from the store's latest snapshot (genesis before the
// first) and restored again when the store has decided more. The copy is
// the caller's; the loop's state is never touched. One goroutine only.
func (a *Agent) agreedCopy() func() *agreed.State {
	var cached *agreed.State
	var at uint64
	return func() *agreed.State {
		h := a.store.LastHeight()
		if cached != nil && h == at {
			return cached
		}
		s, err := a.restoreCopy()
		if err != nil {
			a.log.Debug("adversary: cannot copy the agreed state", "err", err)
			return cached
		}
		cached, at = s, h
		return s
	}
}

func (a *Agent) restoreCopy() (*agreed.State, error) {
	snap, err := a.store.Snapshot()
	if err != nil {
		return nil, err
	}
	var s *agreed.State
	if snap != nil && snap.Height > 0 {
		s, err = agreed.Restore(snap.Data, a.cluster.Name, a.cluster.OperatorKeys())
	} else {
		genesis := map[string]ed25519.PublicKey{}
		for name := range a.cluster.Validators {
			if k, ok := a.cluster.ValidatorKey(name); ok {
				genesis[name] = k
			}
		}
		s, err = agreed.Genesis(a.cluster.Name, genesis, a.cluster.OperatorKeys())
	}
	if err != nil {
		return nil, err
	}
	s.SetRules(agreed.Rules{Actions: a.cluster.Actions, AllowUnsigned: a.cluster.AllowUnsignedRequests})
	if err := replayCommits(a.store, s); err != nil {
		return nil, err
	}
	return s, nil
}
