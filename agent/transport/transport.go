package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// Inbound is one verified message for the agent's loop.
type Inbound struct {
	// Kind says which of Msg and Payload is set.
	Kind Kind
	// From is the author named inside the message. For consensus proposals,
	// votes and statuses from validators, and for vetted kinds, its signature
	// has been checked; a commit's author is not (its certificate proves it,
	// and the core checks that), nor is a status from a non-validator.
	From string
	// Msg is the consensus message, for KindConsensus.
	Msg *consensus.Message
	// Payload is the frame's payload, for every other kind.
	Payload []byte
}

// Vetter checks the payloads of one frame kind for the transport: the agent
// registers one per kind it uses (capability documents, evidence,
// accusations). Both methods are called concurrently and must not block.
type Vetter interface {
	// Sender decodes just enough of payload to name its claimed author, for
	// rate limiting before the costly Verify. An error (wrap ErrMalformed)
	// drops the payload.
	Sender(payload []byte) (string, error)
	// Verify checks payload's signature by from, whose current key is key
	// (nil, with known false, when from is not a validator). Wrap
	// ErrBadSignature for forgeries so they are counted as such; any other
	// error counts as malformed.
	Verify(from string, key consensus.PublicKey, known bool, payload []byte) error
}

// Transport carries consensus messages, and any other registered kind,
// between nodes over a Link: signed messages in, verified messages out.
// Inbound frames are decoded and rate-limited on the link's goroutine,
// verified by a small worker pool, and handed to the agent on the Inbound
// channel; outbound votes go best-effort and everything else through a
// bounded per-peer reliable queue. Nothing on either path blocks for long:
// when a queue is full, the message is dropped and counted. All methods are
// safe for concurrent use.
type Transport struct {
	cfg     Config
	link    Link
	log     *slog.Logger
	now     func() time.Time
	limiter *limiter
	stats   counters

	vetters atomic.Pointer[map[Kind]Vetter]
	vetMu   sync.Mutex // serializes Register

	work    chan job
	inbound chan Inbound
	maxBE   int

	closed  atomic.Bool
	done    chan struct{}
	workers sync.WaitGroup

	qmu     sync.Mutex
	queues  map[string]*peerQueue
	senders sync.WaitGroup
}

// job is a decoded, rate-limited message waiting for verification.
type job struct {
	kind    Kind
	from    string
	key     consensus.PublicKey
	known   bool
	msg     *consensus.Message
	payload []byte
}

// New starts a transport over link. Wire the link's receive side to
// Receive; read Inbound; call Close when done.
func New(cfg Config, link Link) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if link == nil {
		return nil, &FieldError{Field: "link", Msg: "is required"}
	}
	t := &Transport{
		cfg:     cfg,
		link:    link,
		log:     cfg.Logger,
		now:     cfg.Now,
		limiter: newLimiter(&cfg),
		work:    make(chan job, cfg.MaxQueue),
		inbound: make(chan Inbound, cfg.MaxQueue),
		done:    make(chan struct{}),
		queues:  make(map[string]*peerQueue),
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.log = t.log.With("component", "transport")
	if t.now == nil {
		t.now = time.Now
	}
	t.maxBE = cfg.MaxBestEffort
	if t.maxBE == 0 {
		t.maxBE = 1200
		if l, ok := link.(bestEffortLimiter); ok {
			t.maxBE = l.BestEffortLimit()
		}
	}
	empty := map[Kind]Vetter{}
	t.vetters.Store(&empty)
	for range cfg.workers() {
		t.workers.Add(1)
		go t.verifyLoop()
	}
	return t, nil
}

// Inbound delivers verified messages, in arrival order per worker. It is
// closed by Close.
func (t *Transport) Inbound() <-chan Inbound { return t.inbound }

// Stats returns the counters.
func (t *Transport) Stats() Stats { return t.stats.snapshot() }

// Register sets the Vetter for a frame kind other than KindConsensus.
// Frames of kinds without one are dropped and counted as UnknownKind.
func (t *Transport) Register(kind Kind, v Vetter) error {
	if kind == KindConsensus || kind == 0 {
		return fmt.Errorf("transport: kind %s cannot be registered", kind)
	}
	t.vetMu.Lock()
	defer t.vetMu.Unlock()
	next := make(map[Kind]Vetter)
	for k, old := range *t.vetters.Load() {
		next[k] = old
	}
	if v == nil {
		delete(next, kind)
	} else {
		next[kind] = v
	}
	t.vetters.Store(&next)
	return nil
}

// Receive takes one frame from the link. It is meant to be the link's
// receive function (membership's OnMessage) and is called from the link's
// goroutines: it decodes, rate-limits and queues for verification, and never
// blocks. It may keep frame.
func (t *Transport) Receive(frame []byte) {
	if t.closed.Load() {
		return
	}
	t.stats.received.Add(1)
	kind, payload, err := DecodeFrame(frame)
	if err != nil {
		t.stats.malformed.Add(1)
		return
	}
	j := job{kind: kind}
	if kind == KindConsensus {
		m, err := consensus.Unmarshal(payload)
		if err != nil {
			t.stats.malformed.Add(1)
			return
		}
		j.msg, j.from = m, string(m.From)
	} else {
		v := (*t.vetters.Load())[kind]
		if v == nil {
			t.stats.unknownKind.Add(1)
			return
		}
		from, err := v.Sender(payload)
		if err != nil {
			t.stats.malformed.Add(1)
			return
		}
		j.from, j.payload = from, payload
	}
	j.key, j.known = t.cfg.Keys(j.from)
	if !t.limiter.allow(j.from, j.known, t.now()) {
		t.stats.rateLimited.Add(1)
		return
	}
	select {
	case t.work <- j:
	default:
		t.stats.busy.Add(1)
	}
}

// verifyLoop is one verification worker.
func (t *Transport) verifyLoop() {
	defer t.workers.Done()
	for {
		select {
		case <-t.done:
			return
		case j := <-t.work:
			if in, ok := t.verify(j); ok {
				t.deliver(in)
			}
		}
	}
}

// verify checks one message and reports whether it may go on.
func (t *Transport) verify(j job) (Inbound, bool) {
	if j.kind != KindConsensus {
		v := (*t.vetters.Load())[j.kind]
		if v == nil {
			t.stats.unknownKind.Add(1)
			return Inbound{}, false
		}
		if err := v.Verify(j.from, j.key, j.known, j.payload); err != nil {
			switch {
			case errors.Is(err, ErrBadSignature):
				t.stats.badSignature.Add(1)
			case !j.known:
				t.stats.unknownSender.Add(1)
			default:
				t.stats.malformed.Add(1)
			}
			return Inbound{}, false
		}
		return Inbound{Kind: j.kind, From: j.from, Payload: j.payload}, true
	}

	m := j.msg
	switch m.Type {
	case consensus.MsgProposal, consensus.MsgPrevote, consensus.MsgPrecommit:
		if !j.known {
			t.stats.unknownSender.Add(1)
			return Inbound{}, false
		}
		if !t.cfg.Verifier.Verify(j.key, consensus.SignBytes(t.cfg.Cluster, m), m.Signature) {
			t.stats.badSignature.Add(1)
			return Inbound{}, false
		}
	case consensus.MsgStatus:
		if !j.known {
			// Candidates and ejected nodes may follow the chain: the core
			// answers them with public, self-proving commits only.
			t.stats.candidateStatus.Add(1)
			break
		}
		if !t.cfg.Verifier.Verify(j.key, consensus.SignBytes(t.cfg.Cluster, m), m.Signature) {
			t.stats.badSignature.Add(1)
			return Inbound{}, false
		}
	case consensus.MsgCommit:
		// A commit proves itself with its certificate, which the core checks
		// against the validator set of its height — possibly not today's.
		if m.Commit == nil {
			t.stats.malformed.Add(1)
			return Inbound{}, false
		}
	default:
		t.stats.malformed.Add(1)
		return Inbound{}, false
	}
	return Inbound{Kind: KindConsensus, From: j.from, Msg: m}, true
}

// deliver hands a verified message to the agent without blocking.
func (t *Transport) deliver(in Inbound) {
	select {
	case t.inbound <- in:
		t.stats.delivered.Add(1)
	default:
		t.stats.inboundFull.Add(1)
	}
}

// Close stops the workers and the per-peer senders and closes Inbound. It
// waits for reliable sends in flight (each bounded by the link's timeout).
// Receive and Send do nothing afterwards. It is idempotent.
func (t *Transport) Close() error {
	if t.closed.Swap(true) {
		return nil
	}
	close(t.done)
	t.workers.Wait()
	t.qmu.Lock()
	for _, q := range t.queues {
		q.stop()
	}
	t.qmu.Unlock()
	t.senders.Wait()
	close(t.inbound)
	return nil
}
