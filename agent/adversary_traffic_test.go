package agent

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// Tests of the adversary's own traffic: forge, replay, flood. node-4 is
// the adversary, node-1 to node-3 are honest.

// advFixture is an agreed state after height 1, which decided every
// validator's advert (a led each); blink is the catalogue.
type advFixture struct {
	state   *agreed.State
	docs    map[string]*capability.Document
	adverts []consensus.Entry // decided at height 1
	commit  *consensus.Commit // height 1, precommits of node-1 to node-3
}

var advNodes = []string{"node-1", "node-2", "node-3", "node-4"}

func advActions() map[string]config.Action {
	return map[string]config.Action{
		"blink": {Needs: config.Needs{OutputKind: config.OutputLED}, Drive: config.Drive{Level: config.High, Duration: time.Second}, Deadline: 10 * time.Second},
		"alarm": {Needs: config.Needs{OutputKind: config.OutputLED}, Cooldown: time.Minute},
	}
}

func advDoc(node string, seq uint64) *capability.Document {
	d := &capability.Document{Cluster: advCluster, Node: node, Zone: "greenhouse", Outputs: []capability.Output{{Name: "led", Kind: "led"}}, Seq: seq}
	d.Sign(advKey(node))
	return d
}

func newAdvFixture(t *testing.T) *advFixture {
	t.Helper()
	vals := map[string]ed25519.PublicKey{}
	for _, n := range advNodes {
		vals[n] = advPub(n)
	}
	st, err := agreed.Genesis(advCluster, vals, map[string]ed25519.PublicKey{"ops": advPub("operator")})
	if err != nil {
		t.Fatal(err)
	}
	st.SetRules(agreed.Rules{Actions: advActions()})
	fx := &advFixture{state: st, docs: map[string]*capability.Document{}}
	for _, n := range advNodes {
		fx.docs[n] = advDoc(n, 1)
		fx.adverts = append(fx.adverts, (&agreed.Entry{Type: agreed.TypeAdvertise, Doc: fx.docs[n]}).Encode())
	}
	if err := st.Validate(1, fx.adverts); err != nil {
		t.Fatal(err)
	}
	st.Apply(1, fx.adverts, st.ValidatorSet())
	fx.commit = &consensus.Commit{Block: consensus.Block{Height: 1, Entries: fx.adverts}}
	for _, n := range advNodes[:3] {
		m := consensus.Message{Type: consensus.MsgPrecommit, Height: 1, BlockHash: fx.commit.Block.Hash()}
		fx.commit.Votes = append(fx.commit.Votes, consensus.CommitVote{From: consensus.NodeID(n), Signature: ed25519.Sign(advKey(n), consensus.SignBytes(advCluster, &m))})
	}
	return fx
}

// advVote is node's validly signed prevote at height h.
func advVote(node string, h uint64) consensus.Message {
	m := consensus.Message{Type: consensus.MsgPrevote, From: consensus.NodeID(node), Height: h}
	m.BlockHash[0] = byte(h)
	m.Signature = ed25519.Sign(advKey(node), consensus.SignBytes(advCluster, &m))
	return m
}

// recordingNet records what the adversary sends.
type recordingNet struct {
	mu     sync.Mutex
	frames []recordedFrame
	msgs   []consensus.Message
}

type recordedFrame struct {
	to       string
	kind     transport.Kind
	payload  []byte
	reliable bool
}

func (r *recordingNet) Send(m consensus.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
}

func (r *recordingNet) SendFrame(to string, kind transport.Kind, payload []byte, reliable bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, recordedFrame{to, kind, slices.Clone(payload), reliable})
}

var _ adversaryNet = (*recordingNet)(nil)

// advEntry checks that f is an entry frame signed by node-4 — attributable
// to it — and returns the entry it carries.
func advEntry(t *testing.T, f recordedFrame) consensus.Entry {
	t.Helper()
	if f.kind != kindEntry || f.to != "" {
		t.Fatalf("frame of kind %s to %q, want an entry frame to everyone", f.kind, f.to)
	}
	from, _, entry, err := decodeEntryFrame(f.payload)
	if err != nil || from != "node-4" {
		t.Fatalf("entry frame from %q: %v", from, err)
	}
	if err := (entryVetter{cluster: advCluster}).Verify("node-4", consensus.PublicKey(advPub("node-4")), true, f.payload); err != nil {
		t.Fatalf("entry frame not signed by node-4: %v", err)
	}
	return entry
}

// advSigned reports whether m verifies as a vote of its named sender.
func advSigned(m consensus.Message) bool {
	return ed25519.Verify(advPub(string(m.From)), consensus.SignBytes(advCluster, &m), m.Signature)
}

func TestAdversary_ForgeSendsAttributableForgeries(t *testing.T) {
	fx := newAdvFixture(t)
	rec := &recordingNet{}
	f := &forger{
		cluster: advCluster, self: "node-4", key: advKey("node-4"), net: rec, rng: seededRand("node-4", "forge"),
		victim: func() (string, ed25519.PublicKey, bool) { return "node-1", advPub("node-1"), true },
		agreed: func() *agreed.State { return fx.state },
		height: func() uint64 { return fx.state.Height },
		action: "blink", operator: advPub("operator"), doc: fx.docs["node-4"],
	}
	for range forgeVoteEvery {
		f.tick()
	}
	if len(rec.frames) != forgeVoteEvery || len(rec.msgs) != 1 {
		t.Fatalf("%d entry frames and %d consensus messages in %d ticks, want %d and 1", len(rec.frames), len(rec.msgs), forgeVoteEvery, forgeVoteEvery)
	}
	kinds := map[string]int{}
	for _, fr := range rec.frames {
		raw := advEntry(t, fr)
		_, err := fx.state.CheckEntry(raw)
		if err == nil || !strings.Contains(err.Error(), "signature") {
			t.Errorf("forged entry %s: agreed state says %v, want it refused for its signature", raw, err)
			continue
		}
		e, _ := agreed.Decode(raw)
		kinds[e.Type]++
		// With a genuine signature the same entry passes: the signature
		// is the one fault, and honest nodes can tell it is forged.
		switch e.Type {
		case agreed.TypeAdvertise:
			if e.Doc.Node != "node-1" || e.Doc.Key != base64.StdEncoding.EncodeToString(advPub("node-1")) || e.Doc.Seq != 2 {
				t.Errorf("forged advert of %s with key %s seq %d, want node-1's key, seq 2", e.Doc.Node, e.Doc.Key, e.Doc.Seq)
			}
			e.Doc.Sign(advKey("node-1"))
		case agreed.TypeAssign:
			if err := wire.SignRequest(advCluster, e.Assign.Request, advKey("operator")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := fx.state.CheckEntry(e.Encode()); err != nil {
			t.Errorf("%s entry signed for real: %v", e.Type, err)
		}
	}
	if kinds[agreed.TypeAdvertise] != forgeVoteEvery/2 || kinds[agreed.TypeAssign] != forgeVoteEvery/2 {
		t.Errorf("forged entries %v, want adverts and assignments in turn", kinds)
	}

	m := rec.msgs[0]
	if m.Type != consensus.MsgPrevote || m.From != "node-1" || m.Height != 2 {
		t.Errorf("forged message %v, want a prevote at height 2 in node-1's name", &m)
	}
	if advSigned(m) {
		t.Error("the forged prevote verifies as node-1's")
	}
	if m.From = "node-4"; advSigned(m) {
		t.Error("the forged prevote verifies as node-4's own: it would be evidence against it")
	}

	// Rates: 2.5 entry frames a second, a prevote every 3.2 s.
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingNet{}
		f.net, f.n = rec, 0
		ctx, cancel := context.WithCancel(context.Background())
		go f.run(ctx)
		time.Sleep(10*time.Second + time.Millisecond)
		cancel()
		synctest.Wait()
		if len(rec.frames) != 25 || len(rec.msgs) != 3 {
			t.Errorf("in 10 s: %d entry frames and %d prevotes, want 25 and 3", len(rec.frames), len(rec.msgs))
		}
	})
}

// newForger takes what it needs from the agent: the victim from the view,
// an operator's key, an action without a cooldown, a copy of the agreed
// state from the store (genesis before any snapshot).
func TestAdversary_ForgeWiring(t *testing.T) {
	fx := newAdvFixture(t)
	st, err := store.Open(filepath.Join(t.TempDir(), "pact.db"), advCluster, "node-4", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cl := &config.Cluster{Name: advCluster, Validators: map[string]string{}, Actions: advActions(),
		Operators: map[string]string{"ops": identity.PublicKeyString(advPub("operator"))}}
	for _, n := range advNodes {
		cl.Validators[n] = identity.PublicKeyString(advPub(n))
	}
	a := &Agent{name: "node-4", cluster: cl, key: advKey("node-4"), store: st, doc: fx.docs["node-4"], log: discard}
	a.view.Store(newView(fx.state))
	f := a.newForger()
	if name, key, ok := f.victim(); !ok || name != "node-1" || !key.Equal(advPub("node-1")) {
		t.Errorf("victim %s, want node-1 with its key", name)
	}
	if f.action != "blink" || !f.operator.Equal(advPub("operator")) {
		t.Errorf("action %q, operator %x; want blink (alarm has a cooldown) and the operator's key", f.action, f.operator)
	}
	s := f.agreed()
	if s == nil || s.Height != 0 || len(s.ValidatorNames()) != 4 || f.agreed() != s {
		t.Fatalf("agreed copy %+v, want genesis with four validators, cached", s)
	}
	if f.height() != 1 {
		t.Errorf("height %d, want the view's 1", f.height())
	}
}

func TestAdversary_ReplayResendsOldMessages(t *testing.T) {
	fx := newAdvFixture(t)
	adv := advMode(t, "node-4", "replay")
	own := []consensus.Message{advVote("node-4", 1), advVote("node-4", 2)}
	for _, v := range own {
		adv.ownVotes.keep(v)
	}
	adv.noteDecided(fx.adverts)
	commits := advCommits{1: fx.commit}
	rec := &recordingNet{}
	r := newReplayer(advCluster, "node-4", advKey("node-4"), rec, commits, adv.decided, adv.ownVotes)
	const ticks = 40
	for range ticks {
		r.tick()
	}
	if len(rec.frames) != ticks || len(rec.msgs) != ticks {
		t.Fatalf("%d entry frames and %d consensus messages in %d ticks, want %d each", len(rec.frames), len(rec.msgs), ticks, ticks)
	}
	for _, fr := range rec.frames {
		raw := advEntry(t, fr)
		if !slices.ContainsFunc(fx.adverts, func(e consensus.Entry) bool { return string(e) == string(raw) }) {
			t.Errorf("replayed %s, which was never decided", raw)
		}
		if _, err := fx.state.CheckEntry(raw); err == nil || !strings.Contains(err.Error(), "not newer") {
			t.Errorf("replayed entry: agreed state says %v, want it refused as decided", err)
		}
	}
	var precommits, ownVotes int
	for _, m := range rec.msgs {
		switch {
		case slices.ContainsFunc(own, func(v consensus.Message) bool { return v.Height == m.Height && v.Type == m.Type && v.From == m.From }):
			ownVotes++
		case m.Type == consensus.MsgPrecommit && m.Height == 1 && m.From != "node-4":
			precommits++
		default:
			t.Errorf("replayed %v: neither its own vote nor a stored precommit", &m)
		}
		if !advSigned(m) {
			t.Errorf("replayed %v does not verify as its sender's: not a replay", &m)
		}
	}
	if precommits == 0 || ownVotes == 0 {
		t.Errorf("replayed %d stored precommits and %d own votes, want both", precommits, ownVotes)
	}

	// Without noteDecided, the stored blocks supply the entries.
	rec2 := &recordingNet{}
	r2 := newReplayer(advCluster, "node-4", advKey("node-4"), rec2, commits, newEntryRing(decidedMemory), newVoteRing(ownVoteMemory))
	r2.tick()
	if len(rec2.frames) != 1 || !slices.ContainsFunc(fx.adverts, func(e consensus.Entry) bool { return string(e) == string(advEntry(t, rec2.frames[0])) }) {
		t.Errorf("without noteDecided: %d frames, want one decided entry", len(rec2.frames))
	}
}

type advCommits map[uint64]*consensus.Commit

func (c advCommits) LastHeight() uint64 { return slices.Max(slices.Collect(maps.Keys(c))) }

func (c advCommits) Commit(h uint64) (*consensus.Commit, bool) { x, ok := c[h]; return x, ok }

func TestAdversary_FloodRates(t *testing.T) {
	fx := newAdvFixture(t)
	doc := advDoc("node-4", 3)
	committed := (&agreed.Entry{Type: agreed.TypeAdvertise, Doc: doc}).Encode()
	fx.state.Apply(2, []consensus.Entry{committed}, fx.state.ValidatorSet())
	votes := newVoteRing(ownVoteMemory)
	for h := range uint64(10) {
		votes.keep(advVote("node-4", h+1))
	}
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingNet{}
		f := newFlooder(advCluster, "node-4", advKey("node-4"), rec, doc, votes)
		ctx, cancel := context.WithCancel(context.Background())
		go f.run(ctx)
		time.Sleep(10*time.Second + time.Millisecond)
		cancel()
		synctest.Wait()
		if len(rec.frames) != 2000 || len(rec.msgs) != 5000 {
			t.Fatalf("in 10 s: %d entry frames and %d consensus messages, want 2000 and 5000", len(rec.frames), len(rec.msgs))
		}
		seqs := map[uint64]bool{}
		for i, fr := range rec.frames {
			if fr.reliable {
				t.Fatalf("flood frame %d sent reliably", i)
			}
			if i >= floodAdverts { // the rest repeat the first frames
				continue
			}
			raw := advEntry(t, fr)
			e, err := agreed.Decode(raw)
			if err != nil || e.Type != agreed.TypeAdvertise || e.Doc.Node != "node-4" || e.Doc.Seq > doc.Seq {
				t.Fatalf("flood entry %s: want node-4's own advert no newer than seq %d", raw, doc.Seq)
			}
			seqs[e.Doc.Seq] = true
			if _, err := fx.state.CheckEntry(raw); err == nil || !strings.Contains(err.Error(), "not newer") {
				t.Errorf("flood advert seq %d: agreed state says %v, want it refused as stale", e.Doc.Seq, err)
			}
		}
		if len(seqs) != 4 {
			t.Errorf("flood adverts of seqs %v, want 0 to 3", seqs)
		}
		for i, m := range rec.msgs {
			if m.From != "node-4" || m.Height > 10 || m.Height != rec.msgs[i%10].Height || i < 10 && !advSigned(m) {
				t.Fatalf("flood message %d, %v: want node-4's own earlier votes, in turn", i, &m)
			}
		}
	})
}

// Through real transports, the honest receiver verifies no more of the
// flood than node-4's token bucket holds: Burst, then RatePerSecond.
func TestAdversary_FloodIsHeldToItsRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		network := transport.NewMemoryNetwork()
		var honest *transport.Transport
		honestLink := network.Join("node-1", func(p []byte) { honest.Receive(p) })
		floodLink := network.Join("node-4", func([]byte) {})
		cfg := func(self string) transport.Config {
			c := transport.DefaultConfig()
			c.Self, c.Cluster, c.Verifier = self, advCluster, consensus.Ed25519Verifier{}
			c.Keys = func(name string) (consensus.PublicKey, bool) {
				return consensus.PublicKey(advPub(name)), slices.Contains(advNodes, name)
			}
			return c
		}
		var err error
		if honest, err = transport.New(cfg("node-1"), honestLink); err != nil {
			t.Fatal(err)
		}
		if err := honest.Register(kindEntry, entryVetter{cluster: advCluster}); err != nil {
			t.Fatal(err)
		}
		sender, err := transport.New(cfg("node-4"), floodLink)
		if err != nil {
			t.Fatal(err)
		}
		drained := make(chan int)
		go func() {
			n := 0
			for range honest.Inbound() {
				n++
			}
			drained <- n
		}()

		votes := newVoteRing(ownVoteMemory)
		for h := range uint64(10) {
			votes.keep(advVote("node-4", h+1))
		}
		f := newFlooder(advCluster, "node-4", advKey("node-4"), sender, advDoc("node-4", 3), votes)
		ctx, cancel := context.WithCancel(context.Background())
		go f.run(ctx)
		const secs = 3
		time.Sleep(secs*time.Second + time.Millisecond)
		cancel()
		synctest.Wait()
		_ = sender.Close()
		_ = honest.Close()
		delivered := <-drained

		s := honest.Stats()
		limits := transport.DefaultConfig()
		want := (floodEntriesPerBurst + floodVotesPerBurst) * int(secs*time.Second/floodBurstEvery)
		accepted := int(s.Received - s.RateLimited)
		// The bucket fills from the first frame, 100 ms in.
		most := limits.Burst + int(limits.RatePerSecond*secs)
		if int(s.Received) != want || accepted > most || accepted < most-int(limits.RatePerSecond) {
			t.Errorf("received %d (want %d), let through %d, want about %d: %+v", s.Received, want, accepted, most, s)
		}
		if delivered != accepted || s.BadSignature+s.Malformed != 0 {
			t.Errorf("delivered %d of the %d let through: %+v", delivered, accepted, s)
		}
	})
}
