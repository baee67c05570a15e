package agreed

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// catalogue is the action catalogue of the tests:
//   - blink: any node's "led" output, a bounded duration param;
//   - ventilate: any fan, fired by the temperature median above 30,
//     re-armed below 25;
//   - water: the "valve" output in zone north, a one-minute cooldown;
//   - hum: a fan, fired by humidity above 80 in zone z (no below).
func catalogue() map[string]config.Action {
	return map[string]config.Action{
		"blink": {
			Needs:  config.Needs{Output: "led"},
			Params: map[string]config.Param{"duration": {Min: 100 * time.Millisecond, Max: 5 * time.Second}},
		},
		"ventilate": {
			Needs:    config.Needs{OutputKind: config.OutputFan},
			Drive:    config.Drive{Duration: 20 * time.Second},
			Deadline: 30 * time.Second,
			Trigger:  &config.Trigger{SensorKind: config.SensorTemperature, Above: ptr(30.0), Below: ptr(25.0)},
		},
		"water": {
			Needs:    config.Needs{Output: "valve", Zone: "north"},
			Cooldown: time.Minute,
			Params:   map[string]config.Param{"duration": {Default: 3 * time.Second}},
		},
		"hum": {
			Needs:   config.Needs{OutputKind: config.OutputFan},
			Trigger: &config.Trigger{SensorKind: config.SensorHumidity, Zone: "z", Above: ptr(80.0)},
		},
	}
}

// actionFixture is a cluster of n validators, each advertising a document
// in zone "z" with a fan and a led and a temperature and humidity sensor,
// with the test catalogue, a settable clock and known outcomes.
type actionFixture struct {
	*fixture
	now      time.Time
	outcomes map[string]bool // instance → ok of a known outcome
	rules    Rules
	seq      map[string]uint64
}

func newActionFixture(t testing.TB, n int) *actionFixture {
	t.Helper()
	f := &actionFixture{fixture: newFixture(t, n), now: t0, outcomes: map[string]bool{}, seq: map[string]uint64{}}
	f.rules = Rules{
		Actions: catalogue(),
		Now:     func() time.Time { return f.now },
		Outcome: func(instance string) (bool, bool) { ok, seen := f.outcomes[instance]; return seen, ok },
	}
	f.state.SetRules(f.rules)
	var docs []consensus.Entry
	for _, node := range f.state.ValidatorNames() {
		docs = append(docs, f.doc(node, "z", defaultOutputs()...))
	}
	f.applyT(t, docs...)
	return f
}

func defaultOutputs() []capability.Output {
	return []capability.Output{{Name: "fan", Kind: "fan"}, {Name: "led", Kind: "led"}}
}

// doc is an advert of node's next document with the given zone and outputs.
func (f *actionFixture) doc(node, zone string, outputs ...capability.Output) consensus.Entry {
	f.seq[node]++
	d := &capability.Document{
		Cluster: "c", Node: node, Zone: zone, Seq: f.seq[node], Outputs: outputs,
		Sensors: []capability.Sensor{{Name: "t1", Kind: "temperature", Unit: "°C"}, {Name: "h1", Kind: "humidity", Unit: "%"}},
	}
	d.Sign(f.keys[node])
	return (&Entry{Type: TypeAdvertise, Doc: d}).Encode()
}

// applyT validates a block at the next height and applies it.
func (f *actionFixture) applyT(t testing.TB, entries ...consensus.Entry) {
	t.Helper()
	if err := f.state.Validate(f.state.Height+1, entries); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	f.state.Apply(f.state.Height+1, entries, f.state.ValidatorSet())
}

// request is an operator's signed request for action at the fixture's time.
func (f *actionFixture) request(t testing.TB, id, action string, params map[string]string) *wire.Request {
	t.Helper()
	return f.requestBy(t, id, action, params, f.now, f.operator)
}

func (f *actionFixture) requestBy(t testing.TB, id, action string, params map[string]string, ts time.Time, key ed25519.PrivateKey) *wire.Request {
	t.Helper()
	req := &wire.Request{Header: wire.Header{TS: wire.Timestamp(ts)}, ID: id, Action: action, Params: params}
	if err := wire.SignRequest("c", req, key); err != nil {
		t.Fatal(err)
	}
	return req
}

// assign builds the assignment of a request, failing the test if the
// builder refuses it.
func (f *actionFixture) assign(t testing.TB, req *wire.Request) consensus.Entry {
	t.Helper()
	e, err := f.state.AssignRequest(req)
	if err != nil {
		t.Fatalf("AssignRequest(%s): %v", req.ID, err)
	}
	return e.Encode()
}

// readings is node's signed payload at ts with one value of kind.
func (f *actionFixture) readings(node string, ts time.Time, kind string, value float64) *wire.Readings {
	return f.readingsBy(node, ts, f.keys[node], wire.Reading{Sensor: "s", Kind: kind, Value: value, Unit: "x"})
}

func (f *actionFixture) readingsBy(node string, ts time.Time, key ed25519.PrivateKey, rs ...wire.Reading) *wire.Readings {
	r := &wire.Readings{Header: wire.Header{TS: wire.Timestamp(ts)}, Node: node, Readings: rs}
	if err := wire.SignReadings("c", r, key); err != nil {
		panic(err)
	}
	return r
}

// temperatures is one temperature reading per value, from node-1, node-2,
// ... at the fixture's time.
func (f *actionFixture) temperatures(values ...float64) []*wire.Readings {
	out := make([]*wire.Readings, len(values))
	for i, v := range values {
		out[i] = f.readings(nodeName(i+1), f.now, "temperature", v)
	}
	return out
}

func nodeName(i int) string { return fmt.Sprintf("node-%d", i) }

// triggerEntry builds a trigger assignment by hand, for what the builder
// would refuse.
func (f *actionFixture) triggerEntry(action string, rs []*wire.Readings, performer string) consensus.Entry {
	id := triggerRequestID(action, rs)
	if performer == "" {
		if e := f.state.Eligible(action, id, nil); len(e) > 0 {
			performer = e[0]
		}
	}
	return (&Entry{Type: TypeAssign, Assign: &Assignment{
		Action: action, Instance: InstanceID("c", id), RequestID: id, Performer: performer, Trigger: rs,
	}}).Encode()
}

func (f *actionFixture) rearmEntry(action string, rs []*wire.Readings) consensus.Entry {
	return (&Entry{Type: TypeRearm, Rearm: &Rearming{Action: action, Readings: rs}}).Encode()
}

// validate is Validate of one block at the next height.
func (f *actionFixture) validate(entries ...consensus.Entry) error {
	return f.state.Validate(f.state.Height+1, entries)
}

func otherKey() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{77}, 32)) }

// prepared is the block the proposer builds from entries (Prepare): each
// assignment rebuilt for its place in the block. It fails the test unless
// every entry makes it in.
func (f *actionFixture) prepared(t testing.TB, entries ...consensus.Entry) []consensus.Entry {
	t.Helper()
	block, discard := f.state.Prepare(f.state.Height+1, entries)
	if len(block) != len(entries) || len(discard) != 0 {
		t.Fatalf("Prepare kept %d of %d entries, discarded %d", len(block), len(entries), len(discard))
	}
	return block
}

// after builds the next entry of a block as if entries came before it in
// the same block.
func (f *actionFixture) after(t testing.TB, build func() consensus.Entry, entries ...consensus.Entry) consensus.Entry {
	t.Helper()
	f.state.inBlock = map[string]uint64{}
	defer func() { f.state.inBlock = nil }()
	for _, raw := range entries {
		e, err := Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		f.state.countInBlock(f.state.Height+1, e)
	}
	return build()
}
