package sim

import (
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
	"github.com/seed44533760/pact/hw"
)

// newTestSimulation is a 4-node honest run, built but not run.
func newTestSimulation(t *testing.T, fake bool) *simulation {
	t.Helper()
	cfg := DefaultConfig()
	cfg.FakeSignatures = fake
	s, err := newSimulation(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *simulation) readingsOf(p *process, cluster string, value float64) *wire.Readings {
	r := &wire.Readings{
		Header:   wire.Header{V: wire.Version, Cluster: cluster, TS: wire.Timestamp(wallTime(s.now))},
		Node:     string(p.id),
		Readings: []wire.Reading{{Sensor: sensorName, Kind: string(hw.Temperature), Value: value, Unit: "°C"}},
	}
	r.Sig = s.signReport(p, wire.DomainReadings, r)
	return r
}

// TestReports_RefuseWhatIsNotSigned: an honest node audits readings signed
// by their author, a current validator, for this cluster — and nothing
// else.
func TestReports_RefuseWhatIsNotSigned(t *testing.T) {
	s := newTestSimulation(t, false)
	s.now = 10 * time.Second
	to, from, other := s.procs[0], s.procs[1], s.procs[2]

	good := func() *wire.Readings { return s.readingsOf(from, s.cluster, 26) }
	tests := []struct {
		name string
		make func() []byte
		ok   bool
	}{
		{"signed by its author", func() []byte { return encodeReport(tagReadings, good()) }, true},
		{"another node's signature", func() []byte {
			r := s.readingsOf(other, s.cluster, 30)
			r.Node = string(from.id)
			return encodeReport(tagReadings, r)
		}, false},
		{"altered after signing", func() []byte {
			r := good()
			r.Readings[0].Value = 40
			return encodeReport(tagReadings, r)
		}, false},
		{"signed for another cluster", func() []byte { return encodeReport(tagReadings, s.readingsOf(from, "elsewhere", 26)) }, false},
		{"from a stranger", func() []byte {
			r := good()
			r.Node = "node-9"
			return encodeReport(tagReadings, r)
		}, false},
		{"unsigned", func() []byte {
			r := good()
			r.Sig = ""
			return encodeReport(tagReadings, r)
		}, false},
		{"not JSON", func() []byte { return append([]byte{tagReadings}, "{garbage"...) }, false},
		{"unknown tag", func() []byte { return append([]byte{'x'}, encodeReport(tagReadings, good())[1:]...) }, false},
		{"empty", func() []byte { return nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.now += SampleEvery // a new bucket: nothing is a duplicate
			held, refused := to.auditor.Held(), s.reports.Refused
			s.deliverReport(to, tt.make())
			accepted := to.auditor.Held() == held+1
			if accepted != tt.ok || (s.reports.Refused == refused) != tt.ok {
				t.Errorf("held %d → %d, refused %d → %d; want accepted %t", held, to.auditor.Held(), refused, s.reports.Refused, tt.ok)
			}
		})
	}
}

// TestWitness_JudgesOnlyWhatItWatched: a witness accuses a performer whose
// ok outcome covers a drive it watched whole with the pin low — and stays
// silent when the pin moved, when the drive began before it was watching,
// when the outcome is a failure, or when it never watched at all.
func TestWitness_JudgesOnlyWhatItWatched(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name             string
		watchFrom        time.Duration
		started          time.Duration
		pinMoved         bool
		ok               bool
		watching         bool
		wantAccusation   bool
		outcomePerformer int // 0: the watched performer
	}{
		{"pin never rose", 1000 * ms, 1100 * ms, false, true, true, true, 0},
		{"pin rose", 1000 * ms, 1100 * ms, true, true, true, false, 0},
		{"drive began before the watch", 1200 * ms, 1100 * ms, false, true, true, false, 0},
		{"a failure reported", 1000 * ms, 1100 * ms, false, false, true, false, 0},
		{"not watching (crashed, or no witness)", 1000 * ms, 1100 * ms, false, true, false, false, 0},
		{"an outcome of someone else", 1000 * ms, 1100 * ms, false, true, true, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSimulation(t, true)
			witness, performer := s.procs[0], s.procs[1]
			if tt.watching {
				witness.watches["op/7"] = watch{performer: performer.id, from: tt.watchFrom, until: tt.watchFrom + watchFor}
			}
			if tt.pinMoved {
				s.world.drive(performer.num, tt.started, tt.started+driveFor)
			}
			author := performer
			if tt.outcomePerformer > 0 {
				author = s.procs[tt.outcomePerformer-1]
			}
			s.now = tt.started + driveFor + 10*ms
			o := &wire.Outcome{
				Header: wire.Header{V: wire.Version, Cluster: s.cluster}, Action: actionName, Instance: "op/7", RequestID: "op/7",
				Performer: string(author.id), Height: 3, OK: tt.ok,
				Started: wire.Timestamp(wallTime(tt.started)), Finished: wire.Timestamp(wallTime(tt.started + driveFor)),
			}
			o.Sig = s.signReport(author, wire.DomainOutcome, o)
			s.deliverReport(witness, encodeReport(tagOutcome, o))
			if got := s.reports.Accusations == 1; got != tt.wantAccusation {
				t.Fatalf("accusations %d, want %t", s.reports.Accusations, tt.wantAccusation)
			}
			if _, still := witness.accusedAt[accuseKey{consensus.NodeID(o.Performer), wire.AccuseWitness}]; still != tt.wantAccusation {
				t.Errorf("accused %v", witness.accusedAt)
			}
		})
	}
}
