package transport

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// inbox collects what a memory link receives.
type inbox struct {
	mu  sync.Mutex
	got []string
}

func (b *inbox) receive(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, string(p))
}

func (b *inbox) list() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.got)
}

func TestMemoryNetwork_OrderPerPairAndPeers(t *testing.T) {
	net := NewMemoryNetwork()
	var a, b, c inbox
	la := net.Join("a", a.receive)
	net.Join("b", b.receive)
	net.Join("c", c.receive)
	var want []string
	for i := range 100 {
		msg := fmt.Sprint(i)
		want = append(want, msg)
		var err error
		if i%2 == 0 {
			err = la.SendBestEffort("b", []byte(msg))
		} else {
			err = la.SendReliable("b", []byte(msg))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := b.list(); !slices.Equal(got, want) {
		t.Errorf("b received %v, want the send order", got)
	}
	if got := la.Peers(); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("Peers() = %v", got)
	}
	if len(a.list())+len(c.list()) != 0 {
		t.Error("messages went astray")
	}
}

func TestMemoryNetwork_PartitionCutHealClose(t *testing.T) {
	net := NewMemoryNetwork()
	var a, b, c inbox
	la := net.Join("a", a.receive)
	lb := net.Join("b", b.receive)
	net.Join("c", c.receive)

	net.Partition([]string{"a", "b"}, []string{"c"})
	if err := la.SendReliable("c", []byte("x")); !errors.Is(err, ErrUnreachable) {
		t.Errorf("reliable across the partition: %v, want ErrUnreachable", err)
	}
	if err := la.SendBestEffort("c", []byte("x")); err != nil {
		t.Errorf("best effort across the partition: %v, want a silent drop", err)
	}
	if err := la.SendReliable("b", []byte("inside")); err != nil {
		t.Errorf("reliable inside the partition: %v", err)
	}
	net.Heal()
	net.Cut("a", "c") // one direction only
	_ = la.SendBestEffort("c", []byte("cut"))
	if err := lb.SendReliable("c", []byte("b to c")); err != nil {
		t.Error(err)
	}
	if got := c.list(); !slices.Equal(got, []string{"b to c"}) {
		t.Errorf("c received %v", got)
	}
	lb.Close()
	if err := la.SendReliable("b", []byte("x")); !errors.Is(err, ErrUnreachable) {
		t.Errorf("send to a closed link: %v", err)
	}
	if err := lb.SendReliable("a", []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("send from a closed link: %v", err)
	}
	if got := la.Peers(); !slices.Equal(got, []string{"c"}) {
		t.Errorf("Peers() after b closed = %v", got)
	}
	if err := la.SendBestEffort("c", make([]byte, 1401)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized best effort: %v", err)
	}
}

func TestMemoryNetwork_SeededLossIsReproducible(t *testing.T) {
	run := func(seed uint64) []string {
		net := NewMemoryNetwork()
		net.SetLoss(0.3, seed)
		var b inbox
		la := net.Join("a", func([]byte) {})
		net.Join("b", b.receive)
		for i := range 200 {
			_ = la.SendBestEffort("b", []byte(fmt.Sprint(i)))
			_ = la.SendReliable("b", []byte(fmt.Sprint("r", i))) // never lost
		}
		return b.list()
	}
	x, y := run(7), run(7)
	if !slices.Equal(x, y) {
		t.Error("same seed, different losses")
	}
	if n := len(x); n <= 200+100 || n >= 400 {
		t.Errorf("%d of 400 delivered with 30%% loss on half of them", n)
	}
}

// TestMemoryTransport_AllReceiveAllBroadcasts is the in-process cluster the
// agent's tests build: four transports on a memory network, each
// broadcasting a signed vote and a proposal.
func TestMemoryTransport_AllReceiveAllBroadcasts(t *testing.T) {
	net := NewMemoryNetwork()
	trs := map[string]*Transport{}
	for _, name := range testValidators {
		trs[name], _ = newTransport(t, net, testConfig(name))
	}
	for _, name := range testValidators {
		trs[name].Send(vote(name, 1))
		trs[name].Send(proposal(name, 1, []byte(name)))
	}
	for _, name := range testValidators {
		got := drain(t, trs[name], 6, 5*time.Second)
		seen := map[string]bool{}
		for _, in := range got {
			seen[fmt.Sprint(in.From, " ", in.Msg.Type)] = true
		}
		for _, other := range testValidators {
			if other == name {
				continue
			}
			for _, typ := range []consensus.MsgType{consensus.MsgPrevote, consensus.MsgProposal} {
				if !seen[fmt.Sprint(other, " ", typ)] {
					t.Errorf("%s missed %s's %s", name, other, typ)
				}
			}
		}
	}
}
