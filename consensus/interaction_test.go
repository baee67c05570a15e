package consensus

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// The interaction environment drives a handful of nodes by hand from the
// scripts in testdata/scenarios/, in the style of etcd-io/raft's rafttest: each command
// prints what the nodes did, and the expected output sits below it. Run
// `go test ./consensus -run TestScenarios -rewrite` to regenerate the
// expected output after a deliberate change, then read the diff.
//
// Commands:
//
//	nodes N [propose=T prevote=T precommit=T delta=T status=T]
//	                   create validators n1..nN with fake signatures
//	propose NODE|all ENTRY...
//	                   hand entries to nodes
//	ready [NODE...]    process Ready of the nodes (default all): persist the
//	                   guard, print decisions, evidence and messages, queue
//	                   messages in the recipients' inboxes
//	deliver [to=NODE] [from=NODE] [type=T] [drop]
//	                   hand queued messages to their recipients (or drop them)
//	stabilize [NODE...]
//	                   ready + deliver among the given nodes (default all)
//	                   until nothing moves
//	tick NODE|all [N]  advance clocks by N ticks (default 1)
//	status [NODE...]   print height, round, step, lock and valid round
//	stats NODE         print the non-zero counters
//	sign FROM TYPE h=H r=R [value=nil|ENTRY,...] [pol=P] [to=NODE,...]
//	                   craft a message signed by FROM (a Byzantine node's
//	                   hand) and queue it for the recipients
//	restart NODE       rebuild the node from its persisted guard and
//	                   decided height, losing everything else
//	reject NODE ENTRY  make NODE's application reject blocks holding ENTRY
type env struct {
	t       *testing.T
	ids     []NodeID
	vals    *ValidatorSet
	nodes   map[NodeID]*Node
	apps    map[NodeID]*scriptApp
	cfgs    map[NodeID]Config
	inbox   []Message // queued deliveries; To is always set
	guard   map[NodeID]SignState
	decided map[NodeID][]Commit
}

// scriptApp accepts every block except those holding an entry it was told
// to reject.
type scriptApp struct{ reject map[string]bool }

func (a *scriptApp) Validate(_ uint64, entries []Entry) error {
	for _, e := range entries {
		if a.reject[string(e)] {
			return fmt.Errorf("entry %q rejected", e)
		}
	}
	return nil
}

func (a *scriptApp) Apply(_ uint64, _ []Entry, cur *ValidatorSet) *ValidatorSet { return cur }

func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata/scenarios", func(t *testing.T, path string) {
		e := &env{t: t}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return e.handle(d)
		})
	})
}

func (e *env) handle(d *datadriven.TestData) string {
	var b strings.Builder
	switch d.Cmd {
	case "nodes":
		e.setup(d)
	case "propose":
		for _, n := range e.pick(d.CmdArgs[:1]) {
			var entries []Entry
			for _, a := range d.CmdArgs[1:] {
				entries = append(entries, Entry(a.Key))
			}
			e.nodes[n].Propose(entries...)
		}
	case "ready":
		for _, n := range e.pick(d.CmdArgs) {
			e.ready(&b, n)
		}
	case "deliver":
		e.deliver(&b, d)
	case "stabilize":
		ids := e.pick(d.CmdArgs)
		set := map[NodeID]bool{}
		for _, id := range ids {
			set[id] = true
		}
		for i := 0; i < 100; i++ {
			before := b.Len()
			for _, n := range ids {
				e.ready(&b, n)
			}
			e.deliverWhere(&b, func(m Message) bool { return set[m.To] && set[m.From] }, false)
			if b.Len() == before {
				break
			}
		}
	case "tick":
		k := 1
		if len(d.CmdArgs) > 1 {
			k, _ = strconv.Atoi(d.CmdArgs[1].Key)
		}
		for _, n := range e.pick(d.CmdArgs[:1]) {
			for i := 0; i < k; i++ {
				e.nodes[n].Tick()
			}
		}
	case "status":
		for _, n := range e.pick(d.CmdArgs) {
			s := e.nodes[n].Status()
			fmt.Fprintf(&b, "%s: h=%d r=%d %s locked=%d valid=%d pending=%d active=%v\n",
				n, s.Height, s.Round, s.Step, s.LockedRound, s.ValidRound, s.Pending, s.Active)
		}
	case "stats":
		st := e.nodes[NodeID(d.CmdArgs[0].Key)].Stats()
		fmt.Fprintf(&b, "%s\n", statsLine(st))
	case "sign":
		e.sign(&b, d)
	case "restart":
		id := NodeID(d.CmdArgs[0].Key)
		cfg := e.cfgs[id]
		cfg.Height = uint64(len(e.decided[id])) + 1
		cfg.LastSigned = e.guard[id]
		n, err := NewNode(cfg)
		if err != nil {
			e.t.Fatalf("restart %s: %v", id, err)
		}
		e.nodes[id] = n
		// Messages queued for the old incarnation are lost with it.
		kept := e.inbox[:0]
		for _, m := range e.inbox {
			if m.To != id {
				kept = append(kept, m)
			}
		}
		e.inbox = kept
	case "reject":
		e.apps[NodeID(d.CmdArgs[0].Key)].reject[d.CmdArgs[1].Key] = true
	default:
		e.t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	}
	if b.Len() == 0 {
		return "ok\n"
	}
	return b.String()
}

func (e *env) setup(d *datadriven.TestData) {
	count, _ := strconv.Atoi(d.CmdArgs[0].Key)
	var vals []Validator
	e.ids = nil
	for i := 1; i <= count; i++ {
		id := NodeID(fmt.Sprintf("n%d", i))
		e.ids = append(e.ids, id)
		vals = append(vals, Validator{ID: id, PubKey: PublicKey(id)})
	}
	vs, err := NewValidatorSet(vals)
	if err != nil {
		e.t.Fatal(err)
	}
	e.vals = vs
	e.nodes, e.apps, e.cfgs = map[NodeID]*Node{}, map[NodeID]*scriptApp{}, map[NodeID]Config{}
	e.guard, e.decided = map[NodeID]SignState{}, map[NodeID][]Commit{}
	for _, id := range e.ids {
		cfg := DefaultConfig()
		cfg.Cluster, cfg.ID, cfg.Validators = "test", id, vs
		cfg.Signer, cfg.Verifier = FakeSigner{Key: PublicKey(id)}, FakeVerifier{}
		cfg.TimeoutPropose, cfg.TimeoutPrevote, cfg.TimeoutPrecommit, cfg.TimeoutDelta = 3, 2, 2, 1
		cfg.RebroadcastTicks, cfg.StatusTicks = 1000, 0
		for _, a := range d.CmdArgs[1:] {
			v, _ := strconv.Atoi(a.Vals[0])
			switch a.Key {
			case "propose":
				cfg.TimeoutPropose = v
			case "prevote":
				cfg.TimeoutPrevote = v
			case "precommit":
				cfg.TimeoutPrecommit = v
			case "delta":
				cfg.TimeoutDelta = v
			case "status":
				cfg.StatusTicks = v
			case "rebroadcast":
				cfg.RebroadcastTicks = v
			default:
				e.t.Fatalf("%s: unknown option %q", d.Pos, a.Key)
			}
		}
		app := &scriptApp{reject: map[string]bool{}}
		cfg.App = app
		n, err := NewNode(cfg)
		if err != nil {
			e.t.Fatal(err)
		}
		e.nodes[id], e.apps[id], e.cfgs[id] = n, app, cfg
	}
}

func (e *env) pick(args []datadriven.CmdArg) []NodeID {
	if len(args) == 0 || args[0].Key == "all" {
		return e.ids
	}
	var out []NodeID
	for _, a := range args {
		id := NodeID(a.Key)
		if e.nodes[id] == nil {
			e.t.Fatalf("no node %q", id)
		}
		out = append(out, id)
	}
	return out
}

func (e *env) ready(b *strings.Builder, id NodeID) {
	n := e.nodes[id]
	if !n.HasReady() {
		return
	}
	rd := n.Ready()
	if rd.SignState != nil {
		e.guard[id] = *rd.SignState
	}
	for _, c := range rd.Decided {
		e.decided[id] = append(e.decided[id], c)
		var voters []string
		for _, v := range c.Votes {
			voters = append(voters, string(v.From))
		}
		fmt.Fprintf(b, "%s decided h=%d r=%d %s %s cert=%s\n", id, c.Block.Height, c.Round, c.Block.Hash(), entriesString(c.Block.Entries), strings.Join(voters, ","))
	}
	for _, ev := range rd.Evidence {
		err := ev.Verify("test", PublicKey(ev.Offender()), FakeVerifier{})
		fmt.Fprintf(b, "%s evidence: %s (verifies: %v)\n", id, &ev, err == nil)
	}
	for _, m := range rd.Messages {
		to := "all"
		if m.To != "" {
			to = string(m.To)
		}
		relayed := ""
		if m.From != id && m.Type != MsgCommit && m.Type != MsgStatus {
			relayed = " (relayed, by " + string(m.From) + ")"
		}
		fmt.Fprintf(b, "%s -> %s: %s%s\n", id, to, describe(&m), relayed)
		for _, r := range e.ids {
			if r != id && (m.To == "" || m.To == r) {
				c := m
				c.To = r
				e.inbox = append(e.inbox, c)
			}
		}
	}
	n.Advance()
}

func (e *env) deliver(b *strings.Builder, d *datadriven.TestData) {
	var to, from, typ string
	drop := false
	for _, a := range d.CmdArgs {
		switch a.Key {
		case "to":
			to = a.Vals[0]
		case "from":
			from = a.Vals[0]
		case "type":
			typ = a.Vals[0]
		case "drop":
			drop = true
		}
	}
	e.deliverWhere(b, func(m Message) bool {
		return (to == "" || string(m.To) == to) && (from == "" || string(m.From) == from) && (typ == "" || m.Type.String() == typ)
	}, drop)
}

func (e *env) deliverWhere(b *strings.Builder, match func(Message) bool, drop bool) {
	var now, later []Message
	for _, m := range e.inbox {
		if match(m) {
			now = append(now, m)
		} else {
			later = append(later, m)
		}
	}
	e.inbox = later
	for _, m := range now {
		if drop {
			fmt.Fprintf(b, "%s dropped: %s\n", m.To, describe(&m))
			continue
		}
		// Through the codec, as on the wire.
		wire, err := Unmarshal(m.Marshal())
		if err != nil {
			e.t.Fatalf("codec: %v", err)
		}
		if err := e.nodes[m.To].Step(wire); err != nil && !errors.Is(err, ErrStale) {
			fmt.Fprintf(b, "%s refused %s: %v\n", m.To, describe(&m), err)
		}
	}
}

func (e *env) sign(b *strings.Builder, d *datadriven.TestData) {
	from := NodeID(d.CmdArgs[0].Key)
	var typ MsgType
	for t := MsgProposal; t <= MsgStatus; t++ {
		if t.String() == d.CmdArgs[1].Key {
			typ = t
		}
	}
	m := Message{Type: typ, From: from, POLRound: -1}
	var recipients []NodeID
	for _, a := range d.CmdArgs[2:] {
		switch a.Key {
		case "h":
			h, _ := strconv.Atoi(a.Vals[0])
			m.Height = uint64(h)
		case "r":
			r, _ := strconv.Atoi(a.Vals[0])
			m.Round = int32(r)
		case "pol":
			p, _ := strconv.Atoi(a.Vals[0])
			m.POLRound = int32(p)
		case "value":
			if a.Vals[0] != "nil" {
				blk := &Block{Height: m.Height}
				for _, v := range a.Vals {
					blk.Entries = append(blk.Entries, Entry(v))
				}
				m.BlockHash = blk.Hash()
				if typ == MsgProposal {
					m.Block = blk
				}
			}
		case "to":
			for _, v := range a.Vals {
				recipients = append(recipients, NodeID(v))
			}
		case "badsig":
		default:
			e.t.Fatalf("%s: unknown sign option %q", d.Pos, a.Key)
		}
	}
	if m.Type != MsgProposal {
		m.POLRound = 0
	}
	m.Signature = FakeSigner{Key: PublicKey(from)}.Sign(SignBytes("test", &m))
	if d.HasArg("badsig") {
		m.Signature[0] ^= 0xff
	}
	if len(recipients) == 0 {
		recipients = e.ids
	}
	for _, r := range recipients {
		if r != from {
			c := m
			c.To = r
			e.inbox = append(e.inbox, c)
		}
	}
	fmt.Fprintf(b, "%s -> %v: %s\n", from, recipients, describe(&m))
}

func describe(m *Message) string {
	switch m.Type {
	case MsgProposal:
		return fmt.Sprintf("proposal h=%d r=%d %s %s pol=%d", m.Height, m.Round, m.BlockHash, entriesString(m.Block.Entries), m.POLRound)
	case MsgPrevote, MsgPrecommit:
		return fmt.Sprintf("%s h=%d r=%d %s", m.Type, m.Height, m.Round, m.BlockHash)
	case MsgCommit:
		return fmt.Sprintf("commit h=%d r=%d %s (%d votes)", m.Commit.Block.Height, m.Commit.Round, m.Commit.Block.Hash(), len(m.Commit.Votes))
	case MsgStatus:
		return fmt.Sprintf("status h=%d", m.Height)
	}
	return m.Type.String()
}

func entriesString(es []Entry) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = string(e)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func statsLine(st Stats) string {
	fields := map[string]uint64{
		"received": st.Received, "duplicates": st.Duplicates, "malformed": st.Malformed,
		"bad_signatures": st.BadSignatures, "unknown_senders": st.UnknownSenders,
		"not_proposer": st.NotProposer, "stale": st.Stale, "future_buffered": st.FutureBuffered,
		"future_dropped": st.FutureDropped, "invalid_blocks": st.InvalidBlocks,
		"equivocations": st.Equivocations, "guard_refusals": st.GuardRefusals,
		"round_changes": st.RoundChanges, "decided": st.Decided, "catchup_applied": st.CatchUpApplied,
		"catchup_served": st.CatchUpServed, "bad_certificates": st.BadCertificates,
		"dropped_entries": st.DroppedEntries,
	}
	var keys []string
	for k, v := range fields {
		if v != 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, fields[k])
	}
	return strings.Join(parts, " ")
}
