package agreed

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

func TestTrigger_FiresOnQuorumMedianAbove(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []float64 // node-1, node-2, ...
		fire   bool
		median float64
	}{
		{"every node above", []float64{31, 32, 33, 34}, true, 32.5},
		{"one lying high cannot fire it", []float64{20, 21, 22, 1000}, false, 21.5},
		{"one lying low cannot suppress it", []float64{31, 32, 33, 0}, true, 31.5},
		{"a quorum exactly", []float64{31, 32, 33}, true, 32},
		{"below a quorum", []float64{40, 40}, false, 40},
		{"at the threshold is not above", []float64{30, 30, 30, 30}, false, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newActionFixture(t, 4)
			rs := f.temperatures(tc.values...)
			d := f.state.TriggerCheck("ventilate", rs)
			if d.Fire != tc.fire || d.Rearm || d.Median != tc.median || d.Nodes != len(tc.values) {
				t.Fatalf("TriggerCheck = %+v, want fire %v median %v", d, tc.fire, tc.median)
			}
			err := f.validate(f.triggerEntry("ventilate", rs, ""))
			if (err == nil) != tc.fire {
				t.Fatalf("Validate of the trigger entry = %v, want valid %v", err, tc.fire)
			}
			e, err := f.state.AssignTrigger("ventilate", d.Used)
			if (err == nil) != tc.fire {
				t.Fatalf("AssignTrigger = %v, want ok %v", err, tc.fire)
			}
			if e == nil {
				return
			}
			f.applyT(t, e.Encode())
			rec, ok := f.state.Assignment(e.Assign.Instance)
			if !ok || !rec.Triggered || len(rec.Params) != 0 || rec.Output != "fan" || rec.Duration != 20*time.Second || rec.At != wire.Timestamp(f.now) {
				t.Fatalf("record %+v", rec)
			}
			if f.state.Armed("ventilate") {
				t.Fatal("the trigger is still armed after firing")
			}
		})
	}
}

func TestTrigger_RefusesBadReadings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, f *actionFixture)
		block   func(f *actionFixture) []*wire.Readings
		used    int    // what TriggerCheck counts of the same readings
		why     string // a word the error must contain
		trigger string // default ventilate
	}{{
		name: "a stale reading",
		block: func(f *actionFixture) []*wire.Readings {
			rs := f.temperatures(31, 31, 31)
			rs[1] = f.readings("node-2", f.now.Add(-61*time.Second), "temperature", 31)
			return rs
		},
		used: 2, why: "local clock",
	}, {
		name: "a reading from the future",
		block: func(f *actionFixture) []*wire.Readings {
			rs := f.temperatures(31, 31, 31)
			rs[2] = f.readings("node-3", f.now.Add(61*time.Second), "temperature", 31)
			return rs
		},
		used: 2, why: "local clock",
	}, {
		name: "a forged reading",
		block: func(f *actionFixture) []*wire.Readings {
			rs := f.temperatures(31, 31, 31)
			rs[1] = f.readingsBy("node-2", f.now, otherKey(), wire.Reading{Kind: "temperature", Value: 31})
			return rs
		},
		used: 2, why: "signature",
	}, {
		name: "an altered reading",
		block: func(f *actionFixture) []*wire.Readings {
			rs := f.temperatures(31, 31, 20)
			rs[2].Readings[0].Value = 31
			return rs
		},
		used: 2, why: "signature",
	}, {
		name: "a non-validator's reading",
		block: func(f *actionFixture) []*wire.Readings {
			return append(f.temperatures(31, 31), f.readings("node-5", f.now, "temperature", 31))
		},
		used: 2, why: "not a validator",
	}, {
		name:  "an ejected node's reading",
		setup: func(t *testing.T, f *actionFixture) { f.applyT(t, NewEjection(f.equivocation("node-4")).Encode()) },
		block: func(f *actionFixture) []*wire.Readings { return f.temperatures(31, 31, 31, 31) },
		used:  3, why: "not a validator",
	}, {
		name: "a reading for another cluster",
		block: func(f *actionFixture) []*wire.Readings {
			rs := f.temperatures(31, 31, 31)
			r := &wire.Readings{Header: wire.Header{TS: wire.Timestamp(f.now)}, Node: "node-3", Readings: []wire.Reading{{Kind: "temperature", Value: 31}}}
			if err := wire.SignReadings("other", r, f.keys["node-3"]); err != nil {
				panic(err)
			}
			rs[2] = r
			return rs
		},
		used: 2, why: "cluster",
	}, {
		name: "a node twice",
		block: func(f *actionFixture) []*wire.Readings {
			rs := f.temperatures(31, 31)
			return append(rs, f.readings("node-2", f.now.Add(-time.Second), "temperature", 31))
		},
		used: 2, why: "one per node",
	}, {
		name: "out of the order of the names",
		block: func(f *actionFixture) []*wire.Readings {
			rs := f.temperatures(31, 31, 31)
			rs[0], rs[1] = rs[1], rs[0]
			return rs
		},
		used: 3, why: "one per node",
	}, {
		name: "no reading of the trigger's kind",
		block: func(f *actionFixture) []*wire.Readings {
			rs := f.temperatures(31, 31)
			return append(rs, f.readings("node-3", f.now, "humidity", 31))
		},
		used: 2, why: "hold no temperature",
	}, {
		name:    "a node outside the trigger's zone",
		setup:   func(t *testing.T, f *actionFixture) { f.applyT(t, f.doc("node-3", "y", defaultOutputs()...)) },
		trigger: "hum",
		block: func(f *actionFixture) []*wire.Readings {
			rs := make([]*wire.Readings, 3)
			for i := range rs {
				rs[i] = f.readings(nodeName(i+1), f.now, "humidity", 90)
			}
			return rs
		},
		used: 2, why: "zone",
	}, {
		name: "too many values in one payload",
		block: func(f *actionFixture) []*wire.Readings {
			rs := f.temperatures(31, 31)
			many := make([]wire.Reading, maxReadingValues+1)
			for i := range many {
				many[i] = wire.Reading{Sensor: fmt.Sprint(i), Kind: "temperature", Value: 31}
			}
			return append(rs, f.readingsBy("node-3", f.now, f.keys["node-3"], many...))
		},
		used: 2, why: "limit",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newActionFixture(t, 4)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			action := tc.trigger
			if action == "" {
				action = "ventilate"
			}
			rs := tc.block(f)
			if d := f.state.TriggerCheck(action, rs); d.Nodes != tc.used || d.Fire != (d.Nodes >= 3) {
				t.Fatalf("TriggerCheck = %+v, want %d nodes", d, tc.used)
			}
			err := f.validate(f.triggerEntry(action, rs, ""))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("Validate = %v, want ErrInvalid about %q", err, tc.why)
			}
		})
	}
}

func TestTrigger_Hysteresis(t *testing.T) {
	f := newActionFixture(t, 4)
	step := func(after time.Duration, values ...float64) TriggerDecision {
		f.now = t0.Add(after)
		return f.state.TriggerCheck("ventilate", f.temperatures(values...))
	}
	if !f.state.Armed("ventilate") || f.state.Armed("blink") {
		t.Fatal("a trigger is not armed at genesis, or an action without one is")
	}

	d := step(0, 31, 31, 31, 31)
	first, err := f.state.AssignTrigger("ventilate", d.Used)
	if !d.Fire || err != nil {
		t.Fatalf("first fire: %+v, %v", d, err)
	}
	f.applyT(t, first.Encode())
	if f.state.Armed("ventilate") || !f.state.Disarmed["ventilate"] || f.state.ReadingsUsed["node-1"] != wire.Timestamp(t0) {
		t.Fatalf("after firing: armed %v, used %v", f.state.Armed("ventilate"), f.state.ReadingsUsed)
	}

	// Disarmed: hotter still does not fire again.
	if d := step(5*time.Second, 35, 35, 35, 35); d.Fire || d.Rearm {
		t.Fatalf("disarmed trigger: %+v", d)
	}
	if _, err := f.state.AssignTrigger("ventilate", f.temperatures(35, 35, 35, 35)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("second fire while disarmed: %v", err)
	}
	// Between below and above: still disarmed.
	if d := step(10*time.Second, 27, 27, 27, 27); d.Rearm {
		t.Fatalf("re-armed above below: %+v", d)
	}
	if _, err := f.state.RearmTrigger("ventilate", f.temperatures(27, 27, 27, 27)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("rearm above below: %v", err)
	}
	// Below below: re-armed.
	d = step(15*time.Second, 20, 20, 20, 30)
	rearm, err := f.state.RearmTrigger("ventilate", d.Used)
	if !d.Rearm || err != nil {
		t.Fatalf("rearm: %+v, %v", d, err)
	}
	f.applyT(t, rearm.Encode())
	if !f.state.Armed("ventilate") {
		t.Fatal("not re-armed")
	}
	if err := f.validate(f.rearmEntry("ventilate", f.temperatures(20, 20, 20))); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "is armed") {
		t.Fatalf("rearm of an armed trigger: %v", err)
	}
	if err := f.validate(f.rearmEntry("blink", f.temperatures(20, 20, 20))); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no trigger") {
		t.Fatalf("rearm of an action without a trigger: %v", err)
	}
	// The readings that fired it once cannot fire it again.
	f.now = t0.Add(20 * time.Second)
	if err := f.validate(first.Encode()); !errors.Is(err, ErrInvalid) {
		t.Fatalf("the first fire replayed: %v", err)
	}
	replayed := f.triggerEntry("ventilate", append(slices.Clone(first.Assign.Trigger[:3]), f.readings("node-4", f.now, "temperature", 31)), "")
	if err := f.validate(replayed); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no newer") {
		t.Fatalf("the first readings replayed: %v", err)
	}
	// Fresh readings above: fires again, a new instance.
	d = step(20*time.Second, 31, 31, 31, 31)
	second, err := f.state.AssignTrigger("ventilate", d.Used)
	if !d.Fire || err != nil {
		t.Fatalf("second fire: %+v, %v", d, err)
	}
	f.applyT(t, second.Encode())
	if len(f.state.Assigned) != 2 || second.Assign.Instance == first.Assign.Instance {
		t.Fatalf("assignments %v", f.state.Assignments())
	}
}

func TestTrigger_BelowDefaultsToAbove(t *testing.T) {
	f := newActionFixture(t, 4)
	hum := func(v float64) []*wire.Readings {
		rs := make([]*wire.Readings, 4)
		for i := range rs {
			rs[i] = f.readings(nodeName(i+1), f.now, "humidity", v)
		}
		return rs
	}
	e, err := f.state.AssignTrigger("hum", hum(85))
	if err != nil {
		t.Fatal(err)
	}
	f.applyT(t, e.Encode())
	f.now = f.now.Add(time.Second)
	if d := f.state.TriggerCheck("hum", hum(80)); d.Rearm {
		t.Fatal("re-armed at the threshold")
	}
	f.now = f.now.Add(time.Second)
	if d := f.state.TriggerCheck("hum", hum(79.5)); !d.Rearm {
		t.Fatalf("not re-armed below the threshold: %+v", d)
	}
}

func TestTriggerCheck_NewestReadingPerNode(t *testing.T) {
	f := newActionFixture(t, 4)
	old := f.readings("node-1", f.now.Add(-10*time.Second), "temperature", 100)
	rs := append(f.temperatures(20, 20, 20), old)
	d := f.state.TriggerCheck("ventilate", rs)
	if d.Nodes != 3 || d.Median != 20 || d.Used[0] != rs[0] {
		t.Fatalf("TriggerCheck = %+v", d)
	}
	if d := f.state.TriggerCheck("blink", rs); d.Nodes != 0 || d.Fire {
		t.Fatalf("TriggerCheck of an action without a trigger = %+v", d)
	}
}

func TestTrigger_AgreedTimeIsTheMedianTS(t *testing.T) {
	f := newActionFixture(t, 4)
	var rs []*wire.Readings
	for i, ago := range []time.Duration{3, 2, 1, 0} {
		rs = append(rs, f.readings(nodeName(i+1), f.now.Add(-ago*time.Second), "temperature", 40))
	}
	e, err := f.state.AssignTrigger("ventilate", rs)
	if err != nil {
		t.Fatal(err)
	}
	f.applyT(t, e.Encode())
	rec, _ := f.state.Assignment(e.Assign.Instance)
	if want := "2026-03-01T11:59:58.500Z"; rec.At != want || f.state.LastRun["ventilate"] != want {
		t.Fatalf("at %s, last run %s, want %s", rec.At, f.state.LastRun["ventilate"], want)
	}
}

func TestTrigger_TwoActionsFromTheSameReadings(t *testing.T) {
	f := newActionFixture(t, 4)
	both := func(v float64) []*wire.Readings {
		rs := make([]*wire.Readings, 4)
		for i := range rs {
			rs[i] = f.readingsBy(nodeName(i+1), f.now, f.keys[nodeName(i+1)],
				wire.Reading{Sensor: "t", Kind: "temperature", Value: v}, wire.Reading{Sensor: "h", Kind: "humidity", Value: v * 3})
		}
		return rs
	}
	rs := both(40)
	a, err := f.state.AssignTrigger("ventilate", rs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.state.AssignTrigger("hum", rs)
	if err != nil {
		t.Fatal(err)
	}
	f.applyT(t, f.prepared(t, a.Encode(), b.Encode())...)
	if len(f.state.Assigned) != 2 {
		t.Fatalf("assignments %v", f.state.Assignments())
	}
}
