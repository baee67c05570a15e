package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/agent/wire"
)

// Reporter is a node's MQTT connection: births and wills, durable and
// best-effort publications, and inbound requests. Its methods are safe for
// concurrent use and never wait for the broker.
type Reporter struct {
	cfg    Config
	log    *slog.Logger
	enc    encoder
	client mqtt.Client
	c      counters
	in     *inbound
	// commits writes durable messages to Config.Outbox.
	commits *groupCommit

	// direct carries best-effort messages to sendDirect; kick wakes the
	// outbox sender (capacity 1: one pending wake-up is enough).
	direct chan message
	kick   chan struct{}

	ctx    context.Context // ends the goroutines at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// session is held by onConnect while it sets up a connection, and by
	// Close while it takes one down, so the two never interleave.
	session sync.Mutex

	mu      sync.Mutex
	state   wire.NodeState // announced at every birth
	caps    *message       // republished at every birth
	disc    []message      // Home Assistant configurations, republished at every birth
	bdseq   uint64         // of the current or next connection; its will carries it
	born    bool           // a birth went out with bdseq, so the next connection needs a new one
	closing bool
	memSeq  uint64 // NextBDSeq's stand-in when it is nil

	// highestSent is the largest outbox sequence number published so far
	// (sendOutbox's alone): one at or below it is a resend.
	highestSent uint64

	closeOnce sync.Once
	closeErr  error
}

// New validates cfg, reads the password file, takes the first bdseq and
// starts connecting in the background: it returns at once, and the
// connection, its retries and later reconnections happen on paho's
// goroutines. Publications made before the broker is reached wait in the
// outbox (durable kinds) or are dropped and counted (best-effort ones).
func New(cfg Config) (*Reporter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	password, err := cfg.password()
	if err != nil {
		return nil, err
	}
	tlsCfg, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log = log.With("component", "mqtt")
	r := &Reporter{
		cfg:    cfg,
		log:    log,
		enc:    newEncoder(cfg.Cluster, cfg.Node, cfg.Now, cfg.HomeAssistant),
		direct: make(chan message, cfg.SendQueue),
		kick:   make(chan struct{}, 1),
		state:  wire.StateReady,
	}
	r.commits = &groupCommit{outbox: cfg.Outbox}
	r.in = newInbound(r.enc, cfg.Operators, cfg.AllowUnsignedRequests, cfg.RequestBuffer, &r.c)
	r.in.log = func(msg string, args ...any) { r.log.Warn(msg, args...) }
	r.in.reply = func(m message) { _ = r.enqueue(m) }
	if r.bdseq, err = r.nextBDSeq(); err != nil {
		return nil, err
	}

	will := r.enc.state(wire.StateLost, r.bdseq)
	opts := mqtt.NewClientOptions().
		AddBroker(cfg.URL).
		SetClientID(cfg.clientID()).
		SetUsername(cfg.Username).
		SetPassword(password).
		SetTLSConfig(tlsCfg).
		// A clean session keeps no state on the broker between connections;
		// OnConnect subscribes again (paho#22, #238) and the outbox, not
		// the broker, holds what must not be lost.
		SetCleanSession(true).
		SetStore(newCopyingStore()).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(cfg.ConnectRetryInterval).
		SetMaxReconnectInterval(cfg.MaxReconnectInterval).
		SetConnectTimeout(cfg.ConnectTimeout).
		SetKeepAlive(cfg.KeepAlive).
		SetPingTimeout(cfg.KeepAlive/2+time.Second).
		// Bounds Publish's own wait for paho's send buffer (paho#138, #313).
		SetWriteTimeout(cfg.PublishTimeout).
		// Requests are handled on their own goroutines, never in line with
		// the keepalive (paho#453); their order does not matter.
		SetOrderMatters(false).
		SetBinaryWill(will.topic, will.payload, 1, true).
		SetOnConnectHandler(r.onConnect).
		SetConnectionLostHandler(r.onConnectionLost).
		SetReconnectingHandler(r.onReconnecting)
	r.client = mqtt.NewClient(opts)

	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(2)
	go r.sendDirect()
	go r.sendOutbox()
	r.log.Info("connecting", "broker", redacted(cfg.URL), "client_id", cfg.clientID(), "bdseq", r.bdseq)
	r.client.Connect() // with ConnectRetry, it completes only once connected: not waited for
	return r, nil
}

// nextBDSeq asks Config.NextBDSeq, or counts in memory without one.
func (r *Reporter) nextBDSeq() (uint64, error) {
	if r.cfg.NextBDSeq == nil {
		n := r.memSeq
		r.memSeq++
		return n, nil
	}
	n, err := r.cfg.NextBDSeq()
	if err != nil {
		return 0, fmt.Errorf("report: next bdseq: %w", err)
	}
	return n, nil
}

// onReconnecting runs on paho's reconnect goroutine before every attempt,
// with the options the attempt will use. Once the previous connection had
// its birth, the next one gets a new bdseq, and its will says so.
func (r *Reporter) onReconnecting(_ mqtt.Client, opts *mqtt.ClientOptions) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.born {
		return
	}
	n, err := r.nextBDSeq()
	if err != nil {
		n = r.bdseq + 1
		r.log.Error("bdseq not persisted; counting on in memory", "err", err, "bdseq", n)
	}
	r.bdseq, r.born = n, false
	will := r.enc.state(wire.StateLost, n)
	opts.SetBinaryWill(will.topic, will.payload, 1, true)
}

// onConnect runs on a goroutine of its own after every connection: birth,
// capabilities (and Home Assistant's configurations), subscriptions, then
// the outbox.
func (r *Reporter) onConnect(c mqtt.Client) {
	r.session.Lock()
	defer r.session.Unlock()
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return
	}
	seq, state, caps, disc := r.bdseq, r.state, r.caps, r.disc
	r.born = true
	r.mu.Unlock()
	r.c.connects.Add(1)
	r.log.Info("connected", "broker", redacted(r.cfg.URL), "bdseq", seq)

	birth := r.enc.state(state, seq)
	r.publishNow(birth)
	if caps != nil {
		r.publishNow(*caps)
	}
	for _, d := range disc {
		r.publishNow(d)
	}
	r.await(c.Subscribe(r.enc.topics.Requests(), 1, func(_ mqtt.Client, m mqtt.Message) {
		r.in.handle(m.Topic(), m.Payload())
	}), "subscribe "+r.enc.topics.Requests())
	r.await(c.Subscribe(r.enc.topics.State(r.cfg.Node), 1, r.onOwnState), "subscribe own state")
	r.await(c.Subscribe(r.enc.topics.Ejection(r.cfg.Node), 1, r.onOwnEjection), "subscribe own ejection")
	r.wake()
}

// onOwnState guards the retained state against a late death: should the
// broker publish an older connection's will after this connection's birth
// (a session taken over while the old TCP connection was half open), the
// birth is published again so the retained state is right.
func (r *Reporter) onOwnState(_ mqtt.Client, m mqtt.Message) {
	var s wire.State
	if wire.Unmarshal(m.Payload(), &s) != nil || s.State != wire.StateLost {
		return
	}
	r.mu.Lock()
	seq, state, stale := r.bdseq, r.state, r.born && !r.closing && s.BDSeq < r.bdseq
	r.mu.Unlock()
	if stale {
		r.log.Warn("a late will overwrote this node's state; publishing the birth again", "will_bdseq", s.BDSeq, "bdseq", seq)
		_ = r.enqueue(r.enc.state(state, seq))
	}
}

// onOwnEjection: the cluster ejected this node. An ejected node is cut off
// from the others and may never learn it from them; the retained record
// the honest nodes publish tells it, and its state says so from then on.
func (r *Reporter) onOwnEjection(_ mqtt.Client, m mqtt.Message) {
	var j wire.Ejection
	if wire.Unmarshal(m.Payload(), &j) != nil || j.Node != r.cfg.Node || j.Cluster != r.cfg.Cluster {
		return
	}
	r.mu.Lock()
	already := r.state == wire.StateEjected
	r.mu.Unlock()
	if !already {
		r.log.Error("the cluster ejected this node", "height", j.Height, "reason", j.Reason)
		_ = r.SetState(wire.StateEjected)
	}
}

func (r *Reporter) onConnectionLost(_ mqtt.Client, err error) {
	r.c.connectionsLost.Add(1)
	r.log.Warn("connection lost; reconnecting", "err", err)
}

// await waits for a token in a paho callback, bounded by PublishTimeout.
func (r *Reporter) await(t mqtt.Token, what string) {
	if err := wait(r.ctx, t, r.cfg.PublishTimeout); err != nil {
		r.log.Warn("mqtt "+what+" failed", "err", err)
	}
}

// errTimeout: the broker did not acknowledge in time.
var errTimeout = errors.New("no acknowledgement from the broker in time")

// wait waits for a token, at most d and not past ctx (paho#138, #313: never
// wait on a token without a bound).
func wait(ctx context.Context, t mqtt.Token, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.Done():
		return t.Error()
	case <-timer.C:
		return errTimeout
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Requests delivers verified requests; it is closed by Close.
func (r *Reporter) Requests() <-chan InboundRequest { return r.in.ch }

// Stats returns the counters.
func (r *Reporter) Stats() Stats {
	s := r.c.snapshot()
	s.Connected = r.client.IsConnectionOpen()
	r.mu.Lock()
	s.BDSeq = r.bdseq
	r.mu.Unlock()
	if r.cfg.Outbox != nil {
		s.Pending = r.cfg.Outbox.Len()
	}
	return s
}

func (r *Reporter) isClosing() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closing
}

// PublishCapabilities publishes doc retained now (best-effort) and again
// after every reconnection. With Config.HomeAssistant, so are the
// discovery configurations derived from it; those of entities doc no
// longer has are removed.
func (r *Reporter) PublishCapabilities(doc *capability.Document) error {
	m, err := r.enc.capabilities(doc)
	if err != nil {
		return err
	}
	disc := r.enc.discovery(doc)
	r.mu.Lock()
	r.caps = &m
	old := r.disc
	r.disc = disc
	r.mu.Unlock()
	return r.enqueue(append(append([]message{m}, withdrawals(old, disc)...), disc...)...)
}

// RemoveDiscovery removes the node's Home Assistant entities: it publishes
// an empty retained configuration for each one published so far, and
// publishes none at later births. The agent calls it before it closes a
// reporter because a reload turned discovery off; the removals are sent
// before Close says goodbye.
func (r *Reporter) RemoveDiscovery() error {
	r.mu.Lock()
	old := r.disc
	r.disc = nil
	r.mu.Unlock()
	return r.enqueue(withdrawals(old, nil)...)
}

// PublishReadings publishes signed readings at QoS 0, best-effort.
func (r *Reporter) PublishReadings(rd *wire.Readings) error {
	m, err := r.enc.readings(rd)
	if err != nil {
		return err
	}
	return r.enqueue(m)
}

// PublishObservation publishes a witness's signed observation, best-effort.
func (r *Reporter) PublishObservation(o *wire.Observation) error {
	m, err := r.enc.observation(o)
	if err != nil {
		return err
	}
	return r.enqueue(m)
}

// PublishDecision queues a decided height for nodes/<node>/decisions.
func (r *Reporter) PublishDecision(d *wire.Decision) error {
	m, err := r.enc.decision(d)
	if err != nil {
		return err
	}
	return r.enqueue(m)
}

// PublishOutcome queues a signed outcome for outcomes/<action>/<instance>;
// with Config.HomeAssistant, one the node performed also for
// nodes/<node>/last/<action>, in the same outbox write.
func (r *Reporter) PublishOutcome(o *wire.Outcome) error {
	m, err := r.enc.outcome(o)
	if err != nil {
		return err
	}
	if last, ok := r.enc.lastOutcome(o, m); ok {
		return r.enqueue(m, last)
	}
	return r.enqueue(m)
}

// PublishEjection queues an ejection for ejections/<node>.
func (r *Reporter) PublishEjection(e *wire.Ejection) error {
	m, err := r.enc.ejection(e)
	if err != nil {
		return err
	}
	return r.enqueue(m)
}

// PublishError publishes an error report, best-effort.
func (r *Reporter) PublishError(requestID, text string) error {
	return r.enqueue(r.enc.errorReport(requestID, "", text))
}

// SetState announces s (wire.StateReady or wire.StateEjected) now and at every later
// birth.
func (r *Reporter) SetState(s wire.NodeState) error {
	if s != wire.StateReady && s != wire.StateEjected {
		return fmt.Errorf("%w: a node announces ready or ejected, not %q", ErrMalformed, s)
	}
	r.mu.Lock()
	r.state = s
	seq := r.bdseq
	r.mu.Unlock()
	return r.enqueue(r.enc.state(s, seq))
}

// enqueue hands messages to the outbox (durable kinds, when there is one;
// all of them in one write) or to the best-effort queue, in order. It never
// waits for the broker; durable messages cost one fsync'd outbox write.
// Nothing is queued when one of them is too large.
func (r *Reporter) enqueue(ms ...message) error {
	if r.isClosing() {
		return ErrClosed
	}
	var durable []store.Outbound
	for _, m := range ms {
		if len(m.payload) > wire.MaxPayloadSize {
			// The broker would hang up on it (max_packet_size), and a durable
			// one would then block the outbox for good.
			return fmt.Errorf("%w: %s payload of %d bytes, the limit is %d", ErrMalformed, m.kind, len(m.payload), wire.MaxPayloadSize)
		}
		if m.kind.Durable() && r.cfg.Outbox != nil {
			durable = append(durable, store.Outbound{Topic: m.topic, Payload: m.payload})
		}
	}
	if len(durable) > 0 {
		if err := r.commits.put(durable...); err != nil {
			r.c.outboxErr.Add(1)
			return fmt.Errorf("report: outbox: %w", err)
		}
		r.c.queued.Add(uint64(len(durable)))
		r.wake()
	}
	var err error
	for _, m := range ms {
		if m.kind.Durable() && r.cfg.Outbox != nil {
			continue
		}
		select {
		case r.direct <- m:
		default:
			r.c.dropped.Add(1)
			err = ErrQueueFull
		}
	}
	return err
}

// wake tells the outbox sender to look again.
func (r *Reporter) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Close says goodbye: it lets the outbox drain while the broker is
// reachable (what is left stays on disk for the next start), publishes the
// retained state disconnected — so the broker discards the will — and
// disconnects, all within ctx. It closes Requests. Later calls return the
// first call's result.
func (r *Reporter) Close(ctx context.Context) error {
	r.closeOnce.Do(func() { r.closeErr = r.close(ctx) })
	return r.closeErr
}

func (r *Reporter) close(ctx context.Context) error {
	r.mu.Lock()
	r.closing = true
	seq := r.bdseq
	r.mu.Unlock()

	// Leave a quarter of the time (at most PublishTimeout) for the goodbye.
	flushCtx := ctx
	if deadline, ok := ctx.Deadline(); ok {
		reserve := min(time.Until(deadline)/4, r.cfg.PublishTimeout)
		var cancel context.CancelFunc
		flushCtx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
		defer cancel()
	}
	r.flush(flushCtx)

	r.session.Lock() // waits for a connection's set-up to finish
	defer r.session.Unlock()
	var err error
	if r.client.IsConnectionOpen() {
		// Nothing may be on its way to this client when it hangs up:
		// mosquitto (up to 2.0.21, mosquitto#2627, #3253) that fails to
		// write to a socket closed after a DISCONNECT it has not read yet
		// takes it for a lost connection and publishes the will — "lost"
		// would then overwrite the goodbye below.
		r.await(r.client.Unsubscribe(r.enc.topics.Requests(), r.enc.topics.State(r.cfg.Node)), "unsubscribe")
		bye := r.enc.state(wire.StateDisconnected, seq)
		if err = wait(ctx, r.client.Publish(bye.topic, 1, true, bye.payload), r.cfg.PublishTimeout); err != nil {
			err = fmt.Errorf("report: publish state disconnected: %w", err)
		}
	}
	r.cancel()
	r.wg.Wait()
	r.client.Disconnect(250)
	r.in.close()
	left := 0
	if r.cfg.Outbox != nil {
		left = r.cfg.Outbox.Len()
	}
	r.log.Info("disconnected", "outbox_left", left)
	return err
}

// redacted is a broker URL fit for the log: a password in it is masked.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
