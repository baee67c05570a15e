package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/store"
	"github.com/seed44533760/pact/agent/transport"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
	"github.com/seed44533760/pact/hw"
	"github.com/seed44533760/pact/hw/hwtest"
)

// Unit tests of each adversary behaviour's transformation. Whether the
// honest nodes catch them is the cluster tests' business (detect_test.go).

const advCluster = "itest"

// advKey is a fixed key per name, so every run signs the same bytes.
func advKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("adversary-test/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func advPub(name string) ed25519.PublicKey { return advKey(name).Public().(ed25519.PublicKey) }

func advMode(t *testing.T, node string, mode config.AdversaryMode) *adversary {
	t.Helper()
	adv, err := newAdversary(&config.Agent{Node: node, Adversary: &config.Adversary{Mode: mode}}, advCluster, consensus.Ed25519Signer{Key: advKey(node)})
	if err != nil {
		t.Fatal(err)
	}
	return adv
}

var discard = slog.New(slog.DiscardHandler)

func TestAdversary_ModesAndTheirBehaviours(t *testing.T) {
	for _, mode := range config.AdversaryModes {
		if _, ok := adversaryBehaviours[mode]; !ok {
			t.Errorf("mode %q of the config has no behaviour", mode)
		}
	}
	for _, tc := range []struct {
		mode                             config.AdversaryMode
		equivocates, lies, fakes, silent bool
		keepsVotes, keepsDecided         bool
	}{
		{mode: "equivocate", equivocates: true},
		{mode: "lie-sensor", lies: true},
		{mode: "false-outcome", fakes: true},
		{mode: "rogue-act"},
		{mode: "forge"},
		{mode: "replay", keepsVotes: true, keepsDecided: true},
		{mode: "flood", keepsVotes: true},
		{mode: "silent", fakes: true, silent: true},
		{mode: "mixed", equivocates: true, lies: true, fakes: true},
	} {
		adv := advMode(t, "node-4", tc.mode)
		got := [6]bool{adv.equivocator != nil, adv.liar != nil, adv.faker != nil, adv.silent, adv.ownVotes != nil, adv.decided != nil}
		want := [6]bool{tc.equivocates, tc.lies, tc.fakes, tc.silent, tc.keepsVotes, tc.keepsDecided}
		if got != want {
			t.Errorf("%s: equivocates, lies, fakes, silent, keeps votes, keeps decided = %v, want %v", tc.mode, got, want)
		}
	}
	if _, err := newAdversary(&config.Agent{Node: "n", Adversary: &config.Adversary{Mode: "chaos"}}, advCluster, nil); err == nil {
		t.Error("mode chaos accepted")
	}
	if adv, err := newAdversary(&config.Agent{Node: "n"}, advCluster, nil); adv != nil || err != nil {
		t.Errorf("no adversary section: %v, %v; want nil, nil", adv, err)
	}
}

// The honest path: every hook is a no-op on a nil adversary.
func TestAdversary_NilIsHonest(t *testing.T) {
	var adv *adversary
	rs := []wire.Reading{{Sensor: "t", Kind: "temperature", Value: 20}}
	adv.lie(rs)
	adv.noteDecided([]consensus.Entry{consensus.Entry("x")})
	if rs[0].Value != 20 || adv.driveFaker() != nil {
		t.Error("a nil adversary changed something")
	}
	mem := newAdvReports(t)
	if adv.muteReports(mem) != report.Reports(mem) || advMode(t, "node-4", "forge").muteReports(mem) != report.Reports(mem) {
		t.Error("reports wrapped for a node that is not silent")
	}
	a := &Agent{}
	if a.silenced() {
		t.Error("an honest node is silenced")
	}
}

func TestAdversary_LieSensorSignsFalseValues(t *testing.T) {
	truth := map[string]float64{"temperature": 20, "humidity": 40, "pressure": 1000, "digital": 1}
	a := &Agent{
		name: "node-4", cluster: &config.Cluster{Name: advCluster}, key: advKey("node-4"),
		board:     &advBoard{sensors: advSensors(truth)},
		adversary: advMode(t, "node-4", "lie-sensor"),
	}
	liar := a.adversary.liar.(*sensorLiar)
	seen := map[lieKind]int{}
	for i := range 3 * lieStretch {
		kind := liar.kind()
		seen[kind]++
		r := a.readSensors(context.Background())
		if r == nil {
			t.Fatalf("sample %d: no readings", i)
		}
		if err := wire.VerifyReadings(advCluster, r, advPub("node-4")); err != nil {
			t.Fatalf("sample %d: the lie is not validly signed: %v", i, err)
		}
		for _, x := range r.Readings {
			v, want := x.Value, truth[x.Kind]
			switch {
			case x.Kind == "digital":
				if v != want {
					t.Errorf("sample %d (%s): digital %v, want it untouched (%v)", i, kind, v, want)
				}
			case kind == lieOffset:
				want += map[string]float64{"temperature": 8, "humidity": 20, "pressure": 30}[x.Kind]
				if v != want {
					t.Errorf("sample %d (offset): %s %v, want %v", i, x.Kind, v, want)
				}
			case kind == lieStuck:
				if v != 21.0 {
					t.Errorf("sample %d (stuck): %s %v, want 21", i, x.Kind, v)
				}
			case kind == lieRandom:
				if v < 0 || v >= 50 || v == want {
					t.Errorf("sample %d (random): %s %v, want a value in [0, 50) other than the truth", i, x.Kind, v)
				}
			}
		}
	}
	if len(seen) != 3 || seen[lieOffset] != lieStretch || seen[lieStuck] != lieStretch {
		t.Errorf("lies over %d samples: %v, want each of offset, stuck, random %d times", 3*lieStretch, seen, lieStretch)
	}

	// Deterministic by node: the same name lies the same way.
	lies := func(node string) []float64 {
		l := newSensorLiar(node)
		var out []float64
		for range 3 * lieStretch {
			rs := []wire.Reading{{Kind: "temperature", Value: 20}}
			l.lie(rs)
			out = append(out, rs[0].Value)
		}
		return out
	}
	if a, b := lies("node-4"), lies("node-4"); !slices.Equal(a, b) {
		t.Error("two liars of one node lied differently")
	}
	if a, b := lies("node-4"), lies("node-5"); slices.Equal(a, b) {
		t.Error("liars of two nodes lied alike")
	}
}

func TestAdversary_FalseOutcomeNeverDrivesThePin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		led := hwtest.NewOutput("led", "led")
		a := &Agent{board: &advBoard{outputs: []hw.Output{led}}, adversary: advMode(t, "node-4", "false-outcome")}
		for _, level := range []config.Level{config.High, config.Low} {
			start := time.Now()
			readback, err := a.drive(context.Background(), job{output: "led", level: level, duration: 3 * time.Second})
			if err != nil || readback != string(level) {
				t.Errorf("drive %s: %q, %v; want %q, nil", level, readback, err, level)
			}
			if d := time.Since(start); d != 3*time.Second {
				t.Errorf("drive %s returned after %v, want the duration, 3s", level, d)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(time.Second); cancel() }()
		if _, err := a.drive(ctx, job{output: "led", level: config.High, duration: time.Minute}); !errors.Is(err, context.Canceled) {
			t.Errorf("drive after cancel: %v, want context.Canceled", err)
		}
		if h := led.History(); len(h) != 0 {
			t.Errorf("the output was set %v; a false outcome never touches it", h)
		}
	})

	// Through perform: the outcome is ok, says "high", and is validly
	// signed; the pin never moved.
	led := hwtest.NewOutput("led", "led")
	st, err := store.Open(filepath.Join(t.TempDir(), "pact.db"), advCluster, "node-4", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &Agent{
		name: "node-4", cluster: &config.Cluster{Name: advCluster}, key: advKey("node-4"), log: discard, store: st,
		board: &advBoard{outputs: []hw.Output{led}}, adversary: advMode(t, "node-4", "false-outcome"),
	}
	o := a.perform(context.Background(), job{action: "blink", instance: "i-1", requestID: "r-1", output: "led", level: config.High, duration: time.Millisecond, height: 7, token: fenceToken(7, 0)})
	if o == nil || !o.OK || o.Readback != "high" || o.Performer != "node-4" {
		t.Fatalf("outcome %+v, want ok, readback high, by node-4", o)
	}
	if err := wire.VerifyOutcome(advCluster, o, advPub("node-4")); err != nil {
		t.Errorf("the false outcome is not validly signed: %v", err)
	}
	if h := led.History(); len(h) != 0 {
		t.Errorf("the output was set %v", h)
	}
}

// timedOutput records when each level was set.
type timedOutput struct {
	*hwtest.Output
	mu  sync.Mutex
	log []timedLevel
}

type timedLevel struct {
	at time.Time
	on bool
}

func (o *timedOutput) Set(on bool) error {
	if err := o.Output.Set(on); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.log = append(o.log, timedLevel{time.Now(), on})
	return nil
}

func TestAdversary_RogueActDrivesWithoutAssignment(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out := &timedOutput{Output: hwtest.NewOutput("led", "led")}
		a := &Agent{board: &advBoard{outputs: []hw.Output{out, hwtest.NewOutput("fan", "relay")}}}
		first, ok := a.firstOutput()
		if !ok || first != hw.Output(out) {
			t.Fatalf("first output %v, want the led", first)
		}
		r := newRogueActor("node-4", a.firstOutput, discard)
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		done := make(chan struct{})
		go func() { r.run(ctx); close(done) }()
		time.Sleep(2 * time.Minute)
		cancel()
		<-done

		if len(out.log) < 2*int(2*time.Minute/(rogueActMaxGap+rogueActPulse)) || len(out.log) > 2*int(2*time.Minute/(rogueActMinGap+rogueActPulse))+2 {
			t.Fatalf("%d level changes in 2 minutes, want a pulse every 8.5 to 14.5 s", len(out.log))
		}
		last := start
		for i, e := range out.log {
			if e.on != (i%2 == 0) {
				t.Fatalf("level change %d is %v, want on and off in turn: %v", i, e.on, out.log)
			}
			d := e.at.Sub(last)
			if e.on && (d < rogueActMinGap || d > rogueActMaxGap) {
				t.Errorf("pulse %d came %v after the last, want 7 to 13 s", i/2, d)
			}
			if !e.on && d != rogueActPulse {
				t.Errorf("pulse %d lasted %v, want 1.5s", i/2, d)
			}
			last = e.at
		}
		if out.On() {
			t.Error("the output was left on")
		}
		if r.pulses != len(out.log)/2 {
			t.Errorf("counted %d pulses, the output saw %d", r.pulses, len(out.log)/2)
		}

		// Stopped in the middle of a pulse, the output still goes back off.
		out2 := &timedOutput{Output: hwtest.NewOutput("led", "led")}
		r2 := newRogueActor("node-4", func() (hw.Output, bool) { return out2, true }, discard)
		ctx2, cancel2 := context.WithCancel(context.Background())
		done2 := make(chan struct{})
		go func() { r2.run(ctx2); close(done2) }()
		for !out2.On() {
			time.Sleep(100 * time.Millisecond)
		}
		cancel2()
		<-done2
		if out2.On() {
			t.Error("stopped mid-pulse, the output was left on")
		}

		// A refusing output (halted, over its limits) costs nothing.
		out3 := hwtest.NewOutput("led", "led")
		out3.FailSets(hw.ErrHalted)
		r3 := newRogueActor("node-4", func() (hw.Output, bool) { return out3, true }, discard)
		ctx3, cancel3 := context.WithTimeout(context.Background(), time.Minute)
		defer cancel3()
		r3.run(ctx3)
		if r3.pulses != 0 || out3.On() {
			t.Errorf("a refusing output: %d pulses, on %v", r3.pulses, out3.On())
		}
	})
}

func TestAdversary_SilentSendsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		network := transport.NewMemoryNetwork()
		var mu sync.Mutex
		received := 0
		network.Join("node-1", func([]byte) { mu.Lock(); received++; mu.Unlock() })
		link := network.Join("node-4", func([]byte) {})
		tcfg := transport.DefaultConfig()
		tcfg.Self, tcfg.Cluster, tcfg.Verifier = "node-4", advCluster, consensus.Ed25519Verifier{}
		tcfg.Keys = func(string) (consensus.PublicKey, bool) { return nil, false }
		net, err := transport.New(tcfg, link)
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()

		led := hwtest.NewOutput("led", "led")
		mem := newAdvReports(t)
		adv := advMode(t, "node-4", "silent")
		a := &Agent{
			name: "node-4", cluster: &config.Cluster{Name: advCluster}, key: advKey("node-4"), log: discard, net: net,
			board:     &advBoard{outputs: []hw.Output{led}, sensors: advSensors(map[string]float64{"temperature": 20})},
			adversary: adv, reports: adv.muteReports(mem),
		}
		vote := consensus.Message{Type: consensus.MsgPrevote, From: "node-4", Height: 1}
		vote.Signature = ed25519.Sign(advKey("node-4"), consensus.SignBytes(advCluster, &vote))

		// The same transport carries an honest node's vote: the test can see.
		a.adversary = nil
		a.send(vote)
		a.adversary = adv
		if received != 1 {
			t.Fatalf("the honest send reached node-1 %d times, want 1", received)
		}
		a.send(vote)
		a.send(consensus.Message{Type: consensus.MsgProposal, From: "node-4", Height: 1})
		if !a.silenced() || received != 1 {
			t.Errorf("silenced %v; node-1 received %d messages, want only the honest one", a.silenced(), received)
		}
		if r := a.readSensors(context.Background()); r != nil {
			t.Errorf("a silent node read its sensors: %+v", r)
		}

		// Nothing reaches MQTT.
		before := len(mem.Published())
		_ = a.reports.PublishCapabilities(nil)
		_ = a.reports.PublishReadings(&wire.Readings{Node: "node-4"})
		_ = a.reports.PublishObservation(&wire.Observation{Node: "node-4"})
		_ = a.reports.PublishDecision(&wire.Decision{Node: "node-4"})
		_ = a.reports.PublishOutcome(&wire.Outcome{Action: "blink", Instance: "i-1"})
		_ = a.reports.PublishEjection(&wire.Ejection{Node: "node-1"})
		_ = a.reports.PublishError("r-1", "no")
		_ = a.reports.SetState(wire.StateEjected)
		if got := mem.Published(); len(got) != before {
			t.Errorf("a silent node published %v", got[before:])
		}

		// Work hangs until the agent stops; the pin never moves, no
		// outcome is made.
		ctx, cancel := context.WithCancel(context.Background())
		var readback string
		var derr error
		done := make(chan struct{})
		go func() {
			readback, derr = a.drive(ctx, job{output: "led", level: config.High, duration: time.Second})
			close(done)
		}()
		time.Sleep(time.Hour)
		select {
		case <-done:
			t.Fatal("a silent node finished its work")
		default:
		}
		cancel()
		<-done
		if readback != "" || !errors.Is(derr, context.Canceled) || len(led.History()) != 0 {
			t.Errorf("silent drive: %q, %v, output set %v; want \"\", canceled, never set", readback, derr, led.History())
		}

		// Nothing runs on its own either.
		a.startAdversary(context.Background())
		a.workerWG.Wait()
		if s := net.Stats(); s.SentBestEffort != 1 || s.SentReliable != 0 {
			t.Errorf("transport sent %d best-effort and %d reliable frames, want the honest vote only", s.SentBestEffort, s.SentReliable)
		}
	})
}

// advBoard is a hw.Board of given outputs and sensors.
type advBoard struct {
	outputs []hw.Output
	sensors []hw.Sensor
}

func (b *advBoard) Outputs() []hw.Output { return b.outputs }
func (b *advBoard) Inputs() []hw.Input   { return nil }
func (b *advBoard) Sensors() []hw.Sensor { return b.sensors }
func (b *advBoard) Output(name string) (hw.Output, error) {
	for _, o := range b.outputs {
		if o.Name() == name {
			return o, nil
		}
	}
	return nil, hw.ErrNotFound
}
func (b *advBoard) Input(string) (hw.Input, error) { return nil, hw.ErrNotFound }
func (b *advBoard) Sensor(name string) (hw.Sensor, error) {
	for _, s := range b.sensors {
		if s.Name() == name {
			return s, nil
		}
	}
	return nil, hw.ErrNotFound
}
func (b *advBoard) Report() hw.Report { return hw.Report{} }
func (b *advBoard) Halt() error       { return nil }
func (b *advBoard) Close() error      { return nil }

var _ hw.Board = (*advBoard)(nil)

// advSensor always reads one value.
type advSensor struct {
	kind  hw.SensorKind
	value float64
}

func advSensors(values map[string]float64) []hw.Sensor {
	var out []hw.Sensor
	for _, kind := range slices.Sorted(maps.Keys(values)) {
		out = append(out, advSensor{kind: hw.SensorKind(kind), value: values[kind]})
	}
	return out
}

func (s advSensor) Name() string        { return string(s.kind) }
func (s advSensor) Kind() hw.SensorKind { return s.kind }
func (s advSensor) Unit() string        { return "" }
func (s advSensor) Sense(context.Context) (hw.Reading, error) {
	return hw.Reading{Sensor: s.Name(), Kind: s.kind, Value: s.value, At: time.Now()}, nil
}

func newAdvReports(t *testing.T) *report.Memory {
	t.Helper()
	m, err := report.NewMemory(report.Config{Cluster: advCluster, Node: "node-4"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// send: an equivocating node's own votes go to everyone, and a validly
// signed twin to every other peer; a replaying or flooding node remembers
// them.
func TestAdversary_SendEquivocatesAndRemembers(t *testing.T) {
	network := transport.NewMemoryNetwork()
	var mu sync.Mutex
	got := map[string][]consensus.Message{}
	for _, peer := range []string{"node-1", "node-2", "node-3"} {
		network.Join(peer, func(p []byte) {
			_, payload, err := transport.DecodeFrame(p)
			if err != nil {
				t.Error(err)
				return
			}
			m, err := consensus.Unmarshal(payload)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			got[peer] = append(got[peer], *m)
		})
	}
	link := network.Join("node-4", func([]byte) {})
	tcfg := transport.DefaultConfig()
	tcfg.Self, tcfg.Cluster, tcfg.Verifier = "node-4", advCluster, consensus.Ed25519Verifier{}
	tcfg.Keys = func(string) (consensus.PublicKey, bool) { return nil, false }
	net, err := transport.New(tcfg, link)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()

	vote := consensus.Message{Type: consensus.MsgPrevote, From: "node-4", Height: 1, Round: 0}
	vote.BlockHash[0] = 1
	vote.Signature = ed25519.Sign(advKey("node-4"), consensus.SignBytes(advCluster, &vote))
	a := &Agent{name: "node-4", net: net, memLink: link, adversary: advMode(t, "node-4", "equivocate")}
	a.send(vote)
	a.send(vote) // the same step: the same twin
	mu.Lock()
	for _, peer := range []string{"node-1", "node-2", "node-3"} {
		msgs := got[peer]
		wantTwins := 0
		if peer == "node-2" { // peers in odd places at odd heights
			wantTwins = 2
		}
		twins := 0
		for _, m := range msgs {
			if !ed25519.Verify(advPub("node-4"), consensus.SignBytes(advCluster, &m), m.Signature) {
				t.Errorf("%s got %v, not validly signed", peer, &m)
			}
			if m.BlockHash != vote.BlockHash {
				twins++
				if !m.BlockHash.IsZero() {
					t.Errorf("twin of a block vote for %s, want nil", m.BlockHash)
				}
			}
		}
		if len(msgs)-twins != 2 || twins != wantTwins {
			t.Errorf("%s got %d votes and %d twins, want 2 and %d", peer, len(msgs)-twins, twins, wantTwins)
		}
	}
	mu.Unlock()

	for _, mode := range []config.AdversaryMode{"replay", "flood"} {
		a.adversary = advMode(t, "node-4", mode)
		a.send(vote)
		a.send(consensus.Message{Type: consensus.MsgProposal, From: "node-4", Height: 1})
		if kept := a.adversary.ownVotes.snapshot(); len(kept) != 1 || !advSigned(kept[0]) {
			t.Errorf("%s kept %v, want its one vote", mode, kept)
		}
	}
}
