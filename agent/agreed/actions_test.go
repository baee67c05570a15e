package agreed

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// hashOrder sorts nodes by SHA-256(requestID "\n" node): the tie-break
// among nodes assigned equally recently, computed apart from the code.
func hashOrder(requestID string, nodes ...string) []string {
	out := slices.Clone(nodes)
	slices.SortFunc(out, func(a, b string) int {
		ha, hb := sha256.Sum256([]byte(requestID+"\n"+a)), sha256.Sum256([]byte(requestID+"\n"+b))
		return bytes.Compare(ha[:], hb[:])
	})
	return out
}

func TestInstanceID_Form(t *testing.T) {
	a, b := InstanceID("c", "r-1"), InstanceID("c", "r-2")
	if a != InstanceID("c", "r-1") {
		t.Fatal("InstanceID is not deterministic")
	}
	if a == b || a == InstanceID("d", "r-1") {
		t.Fatal("InstanceID does not tell requests or clusters apart")
	}
	if !wire.ValidID(a) || len(a) != len("i-")+16 || !strings.HasPrefix(a, "i-") {
		t.Fatalf("InstanceID = %q", a)
	}
	if id := triggerRequestID("ventilate", nil); !wire.ValidID(id) || id == triggerRequestID("hum", nil) {
		t.Fatalf("trigger request id %q", id)
	}
}

func TestEligible_Order(t *testing.T) {
	all := []string{"node-1", "node-2", "node-3", "node-4"}
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, f *actionFixture)
		action  string
		exclude []string
		want    func(rid string) []string
	}{{
		name:   "hash tie-break when none was assigned",
		action: "blink",
		want:   func(rid string) []string { return hashOrder(rid, all...) },
	}, {
		name: "least recently assigned first",
		setup: func(t *testing.T, f *actionFixture) {
			f.state.LastAssigned["node-1"] = 7
			f.state.LastAssigned["node-2"] = 3
		},
		action: "blink",
		want: func(rid string) []string {
			return append(hashOrder(rid, "node-3", "node-4"), "node-2", "node-1")
		},
	}, {
		name: "output kind",
		setup: func(t *testing.T, f *actionFixture) {
			led := capability.Output{Name: "led", Kind: "led"}
			f.applyT(t, f.doc("node-2", "z", led), f.doc("node-3", "z", led))
		},
		action: "ventilate",
		want:   func(rid string) []string { return hashOrder(rid, "node-1", "node-4") },
	}, {
		name: "output name and zone",
		setup: func(t *testing.T, f *actionFixture) {
			valve := capability.Output{Name: "valve", Kind: "relay"}
			f.applyT(t, f.doc("node-1", "north", valve), f.doc("node-2", "south", valve), f.doc("node-3", "north", capability.Output{Name: "tap", Kind: "relay"}))
		},
		action: "water",
		want:   func(string) []string { return []string{"node-1"} },
	}, {
		name:   "ejected node left out",
		setup:  func(t *testing.T, f *actionFixture) { f.applyT(t, NewEjection(f.equivocation("node-3")).Encode()) },
		action: "blink",
		want:   func(rid string) []string { return hashOrder(rid, "node-1", "node-2", "node-4") },
	}, {
		name: "a document of a non-validator does not count",
		setup: func(t *testing.T, f *actionFixture) {
			d := &capability.Document{Cluster: "c", Node: "node-5", Seq: 1, Outputs: defaultOutputs()}
			d.Sign(f.keys["node-5"])
			f.state.Capabilities["node-5"] = d
		},
		action: "blink",
		want:   func(rid string) []string { return hashOrder(rid, all...) },
	}, {
		name: "a validator without a committed document is left out",
		setup: func(t *testing.T, f *actionFixture) {
			f.applyT(t, f.admit("node-5", "n", f.operator))
		},
		action: "blink",
		want:   func(rid string) []string { return hashOrder(rid, all...) },
	}, {
		name:    "exclusion list",
		action:  "blink",
		exclude: []string{"node-2", "node-4"},
		want:    func(rid string) []string { return hashOrder(rid, "node-1", "node-3") },
	}, {
		name:   "unknown action",
		action: "launch",
		want:   func(string) []string { return []string{} },
	}} {
		t.Run(tc.name, func(t *testing.T) {
			for _, rid := range []string{"r-1", "r-2", "r-3", "r-4"} {
				f := newActionFixture(t, 4)
				if tc.setup != nil {
					tc.setup(t, f)
				}
				got := f.state.Eligible(tc.action, rid, tc.exclude)
				if want := tc.want(rid); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("Eligible(%s, %s) = %v, want %v", tc.action, rid, got, want)
				}
			}
		})
	}
}

func TestAssignRequest_Applies(t *testing.T) {
	f := newActionFixture(t, 4)
	req := f.request(t, "r-1", "blink", map[string]string{"duration": "2s"})
	performer := f.state.Eligible("blink", "r-1", nil)[0]
	f.applyT(t, f.assign(t, req))

	rec, ok := f.state.Assignment(InstanceID("c", "r-1"))
	if !ok {
		t.Fatal("no record of the assignment")
	}
	want := Assigned{
		Action: "blink", Instance: InstanceID("c", "r-1"), RequestID: "r-1", Performer: performer,
		Height: f.state.Height, Tried: []string{}, Params: map[string]string{"duration": "2s"},
		Duration: 2 * time.Second, Level: config.High, Output: "led", At: req.TS,
	}
	if fmt.Sprintf("%+v", *rec) != fmt.Sprintf("%+v", want) {
		t.Fatalf("record\n %+v, want\n %+v", *rec, want)
	}
	if f.state.Requests["r-1"] != f.state.Height || f.state.LastAssigned[performer] != f.state.Height || f.state.LastRun["blink"] != req.TS {
		t.Fatalf("requests %v, last assigned %v, last run %v", f.state.Requests, f.state.LastAssigned, f.state.LastRun)
	}
	if next := f.state.Eligible("blink", "r-2", nil); next[len(next)-1] != performer {
		t.Fatalf("the performer just assigned is not last in line: %v", next)
	}
	if got := f.state.Assignments(); len(got) != 1 || got[0].Instance != want.Instance {
		t.Fatalf("Assignments() = %v", got)
	}
}

func TestAssign_Refused(t *testing.T) {
	// hand builds an assignment of req the way the builder would, then
	// lets the case spoil it.
	hand := func(f *actionFixture, req *wire.Request, spoil func(a *Assignment)) consensus.Entry {
		a := &Assignment{Action: req.Action, Instance: InstanceID("c", req.ID), RequestID: req.ID, Request: req}
		if e := f.state.Eligible(req.Action, req.ID, nil); len(e) > 0 {
			a.Performer = e[0]
		}
		if spoil != nil {
			spoil(a)
		}
		return (&Entry{Type: TypeAssign, Assign: a}).Encode()
	}
	blink := func(t *testing.T, f *actionFixture, id string, params map[string]string) *wire.Request {
		return f.request(t, id, "blink", params)
	}
	for _, tc := range []struct {
		name  string
		block func(t *testing.T, f *actionFixture) []consensus.Entry
		why   string // a word the error must contain
	}{{
		name: "another performer than agreed state picks",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, blink(t, f, "r-2", nil), func(a *Assignment) {
				a.Performer = f.state.Eligible("blink", "r-2", nil)[1]
			})}
		},
		why: "picks",
	}, {
		name: "a stranger as performer",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, blink(t, f, "r-2", nil), func(a *Assignment) { a.Performer = "node-9" })}
		},
		why: "picks",
	}, {
		name: "request id twice in one block",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			first := f.assign(t, blink(t, f, "r-2", nil))
			return []consensus.Entry{first, f.after(t, func() consensus.Entry { return f.assign(t, blink(t, f, "r-2", map[string]string{"duration": "1s"})) }, first)}
		},
		why: "twice in one block",
	}, {
		name: "request id replayed at a later height",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, blink(t, f, "r-1", nil), nil)}
		},
		why: "already assigned",
	}, {
		name: "forged request",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			req := blink(t, f, "r-2", map[string]string{"duration": "1s"})
			req.Params["duration"] = "5s"
			return []consensus.Entry{hand(f, req, nil)}
		},
		why: "signature",
	}, {
		name: "request by an unknown operator",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, f.requestBy(t, "r-2", "blink", nil, f.now, otherKey()), nil)}
		},
		why: "operator",
	}, {
		name: "unsigned request",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			req := blink(t, f, "r-2", nil)
			req.Key, req.Sig = "", ""
			return []consensus.Entry{hand(f, req, nil)}
		},
		why: "unsigned",
	}, {
		name: "unknown param",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, blink(t, f, "r-2", map[string]string{"speed": "1s"}), nil)}
		},
		why: "speed",
	}, {
		name: "param above max",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, blink(t, f, "r-2", map[string]string{"duration": "6s"}), nil)}
		},
		why: "outside",
	}, {
		name: "param below min",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, blink(t, f, "r-2", map[string]string{"duration": "50ms"}), nil)}
		},
		why: "outside",
	}, {
		name: "param not a duration",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, blink(t, f, "r-2", map[string]string{"duration": "long"}), nil)}
		},
		why: "not a duration",
	}, {
		name: "action not in the catalogue",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, f.request(t, "r-2", "launch", nil), func(a *Assignment) { a.Performer = "node-1" })}
		},
		why: "catalogue",
	}, {
		name: "request for another action",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, blink(t, f, "r-2", nil), func(a *Assignment) { a.Action = "ventilate" })}
		},
		why: "carried as",
	}, {
		name: "another request id than the request's",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, blink(t, f, "r-2", nil), func(a *Assignment) {
				a.RequestID, a.Instance = "r-3", InstanceID("c", "r-3")
			})}
		},
		why: "carried as",
	}, {
		name: "wrong instance",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, blink(t, f, "r-2", nil), func(a *Assignment) { a.Instance = "i-0000000000000000" })}
		},
		why: "instance",
	}, {
		name: "stale request",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, f.requestBy(t, "r-2", "blink", nil, f.now.Add(-11*time.Minute), f.operator), nil)}
		},
		why: "local clock",
	}, {
		name: "request from the future",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, f.requestBy(t, "r-2", "blink", nil, f.now.Add(11*time.Minute), f.operator), nil)}
		},
		why: "local clock",
	}, {
		name: "no eligible node",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, f.request(t, "r-2", "water", nil), func(a *Assignment) { a.Performer = "node-1" })}
		},
		why: "no eligible node",
	}, {
		name: "neither request nor readings",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, blink(t, f, "r-2", nil), func(a *Assignment) { a.Request = nil })}
		},
		why: "neither",
	}, {
		name: "both request and readings",
		block: func(t *testing.T, f *actionFixture) []consensus.Entry {
			return []consensus.Entry{hand(f, blink(t, f, "r-2", nil), func(a *Assignment) { a.Trigger = f.temperatures(31, 31, 31) })}
		},
		why: "both",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newActionFixture(t, 4)
			f.applyT(t, f.assign(t, blink(t, f, "r-1", nil)))
			block := tc.block(t, f)
			err := f.validate(block...)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("Validate = %v, want ErrInvalid about %q", err, tc.why)
			}
			if len(block) == 1 {
				if _, err := f.state.CheckEntry(block[0]); !errors.Is(err, ErrInvalid) {
					t.Fatalf("CheckEntry = %v, want ErrInvalid", err)
				}
			}
		})
	}
}

func TestAssign_UnsignedRequestNeedsAllowUnsigned(t *testing.T) {
	f := newActionFixture(t, 4)
	req := &wire.Request{Header: wire.Header{V: 1, Cluster: "c", TS: wire.Timestamp(f.now)}, ID: "r-1", Action: "blink", Params: map[string]string{}}
	if _, err := f.state.AssignRequest(req); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unsigned request without allow_unsigned: %v", err)
	}
	f.rules.AllowUnsigned = true
	f.state.SetRules(f.rules)
	f.applyT(t, f.assign(t, req))
	if _, ok := f.state.Assignment(InstanceID("c", "r-1")); !ok {
		t.Fatal("unsigned request not assigned")
	}
}

func TestAssign_NoCatalogue(t *testing.T) {
	f := newActionFixture(t, 4)
	entry := f.assign(t, f.request(t, "r-1", "blink", nil))
	bare, err := Restore(f.state.Snapshot(), "c", f.state.operators)
	if err != nil {
		t.Fatal(err)
	}
	if err := bare.Validate(bare.Height+1, []consensus.Entry{entry}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no action catalogue") {
		t.Fatalf("Validate without rules = %v", err)
	}
	if _, err := bare.AssignRequest(f.request(t, "r-2", "blink", nil)); err == nil {
		t.Fatal("AssignRequest without rules succeeded")
	}
	bare.Apply(bare.Height+1, []consensus.Entry{entry}, bare.ValidatorSet())
	if len(bare.Assigned) != 0 {
		t.Fatal("Apply without rules recorded an assignment")
	}
}

func TestAssign_DriveDuration(t *testing.T) {
	for _, tc := range []struct {
		name   string
		action string
		params map[string]string
		want   time.Duration
	}{
		{"drive default", "blink", nil, time.Second},
		{"duration param", "blink", map[string]string{"duration": "3s"}, 3 * time.Second},
		{"duration param at its bound", "blink", map[string]string{"duration": "5s"}, 5 * time.Second},
		{"the param's default", "water", nil, 3 * time.Second},
		{"the action's drive", "ventilate", nil, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newActionFixture(t, 4)
			f.applyT(t, f.doc("node-1", "north", capability.Output{Name: "valve", Kind: "relay"}))
			f.applyT(t, f.assign(t, f.request(t, "r-1", tc.action, tc.params)))
			rec, _ := f.state.Assignment(InstanceID("c", "r-1"))
			if rec.Duration != tc.want {
				t.Fatalf("duration %v, want %v", rec.Duration, tc.want)
			}
		})
	}
}

func TestAssign_Cooldown(t *testing.T) {
	f := newActionFixture(t, 4)
	valve := capability.Output{Name: "valve", Kind: "relay"}
	f.applyT(t, f.doc("node-1", "north", valve), f.doc("node-2", "north", valve))
	f.applyT(t, f.assign(t, f.request(t, "r-1", "water", nil)))

	for _, tc := range []struct {
		after time.Duration
		ok    bool
	}{{30 * time.Second, false}, {59 * time.Second, false}, {time.Minute, true}} {
		f.now = t0.Add(tc.after)
		_, err := f.state.AssignRequest(f.request(t, fmt.Sprintf("r-%v", tc.after), "water", nil))
		if (err == nil) != tc.ok {
			t.Fatalf("request %v after the last: %v, want ok=%v", tc.after, err, tc.ok)
		}
	}
	// Two requests in one block cannot see each other: one at a time.
	a := f.assign(t, f.request(t, "r-a", "water", nil))
	b := f.after(t, func() consensus.Entry { return f.assign(t, f.request(t, "r-b", "water", nil)) }, a)
	if err := f.validate(a, b); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "cooldown/water") {
		t.Fatalf("two cooled-down assignments in one block: %v", err)
	}
	f.applyT(t, a)
	if err := f.validate(b); !errors.Is(err, ErrInvalid) {
		t.Fatalf("second within the cooldown: %v", err)
	}
}

func TestApply_SkipsAssignmentToNodeEjectedInTheSameBlock(t *testing.T) {
	f := newActionFixture(t, 4)
	req := f.request(t, "r-1", "blink", nil)
	entry, err := f.state.AssignRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	f.applyT(t, NewEjection(f.equivocation(entry.Assign.Performer)).Encode(), entry.Encode())
	if len(f.state.Assigned) != 0 || len(f.state.Requests) != 0 {
		t.Fatal("an assignment to a node ejected before it in the block was applied")
	}
	// The request is not lost: it goes to another node now.
	f.applyT(t, f.assign(t, req))
	if rec, ok := f.state.Assignment(InstanceID("c", "r-1")); !ok || rec.Performer == entry.Assign.Performer {
		t.Fatalf("request not reassigned after the skip: %+v", rec)
	}
}

func TestDecode_ActionEntries(t *testing.T) {
	for name, raw := range map[string]string{
		"assign without payload":    `{"type":"assign"}`,
		"assign with rearm payload": `{"type":"assign","rearm":{"action":"a","readings":[]}}`,
		"two payloads":              `{"type":"rearm","rearm":{"action":"a","readings":[]},"reassign":{"action":"a"}}`,
		"unknown field in payload":  `{"type":"reassign","reassign":{"action":"a","why":"x"}}`,
	} {
		if _, err := Decode(consensus.Entry(raw)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Decode = %v, want ErrInvalid", name, err)
		}
	}
}
