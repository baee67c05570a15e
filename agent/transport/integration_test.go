package transport_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/membership"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/consensus"
)

// The real link: membership over memberlist sockets.
var _ transport.Link = (*membership.Membership)(nil)

// TestOverMembership_AllReceiveAll runs four nodes on real memberlist sockets
// on loopback, plus a fifth with the gossip key but no validator identity.
// Each validator broadcasts an Ed25519-signed prevote and a proposal; every
// validator receives all of them, and the stranger's vote reaches no one.
func TestOverMembership_AllReceiveAll(t *testing.T) {
	if testing.Short() {
		t.Skip("real sockets; skipped in -short")
	}
	const cluster = "itest"
	names := []string{"v1", "v2", "v3", "v4"}
	keys := map[string]ed25519.PrivateKey{}
	for i, n := range append(names, "stranger") {
		keys[n] = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, 32))
	}
	pub := func(name string) (consensus.PublicKey, bool) {
		for _, v := range names {
			if v == name {
				return consensus.PublicKey(keys[name].Public().(ed25519.PublicKey)), true
			}
		}
		return nil, false
	}

	type node struct {
		m  *membership.Membership
		tr *transport.Transport
	}
	nodes := map[string]*node{}
	var seed string
	for i, name := range append(names, "stranger") {
		n := &node{}
		var ready sync.WaitGroup
		ready.Add(1)
		mc := membership.DefaultConfig()
		mc.Name, mc.Cluster = name, cluster
		mc.BindAddr, mc.BindPort = fmt.Sprintf("127.0.0.%d", 21+i), 0
		mc.GossipKeys = [][]byte{bytes.Repeat([]byte{7}, 32)}
		mc.JoinBackoffMin, mc.JoinBackoffMax = 50*time.Millisecond, 500*time.Millisecond
		if seed != "" {
			mc.Seeds = []string{seed}
		}
		mc.OnMessage = func(p []byte) { ready.Wait(); n.tr.Receive(p) }
		m, err := membership.New(mc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Shutdown() })
		tc := transport.DefaultConfig()
		tc.Self, tc.Cluster = name, cluster
		tc.Verifier = consensus.Ed25519Verifier{}
		tc.Keys = pub
		tr, err := transport.New(tc, m)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tr.Close() })
		n.m, n.tr = m, tr
		ready.Done()
		if err := m.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if seed == "" {
			seed = m.LocalNode().Addr
		}
		nodes[name] = n
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, n := range nodes {
		for len(n.m.Peers()) != 4 {
			if time.Now().After(deadline) {
				t.Fatalf("%s sees peers %v", n.m.LocalNode().Name, n.m.Peers())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	sign := func(m consensus.Message) consensus.Message {
		m.Signature = consensus.Ed25519Signer{Key: keys[string(m.From)]}.Sign(consensus.SignBytes(cluster, &m))
		return m
	}
	for _, name := range append(names, "stranger") {
		from := consensus.NodeID(name)
		nodes[name].tr.Send(sign(consensus.Message{Type: consensus.MsgPrevote, From: from, Height: 1, BlockHash: consensus.Hash{9}}))
		b := &consensus.Block{Height: 1, Entries: []consensus.Entry{[]byte(name)}}
		nodes[name].tr.Send(sign(consensus.Message{Type: consensus.MsgProposal, From: from, Height: 1, POLRound: -1, Block: b, BlockHash: b.Hash()}))
	}

	for _, name := range names {
		seen := map[string]bool{}
		timeout := time.After(10 * time.Second)
		want := 2 * (len(names) - 1)
	collect:
		for len(seen) < want {
			select {
			case in := <-nodes[name].tr.Inbound():
				seen[fmt.Sprint(in.From, " ", in.Msg.Type)] = true
			case <-timeout:
				break collect
			}
		}
		for _, other := range names {
			for _, typ := range []string{"prevote", "proposal"} {
				if other != name && !seen[other+" "+typ] {
					t.Errorf("%s did not receive %s's %s", name, other, typ)
				}
			}
		}
		for k := range seen {
			if bytes.HasPrefix([]byte(k), []byte("stranger")) {
				t.Errorf("%s delivered the stranger's %s", name, k)
			}
		}
	}
	// The stranger is a visible candidate, but nothing it signs gets in.
	var unknown uint64
	for _, name := range names {
		if _, ok := nodes[name].m.Member("stranger"); !ok {
			t.Errorf("%s does not list the stranger as a member (candidate)", name)
		}
		unknown += nodes[name].tr.Stats().UnknownSender
	}
	if unknown == 0 {
		t.Error("no validator counted the stranger's messages as from an unknown sender")
	}
}
