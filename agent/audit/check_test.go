package audit

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

// signedRun runs a signed world with liars and returns the accusations
// against each liar, the world and the final auditor.
func signedRun(t *testing.T, seed uint64, liars map[string]lie) (*simWorld, runResult) {
	t.Helper()
	w := newWorld(seed, 6, lieFrom+2*time.Minute)
	w.sign()
	for name, l := range liars {
		w.node(name).lie, w.node(name).lieFrom = l, lieFrom
	}
	res := w.run(t, DefaultConfig())
	for name := range liars {
		if len(res.accs[name]) == 0 {
			t.Fatalf("seed %d: liar %s not accused", seed, name)
		}
	}
	return w, res
}

func zoneFunc(zones map[string]string) func(string) string {
	return func(node string) string { return zones[node] }
}

func TestCheck_AcceptsSuspects(t *testing.T) {
	cfg := DefaultConfig()
	checked := 0
	for _, tc := range liarCases() {
		for seed := range uint64(2) {
			w := newWorld(seed, 7, 2*time.Minute)
			w.sign()
			if tc.setup != nil {
				tc.setup(w)
			}
			for name, l := range tc.liars {
				w.node(name).lie, w.node(name).lieFrom = l, 20*time.Second
			}
			res := w.run(t, cfg)
			for _, name := range res.accused() {
				// The first and the last: each check verifies over a hundred
				// signatures.
				accs := res.accs[name]
				for i, acc := range []Accusation{accs[0], accs[len(accs)-1]} {
					if err := Check(&acc, zoneFunc(w.zones()), w.verifier(), cfg); err != nil {
						t.Fatalf("%s seed %d: Check refuses an accusation Suspects made (%s): %v", tc.name, seed, acc.Summary, err)
					}
					if i == 0 {
						checked++
						continue
					}
					// It is gossiped as JSON, and must survive the trip.
					b, err := json.Marshal(acc)
					if err != nil {
						t.Fatal(err)
					}
					var back Accusation
					if err := json.Unmarshal(b, &back); err != nil {
						t.Fatal(err)
					}
					if err := Check(&back, zoneFunc(w.zones()), w.verifier(), cfg); err != nil {
						t.Fatalf("%s seed %d: Check refuses the accusation after JSON: %v", tc.name, seed, err)
					}
					checked++
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no accusation checked")
	}
	t.Logf("%d accusations checked", checked)
}

// evidenceBuckets groups an accusation's evidence by bucket.
func evidenceBuckets(acc *Accusation, cfg Config) map[int64][]*wire.Readings {
	out := map[int64][]*wire.Readings{}
	for _, r := range acc.Evidence {
		ts, _ := wire.ParseTime(r.TS)
		b := bucketOf(ts, cfg.Bucket)
		out[b] = append(out[b], r)
	}
	return out
}

func TestCheck_Rejects(t *testing.T) {
	cfg := DefaultConfig()
	w, res := signedRun(t, 7, map[string]lie{"node-2": offsetLie(8)})
	zones := w.zones()
	accs := res.accs["node-2"]
	good := accs[len(accs)-1]
	if err := Check(&good, zoneFunc(zones), w.verifier(), cfg); err != nil {
		t.Fatalf("the genuine accusation: %v", err)
	}
	earliest := accs[0]
	errVerify := errors.New("bad signature, says the test")

	// A peer that appears in every bucket of the evidence.
	var peer string
	for _, r := range good.Evidence {
		if r.Node != good.Node {
			peer = r.Node
			break
		}
	}
	// An honest node of another zone, with a genuine signed payload.
	stranger := &wire.Readings{
		Header: wire.Header{TS: good.Evidence[0].TS},
		Node:   "node-9",
		Readings: []wire.Reading{
			{Sensor: "t", Kind: "temperature", Value: 40, Unit: "°C"},
		},
	}

	for _, tc := range []struct {
		name   string
		mutate func(acc *Accusation, zones map[string]string, verify *func(*wire.Readings) error)
		is     error // besides ErrUnsupported
	}{
		{"PeersRemoved", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			acc.Evidence = slices.DeleteFunc(acc.Evidence, func(r *wire.Readings) bool { return r.Node != acc.Node })
		}, nil},
		{"PeersRemovedFromOneBucket", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			bs := evidenceBuckets(acc, cfg)
			last := slices.Max(slices.Collect(maps.Keys(bs)))
			kept := 0
			acc.Evidence = slices.DeleteFunc(acc.Evidence, func(r *wire.Readings) bool {
				ts, _ := wire.ParseTime(r.TS)
				if bucketOf(ts, cfg.Bucket) != last || r.Node == acc.Node {
					return false
				}
				kept++
				return kept > cfg.MinPeers-1
			})
		}, nil},
		{"HonestNodeAccusedInstead", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			acc.Node = peer
		}, nil},
		{"AccusedPayloadRenamed", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			// Another node's name on the accused's payload: the bucket no
			// longer holds the accused, and the signature would not verify.
			for i, r := range acc.Evidence {
				if r.Node == acc.Node {
					c := *r
					c.Node = peer
					acc.Evidence[i] = &c
					return
				}
			}
		}, nil},
		{"AccusedPayloadSubstituted", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			// A genuine payload of a peer, from another bucket, in place of
			// one of the accused's.
			var other *wire.Readings
			for _, r := range earliest.Evidence {
				if r.Node == peer {
					other = r
				}
			}
			for i, r := range acc.Evidence {
				if r.Node == acc.Node {
					acc.Evidence[i] = other
					return
				}
			}
		}, nil},
		{"StrangerFromAnotherZone", func(acc *Accusation, zones map[string]string, verify *func(*wire.Readings) error) {
			zones["node-9"] = "shed"
			acc.Evidence = append(acc.Evidence, stranger)
		}, nil},
		{"DuplicatedPeerPayload", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			for _, r := range acc.Evidence {
				if r.Node == peer {
					acc.Evidence = append(acc.Evidence, r)
					return
				}
			}
		}, nil},
		{"DuplicatedAccusedPayload", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			acc.Evidence = append(acc.Evidence, acc.Evidence[len(acc.Evidence)-1])
			for _, r := range acc.Evidence {
				if r.Node == acc.Node {
					acc.Evidence = append(acc.Evidence, r)
					return
				}
			}
		}, nil},
		{"EvidenceTwice", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			acc.Evidence = append(acc.Evidence, acc.Evidence...)
		}, nil},
		{"AccusedInAnotherZone", func(acc *Accusation, zones map[string]string, _ *func(*wire.Readings) error) {
			zones[acc.Node] = "shed"
		}, nil},
		{"AccusationNamesAnotherZone", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			acc.Zone = "shed"
		}, nil},
		{"VerifyFails", func(_ *Accusation, _ map[string]string, verify *func(*wire.Readings) error) {
			*verify = func(*wire.Readings) error { return errVerify }
		}, errVerify},
		{"ValueChanged", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			// The accuser makes a borderline sample worse: the signature
			// breaks.
			for i, r := range acc.Evidence {
				if r.Node == acc.Node {
					c := *r
					c.Readings = slices.Clone(r.Readings)
					c.Readings[0].Value += 0.5
					acc.Evidence[i] = &c
					return
				}
			}
		}, wire.ErrBadSignature},
		{"TooFewOutliersShown", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			bs := evidenceBuckets(acc, cfg)
			last := slices.Max(slices.Collect(maps.Keys(bs)))
			acc.Evidence = bs[last]
		}, nil},
		{"ClaimsBelowShare", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			acc.Judged = 2 * acc.Outliers
		}, nil},
		{"ClaimsBelowMinSamples", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			bs := evidenceBuckets(acc, cfg)
			keep := slices.Sorted(maps.Keys(bs))[:cfg.MinSamples-1]
			acc.Evidence = nil
			for _, b := range keep {
				acc.Evidence = append(acc.Evidence, bs[b]...)
			}
			acc.Outliers, acc.Judged = len(keep), len(keep)
		}, nil},
		{"SpansMoreThanTheWindow", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			old := evidenceBuckets(&earliest, cfg)
			recent := evidenceBuckets(acc, cfg)
			oldB, recentB := slices.Sorted(maps.Keys(old)), slices.Sorted(maps.Keys(recent))
			if recentB[len(recentB)-1]-oldB[0] < cfg.windowBuckets() {
				panic("the run is too short for this case")
			}
			acc.Evidence = nil
			for _, b := range oldB[:10] {
				acc.Evidence = append(acc.Evidence, old[b]...)
			}
			for _, b := range recentB[len(recentB)-10:] {
				acc.Evidence = append(acc.Evidence, recent[b]...)
			}
		}, nil},
		{"MoreBucketsThanMaxEvidence", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			// The accusation of a tick before holds one older outlier
			// bucket: together they show 21.
			before := evidenceBuckets(&accs[len(accs)-2], cfg)
			mine := evidenceBuckets(acc, cfg)
			for b, rs := range before {
				if _, ok := mine[b]; !ok {
					acc.Evidence = append(rs, acc.Evidence...)
				}
			}
			if len(evidenceBuckets(acc, cfg)) != cfg.MaxEvidence+1 {
				panic("the case did not build 21 buckets")
			}
		}, nil},
		{"NotASensorKind", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			acc.Kind = "soc_temperature"
		}, nil},
		{"WrongReason", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			acc.Reason = "equivocation"
		}, nil},
		{"NullEvidence", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			acc.Evidence = append(acc.Evidence, nil)
		}, nil},
		{"NoEvidence", func(acc *Accusation, _ map[string]string, _ *func(*wire.Readings) error) {
			acc.Evidence = nil
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acc := good
			acc.Evidence = slices.Clone(good.Evidence)
			z := maps.Clone(zones)
			verify := w.verifier()
			tc.mutate(&acc, z, &verify)
			err := Check(&acc, zoneFunc(z), verify, cfg)
			if err == nil {
				t.Fatal("Check accepted it")
			}
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("error %v does not match ErrUnsupported", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not match %v", err, tc.is)
			}
			t.Log(err)
		})
	}
}

// An accuser cannot turn an honest node's signed readings into an
// accusation, whichever of its buckets it picks.
func TestCheck_RejectsHonestNode(t *testing.T) {
	cfg := DefaultConfig()
	for seed := range uint64(10) {
		w := newWorld(seed, 6, 3*time.Minute)
		w.sign()
		w.node("node-6").lie, w.node("node-6").lieFrom = offsetLie(8), 0
		a, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		end := simStart.Add(w.duration)
		for _, d := range w.deliveries() {
			if err := a.Add(end, d.zone, d.r); err != nil && !errors.Is(err, ErrStale) {
				t.Fatal(err)
			}
		}
		a.Suspects(end)
		members := a.zones["greenhouse"].members
		first := a.firstBucket(end)
		for _, node := range []string{"node-1", "node-3"} {
			acc := Accusation{Node: node, Reason: ReasonSensor, Zone: "greenhouse", Kind: "temperature", Outliers: 20, Judged: 20}
			for b := first + 5; b < first+25; b++ {
				acc.Evidence = a.appendEvidence(acc.Evidence, "temperature", b, members)
			}
			err := Check(&acc, zoneFunc(w.zones()), w.verifier(), cfg)
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("seed %d: an accusation of honest %s: %v", seed, node, err)
			}
		}
	}
}

func TestCheck_BadArguments(t *testing.T) {
	cfg := DefaultConfig()
	ok := func(*wire.Readings) error { return nil }
	zone := func(string) string { return "z" }
	if err := Check(nil, zone, ok, cfg); !errors.Is(err, ErrUnsupported) {
		t.Errorf("nil accusation: %v", err)
	}
	if err := Check(&Accusation{}, nil, ok, cfg); !errors.Is(err, ErrUnsupported) {
		t.Errorf("nil zoneOf: %v", err)
	}
	if err := Check(&Accusation{}, zone, nil, cfg); !errors.Is(err, ErrUnsupported) {
		t.Errorf("nil verify: %v", err)
	}
	bad := cfg
	bad.K = 0
	if err := Check(&Accusation{}, zone, ok, bad); !errors.Is(err, ErrConfig) {
		t.Errorf("bad config: %v", err)
	}
}
