package transport

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seed44533760/pact/consensus"
)

const testCluster = "test"

// validators n1..n4 with fake keys (the node name), as consensus' own tests
// use.
var testValidators = []string{"n1", "n2", "n3", "n4"}

func keysOf(names ...string) func(string) (consensus.PublicKey, bool) {
	return func(name string) (consensus.PublicKey, bool) {
		if slices.Contains(names, name) {
			return consensus.PublicKey(name), true
		}
		return nil, false
	}
}

// fakeClock is a settable clock for rate limits.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func testConfig(self string) Config {
	cfg := DefaultConfig()
	cfg.Self = self
	cfg.Cluster = testCluster
	cfg.Verifier = consensus.FakeVerifier{}
	cfg.Keys = keysOf(testValidators...)
	return cfg
}

// signed returns a message from `from`, signed with its fake key.
func signed(m consensus.Message) consensus.Message {
	m.Signature = consensus.FakeSigner{Key: consensus.PublicKey(m.From)}.Sign(consensus.SignBytes(testCluster, &m))
	return m
}

func vote(from string, height uint64) consensus.Message {
	return signed(consensus.Message{Type: consensus.MsgPrevote, From: consensus.NodeID(from), Height: height, BlockHash: consensus.Hash{1, 2, 3}})
}

func proposal(from string, height uint64, entry []byte) consensus.Message {
	b := &consensus.Block{Height: height, Entries: []consensus.Entry{entry}}
	return signed(consensus.Message{Type: consensus.MsgProposal, From: consensus.NodeID(from), Height: height, POLRound: -1, Block: b, BlockHash: b.Hash()})
}

func frameOf(m consensus.Message) []byte { return EncodeFrame(KindConsensus, m.Marshal()) }

// newTransport builds a transport on a memory network whose link delivers
// into it.
func newTransport(t testing.TB, net *MemoryNetwork, cfg Config) (*Transport, *MemoryLink) {
	t.Helper()
	var tr *Transport
	var ready sync.WaitGroup
	ready.Add(1)
	link := net.Join(cfg.Self, func(p []byte) { ready.Wait(); tr.Receive(p) })
	tr, err := New(cfg, link)
	if err != nil {
		t.Fatal(err)
	}
	ready.Done()
	t.Cleanup(func() { _ = tr.Close() })
	return tr, link
}

// drain collects what arrives on Inbound until want messages came or the
// timeout passed.
func drain(t testing.TB, tr *Transport, want int, timeout time.Duration) []Inbound {
	t.Helper()
	var got []Inbound
	deadline := time.After(timeout)
	for len(got) < want {
		select {
		case in := <-tr.Inbound():
			got = append(got, in)
		case <-deadline:
			return got
		}
	}
	return got
}

// settle waits until every frame handed to Receive has been verified and
// either delivered or dropped, by watching the counters stop moving.
func settle(t testing.TB, tr *Transport) Stats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := tr.Stats()
		in := s.Malformed + s.UnknownKind + s.BadSignature + s.UnknownSender + s.RateLimited + s.Busy + s.InboundFull + s.Delivered
		if in >= s.Received {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("transport never settled: %+v", s)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFrame_RoundTrip(t *testing.T) {
	f := EncodeFrame(KindEvidence, []byte("payload"))
	kind, payload, err := DecodeFrame(f)
	if err != nil || kind != KindEvidence || string(payload) != "payload" {
		t.Fatalf("DecodeFrame = %v, %q, %v", kind, payload, err)
	}
	for _, bad := range [][]byte{nil, {1}, {2, 1}, {1, 0, 5}} {
		if _, _, err := DecodeFrame(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeFrame(%v) err = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestConfig_ValidateNamesEveryField(t *testing.T) {
	var cfg Config
	cfg.Workers, cfg.MaxBestEffort, cfg.RetryAfter = -1, -1, -1
	err := cfg.Validate()
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("Validate() = %v, want ErrConfig", err)
	}
	for _, field := range []string{"Self", "Cluster", "Verifier", "Keys", "RatePerSecond", "Burst",
		"UnknownRatePerSecond", "UnknownBurst", "MaxQueue", "Workers", "SendQueue", "SendTimeout", "RetryAfter", "MaxBestEffort"} {
		if !bytes.Contains([]byte(err.Error()), []byte(field+":")) {
			t.Errorf("Validate() does not mention %s: %v", field, err)
		}
	}
	good := testConfig("n1")
	if err := good.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestReceive_MalformedAndGarbageAreCountedAndDropped(t *testing.T) {
	tr, _ := newTransport(t, NewMemoryNetwork(), testConfig("n1"))
	good := vote("n2", 1)
	enc := good.Marshal()
	frames := map[string][]byte{
		"empty":             nil,
		"header only":       {FrameVersion},
		"wrong version":     append([]byte{9, byte(KindConsensus)}, enc...),
		"kind zero":         append([]byte{FrameVersion, 0}, enc...),
		"garbage payload":   EncodeFrame(KindConsensus, []byte("not a consensus message")),
		"truncated":         EncodeFrame(KindConsensus, enc[:len(enc)-5]),
		"trailing bytes":    EncodeFrame(KindConsensus, append(slices.Clone(enc), 0)),
		"unregistered kind": EncodeFrame(KindEvidence, []byte("evidence")),
	}
	for _, f := range frames {
		tr.Receive(f)
	}
	// A few thousand random frames: nothing may panic.
	rnd := uint64(1)
	for i := range 2000 {
		n := i % 300
		b := make([]byte, n)
		for j := range b {
			rnd = rnd*6364136223846793005 + 1442695040888963407
			b[j] = byte(rnd >> 56)
		}
		if n > 1 && i%2 == 0 {
			b[0], b[1] = FrameVersion, byte(KindConsensus)
		}
		tr.Receive(b)
	}
	tr.Receive(frameOf(good))
	got := drain(t, tr, 1, 2*time.Second)
	s := settle(t, tr)
	if len(got) != 1 || got[0].Msg == nil || got[0].Msg.From != "n2" {
		t.Fatalf("delivered %+v, want only the good vote", got)
	}
	if s.Malformed < uint64(len(frames)-1) || s.UnknownKind < 1 {
		t.Errorf("Malformed = %d, UnknownKind = %d; want ≥ %d and 1", s.Malformed, s.UnknownKind, len(frames)-1)
	}
	if s.Delivered != 1 {
		t.Errorf("Delivered = %d, want 1", s.Delivered)
	}
}

func TestReceive_ForgedSignaturesDropped(t *testing.T) {
	tr, _ := newTransport(t, NewMemoryNetwork(), testConfig("n1"))

	forged := vote("n2", 1)
	forged.Signature = consensus.FakeSigner{Key: consensus.PublicKey("n3")}.Sign(consensus.SignBytes(testCluster, &forged))
	altered := vote("n2", 1)
	altered.Height = 2 // signed for height 1
	otherCluster := consensus.Message{Type: consensus.MsgPrecommit, From: "n3", Height: 1}
	otherCluster.Signature = consensus.FakeSigner{Key: consensus.PublicKey("n3")}.Sign(consensus.SignBytes("elsewhere", &otherCluster))
	forgedProposal := proposal("n4", 1, []byte("x"))
	forgedProposal.Signature[0] ^= 1
	forgedStatus := signed(consensus.Message{Type: consensus.MsgStatus, From: "n2", Height: 7})
	forgedStatus.Height = 8

	for _, m := range []consensus.Message{forged, altered, otherCluster, forgedProposal, forgedStatus} {
		tr.Receive(frameOf(m))
	}
	tr.Receive(frameOf(vote("n3", 1)))
	got := drain(t, tr, 1, 2*time.Second)
	s := settle(t, tr)
	if len(got) != 1 || got[0].From != "n3" {
		t.Fatalf("delivered %+v, want only n3's vote", got)
	}
	if s.BadSignature != 5 {
		t.Errorf("BadSignature = %d, want 5", s.BadSignature)
	}
}

func TestReceive_UnknownSendersAndCandidates(t *testing.T) {
	tr, _ := newTransport(t, NewMemoryNetwork(), testConfig("n1"))
	// A candidate (no key) votes and proposes: dropped. Its status and a
	// commit pass: the core answers statuses with public commits and checks
	// commits against their certificates.
	tr.Receive(frameOf(vote("c9", 1)))
	tr.Receive(frameOf(proposal("c9", 1, []byte("x"))))
	tr.Receive(frameOf(signed(consensus.Message{Type: consensus.MsgStatus, From: "c9", Height: 1})))
	commit := consensus.Message{Type: consensus.MsgCommit, From: "c9", Height: 1,
		Commit: &consensus.Commit{Block: consensus.Block{Height: 1}, Votes: []consensus.CommitVote{{From: "n1", Signature: []byte("sig")}}}}
	tr.Receive(frameOf(commit))
	got := drain(t, tr, 2, 2*time.Second)
	s := settle(t, tr)
	var types []consensus.MsgType
	for _, in := range got {
		types = append(types, in.Msg.Type)
	}
	slices.Sort(types)
	if !slices.Equal(types, []consensus.MsgType{consensus.MsgCommit, consensus.MsgStatus}) {
		t.Errorf("delivered %v, want the status and the commit", types)
	}
	if s.UnknownSender != 2 || s.CandidateStatus != 1 {
		t.Errorf("UnknownSender = %d, CandidateStatus = %d; want 2 and 1", s.UnknownSender, s.CandidateStatus)
	}
}

func TestReceive_FloodingPeerIsRateLimitedOthersGetThrough(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	cfg := testConfig("n1")
	cfg.Now = clock.Now
	cfg.RatePerSecond, cfg.Burst = 10, 20
	cfg.UnknownRatePerSecond, cfg.UnknownBurst = 1, 3
	tr, _ := newTransport(t, NewMemoryNetwork(), cfg)

	// n2 floods 500 votes in one instant; n3 and n4 each send 5 interleaved.
	for i := range 500 {
		tr.Receive(frameOf(vote("n2", uint64(i+1))))
		if i%100 == 0 {
			tr.Receive(frameOf(vote("n3", uint64(i+1))))
			tr.Receive(frameOf(vote("n4", uint64(i+1))))
		}
	}
	// Strangers inventing names share one small bucket.
	for i := range 50 {
		tr.Receive(frameOf(signed(consensus.Message{Type: consensus.MsgStatus, From: consensus.NodeID(fmt.Sprintf("x%d", i)), Height: 1})))
	}
	got := drain(t, tr, 20+5+5+3, 2*time.Second)
	s := settle(t, tr)
	from := map[string]int{}
	for _, in := range got {
		from[in.From]++
	}
	if from["n2"] != 20 || from["n3"] != 5 || from["n4"] != 5 {
		t.Errorf("delivered per sender %v, want n2 capped at its burst of 20, n3 and n4 all 5", from)
	}
	if s.RateLimited != 480+47 {
		t.Errorf("RateLimited = %d, want %d", s.RateLimited, 480+47)
	}
	// Tokens come back with time: one second buys n2 ten more.
	clock.Advance(time.Second)
	for i := range 15 {
		tr.Receive(frameOf(vote("n2", uint64(1000+i))))
	}
	if got := drain(t, tr, 10, 2*time.Second); len(got) != 10 {
		t.Errorf("after 1 s n2 got %d through, want 10", len(got))
	}
}

func TestReceive_FullInboundDropsAndCounts(t *testing.T) {
	cfg := testConfig("n1")
	cfg.MaxQueue = 4
	cfg.Workers = 1
	tr, _ := newTransport(t, NewMemoryNetwork(), cfg)
	for i := range 50 {
		tr.Receive(frameOf(vote("n2", uint64(i+1))))
	}
	s := settle(t, tr)
	if s.Delivered != 4 || s.InboundFull+s.Busy != 46 {
		t.Errorf("Delivered %d, InboundFull %d, Busy %d; want 4 delivered and 46 dropped", s.Delivered, s.InboundFull, s.Busy)
	}
}

// recordingLink records what the transport asks of it.
type recordingLink struct {
	mu         sync.Mutex
	bestEffort map[string]int
	reliable   map[string]int
	peers      []string
	fail       map[string]bool
	block      chan struct{}
}

func newRecordingLink(peers ...string) *recordingLink {
	return &recordingLink{bestEffort: map[string]int{}, reliable: map[string]int{}, peers: peers, fail: map[string]bool{}}
}

func (l *recordingLink) SendBestEffort(to string, p []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bestEffort[to]++
	return nil
}

func (l *recordingLink) SendReliable(to string, p []byte) error {
	if l.block != nil {
		<-l.block
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail[to] {
		return errors.New("connection refused")
	}
	l.reliable[to]++
	return nil
}

func (l *recordingLink) Peers() []string { return l.peers }

func (l *recordingLink) counts(to string) (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bestEffort[to], l.reliable[to]
}

func TestSend_VotesBestEffortProposalsReliableOversizeReliable(t *testing.T) {
	link := newRecordingLink("n1", "n2", "n3")
	cfg := testConfig("n1")
	cfg.MaxBestEffort = 300
	tr, err := New(cfg, link)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()

	tr.Send(vote("n1", 1))                                                                         // broadcast, best effort
	tr.Send(signed(consensus.Message{Type: consensus.MsgStatus, From: "n1", To: "n2", Height: 3})) // to n2, best effort
	tr.Send(proposal("n1", 1, []byte("small")))                                                    // broadcast, reliable

	// A vote that does not fit a datagram. Votes carry no block, but a
	// signature scheme with big signatures, or a future field, could make
	// one this large; it must not be cut.
	big := vote("n1", 2)
	big.Signature = bytes.Repeat([]byte{1}, 120)
	big.From = consensus.NodeID(bytes.Repeat([]byte{'n'}, 250))
	tr.Send(big)

	waitFor(t, func() bool {
		_, r2 := link.counts("n2")
		_, r3 := link.counts("n3")
		return r2 == 2 && r3 == 2
	})
	for _, peer := range []string{"n2", "n3"} {
		be, r := link.counts(peer)
		wantBE := 1
		if peer == "n2" {
			wantBE = 2
		}
		if be != wantBE || r != 2 {
			t.Errorf("%s: %d best-effort, %d reliable; want %d and 2", peer, be, r, wantBE)
		}
	}
	if be, r := link.counts("n1"); be+r != 0 {
		t.Error("the transport sent to itself")
	}
	s := tr.Stats()
	if s.OversizeReliable != 1 || s.SentBestEffort != 3 || s.SentReliable != 4 {
		t.Errorf("stats %+v: want 1 oversize, 3 best effort, 4 reliable", s)
	}
}

func TestSend_UnreachablePeerDoesNotBlockAndIsCounted(t *testing.T) {
	link := newRecordingLink("n2", "n3")
	link.fail["n2"] = true
	link.block = make(chan struct{})
	cfg := testConfig("n1")
	cfg.SendQueue = 8
	tr, err := New(cfg, link)
	if err != nil {
		t.Fatal(err)
	}
	// The link hangs (a peer that accepts no connection): Send must still
	// return at once, and the queue must bound what waits.
	start := time.Now()
	for i := range 100 {
		tr.Send(proposal("n1", uint64(i+1), []byte("p")))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("100 sends to a hung link took %v", d)
	}
	close(link.block)
	waitFor(t, func() bool {
		s := tr.Stats()
		return s.SentReliable+s.SendErrors+s.SendDropped+s.SendQueueFull == 200
	})
	s := tr.Stats()
	if s.SendQueueFull == 0 {
		t.Error("no frames dropped for full queues")
	}
	if s.SendErrors == 0 || s.SendDropped == 0 {
		t.Errorf("failing peer: %d errors, %d dropped while unreachable; want both > 0", s.SendErrors, s.SendDropped)
	}
	if _, r := link.counts("n3"); r == 0 {
		t.Error("the healthy peer got nothing")
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, ok := <-tr.Inbound(); ok {
		t.Error("Inbound open after Close")
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// evidenceVetter accepts payloads "author:sig" where sig must be "ok".
type evidenceVetter struct{}

func (evidenceVetter) Sender(p []byte) (string, error) {
	author, _, ok := bytes.Cut(p, []byte(":"))
	if !ok {
		return "", fmt.Errorf("%w: no author", ErrMalformed)
	}
	return string(author), nil
}

func (evidenceVetter) Verify(from string, key consensus.PublicKey, known bool, p []byte) error {
	if !bytes.HasSuffix(p, []byte(":ok")) {
		return fmt.Errorf("%w: evidence from %s", ErrBadSignature, from)
	}
	return nil
}

func TestRegister_OtherKindsAreVetted(t *testing.T) {
	net := NewMemoryNetwork()
	a, _ := newTransport(t, net, testConfig("n1"))
	b, _ := newTransport(t, net, testConfig("n2"))
	if err := b.Register(KindConsensus, evidenceVetter{}); err == nil {
		t.Error("registering KindConsensus succeeded")
	}
	if err := b.Register(KindEvidence, evidenceVetter{}); err != nil {
		t.Fatal(err)
	}
	a.SendFrame("n2", KindEvidence, []byte("n3:ok"), false)
	a.SendFrame("n2", KindEvidence, []byte("n3:forged"), true)
	a.SendFrame("n2", KindEvidence, []byte("no author"), false)
	a.SendFrame("n2", KindAccusation, []byte("n3:ok"), false)
	waitFor(t, func() bool { return b.Stats().Received == 4 }) // the reliable one comes from a sender goroutine
	got := drain(t, b, 1, 2*time.Second)
	s := settle(t, b)
	if len(got) != 1 || got[0].Kind != KindEvidence || got[0].From != "n3" || string(got[0].Payload) != "n3:ok" {
		t.Fatalf("delivered %+v", got)
	}
	if s.BadSignature != 1 || s.Malformed != 1 || s.UnknownKind != 1 {
		t.Errorf("stats %+v: want 1 bad signature, 1 malformed, 1 unknown kind", s)
	}
}
