package config

import (
	"testing"
	"time"

	"github.com/seed44533760/pact/consensus"
)

func TestClusterValidate_Valid(t *testing.T) {
	c := validCluster(t)
	if err := c.Validate(); err != nil {
		t.Fatalf("valid cluster: %v", err)
	}
	if ws := Warnings(nil, c); len(ws) != 0 {
		t.Errorf("valid cluster has warnings: %v", ws)
	}
}

func TestClusterValidate_Rules(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name     string
		mutate   func(c *Cluster)
		path     string
		mentions []string
	}{
		{"name missing", func(c *Cluster) { c.Name = "" }, "cluster", []string{"required"}},
		{"name upper case", func(c *Cluster) { c.Name = "Greenhouse" }, "cluster", []string{"not a valid name"}},
		{"name leading hyphen", func(c *Cluster) { c.Name = "-gh" }, "cluster", []string{"not a valid name"}},
		{"name too long", func(c *Cluster) { c.Name = string(make([]byte, 64)) }, "cluster", []string{"limit is 63"}},
		{"gossip key missing", func(c *Cluster) { c.GossipKey = "" }, "gossip_key", []string{"required", "urandom"}},
		{"gossip key not base64", func(c *Cluster) { c.GossipKey = "%%%" }, "gossip_key", []string{"base64"}},
		{"gossip key 16 bytes", func(c *Cluster) { c.GossipKey = "AAAAAAAAAAAAAAAAAAAAAA==" }, "gossip_key", []string{"16 bytes", "32"}},
		{"extra gossip key short", func(c *Cluster) { c.GossipKeys = []string{"AAAA"} }, "gossip_keys[0]", []string{"3 bytes"}},
		{"extra gossip key repeats primary", func(c *Cluster) { c.GossipKeys = []string{c.GossipKey} }, "gossip_keys[0]", []string{"twice"}},
		{"no validators", func(c *Cluster) { c.Validators = nil }, "validators", []string{"at least one"}},
		{"validator bad name", func(c *Cluster) { c.Validators["Node_5"] = testKey(t) }, `validators.Node_5`, []string{"node name"}},
		{"validator name with dot", func(c *Cluster) { c.Validators["pi.local"] = testKey(t) }, `validators["pi.local"]`, []string{"node name"}},
		{"validator key not base64", func(c *Cluster) { c.Validators["node-3"] = "not a key" }, "validators.node-3", []string{"base64"}},
		{"validator key wrong size", func(c *Cluster) { c.Validators["node-3"] = "AAAA" }, "validators.node-3", []string{"3 bytes"}},
		{"validators share a key", func(c *Cluster) { c.Validators["node-4"] = c.Validators["node-1"] }, "validators.node-4", []string{"same public key", "validators.node-1"}},
		{"no operators", func(c *Cluster) { c.Operators = nil }, "operators", []string{"allow_unsigned_requests"}},
		{"operator bad key", func(c *Cluster) { c.Operators["bob"] = "xyz" }, "operators.bob", []string{"base64"}},
		{"tick zero", func(c *Cluster) { c.Timings.Tick = 0 }, "timings.tick", []string{"positive"}},
		{"tick too long", func(c *Cluster) { c.Timings.Tick = time.Minute }, "timings.tick", []string{"outside"}},
		{"propose below a tick", func(c *Cluster) { c.Timings.Propose = 50 * time.Millisecond }, "timings.propose", []string{"shorter than one tick"}},
		{"prevote not a multiple", func(c *Cluster) { c.Timings.Prevote = 450 * time.Millisecond }, "timings.prevote", []string{"whole number", "400ms", "500ms"}},
		{"precommit negative", func(c *Cluster) { c.Timings.Precommit = -time.Second }, "timings.precommit", []string{"shorter"}},
		{"round increase zero", func(c *Cluster) { c.Timings.RoundIncrease = 0 }, "timings.round_increase", []string{"shorter"}},
		{"rebroadcast odd", func(c *Cluster) { c.Timings.Rebroadcast = 1050 * time.Millisecond }, "timings.rebroadcast", []string{"whole number"}},
		{"status zero", func(c *Cluster) { c.Timings.Status = 0 }, "timings.status", nil},
		{"gossip profile unknown", func(c *Cluster) { c.Gossip.Profile = "wan" }, "gossip.profile", []string{`"wan"`, "lan, pi"}},
		{"probe interval negative", func(c *Cluster) { c.Gossip.ProbeInterval = -time.Second }, "gossip.probe_interval", []string{"negative"}},
		{"probe timeout too long", func(c *Cluster) { c.Gossip.ProbeInterval, c.Gossip.ProbeTimeout = time.Second, 2*time.Second }, "gossip.probe_timeout", []string{"shorter than probe_interval"}},
		{"suspicion negative", func(c *Cluster) { c.Gossip.SuspicionMult = -1 }, "gossip.suspicion_mult", []string{"negative"}},
		{"action bad name", func(c *Cluster) { c.Actions["Blink!"] = c.Actions["blink"] }, `actions["Blink!"]`, []string{"action name"}},
		{"action needs nothing", func(c *Cluster) { mutAction(c, "blink", func(a *Action) { a.Needs = Needs{} }) }, "actions.blink.needs", []string{"output"}},
		{"action output kind unknown", func(c *Cluster) { mutAction(c, "blink", func(a *Action) { a.Needs.OutputKind = "lamp" }) }, "actions.blink.needs.output_kind", []string{`"lamp"`}},
		{"action output bad name", func(c *Cluster) { mutAction(c, "blink", func(a *Action) { a.Needs.Output = "LED" }) }, "actions.blink.needs.output", nil},
		{"action zone bad", func(c *Cluster) { mutAction(c, "blink", func(a *Action) { a.Needs.Zone = "Green House" }) }, "actions.blink.needs.zone", nil},
		{"drive level unknown", func(c *Cluster) { mutAction(c, "blink", func(a *Action) { a.Drive.Level = "on" }) }, "actions.blink.drive.level", []string{"high, low"}},
		{"drive duration negative", func(c *Cluster) { mutAction(c, "blink", func(a *Action) { a.Drive.Duration = -time.Second }) }, "actions.blink.drive.duration", []string{"negative"}},
		{"deadline negative", func(c *Cluster) { mutAction(c, "blink", func(a *Action) { a.Deadline = -time.Second }) }, "actions.blink.deadline", []string{"negative"}},
		{"deadline before drive ends", func(c *Cluster) { mutAction(c, "blink", func(a *Action) { a.Deadline = time.Second }) }, "actions.blink.deadline", []string{"longer than drive.duration"}},
		{"cooldown negative", func(c *Cluster) { mutAction(c, "blink", func(a *Action) { a.Cooldown = -time.Second }) }, "actions.blink.cooldown", []string{"negative"}},
		{"param bad name", func(c *Cluster) {
			mutAction(c, "blink", func(a *Action) { a.Params = map[string]Param{"Duration": {}} })
		}, "actions.blink.params.Duration", []string{"parameter name"}},
		{"param min above max", func(c *Cluster) {
			mutAction(c, "blink", func(a *Action) { a.Params = map[string]Param{"duration": {Min: 2 * time.Second, Max: time.Second}} })
		}, "actions.blink.params.duration.min", []string{"above max"}},
		{"param default outside", func(c *Cluster) {
			mutAction(c, "blink", func(a *Action) { a.Params = map[string]Param{"duration": {Max: time.Second, Default: 2 * time.Second}} })
		}, "actions.blink.params.duration.default", []string{"outside"}},
		{"param negative", func(c *Cluster) {
			mutAction(c, "blink", func(a *Action) { a.Params = map[string]Param{"duration": {Min: -time.Second}} })
		}, "actions.blink.params.duration.min", []string{"negative"}},
		{"verify unknown", func(c *Cluster) {
			mutAction(c, "blink", func(a *Action) { a.Verify = []VerifyKind{"readback", "smell"} })
		}, "actions.blink.verify[1]", []string{`"smell"`}},
		{"verify twice", func(c *Cluster) {
			mutAction(c, "blink", func(a *Action) { a.Verify = []VerifyKind{"witness", "witness"} })
		}, "actions.blink.verify[1]", []string{"twice"}},
		{"trigger no kind", func(c *Cluster) { mutAction(c, "ventilate", func(a *Action) { a.Trigger.SensorKind = "" }) }, "actions.ventilate.trigger.sensor_kind", []string{"required"}},
		{"trigger kind unknown", func(c *Cluster) { mutAction(c, "ventilate", func(a *Action) { a.Trigger.SensorKind = "wind" }) }, "actions.ventilate.trigger.sensor_kind", []string{`"wind"`}},
		{"trigger no above", func(c *Cluster) { mutAction(c, "ventilate", func(a *Action) { a.Trigger.Above = nil }) }, "actions.ventilate.trigger.above", []string{"required"}},
		{"trigger below not below", func(c *Cluster) { mutAction(c, "ventilate", func(a *Action) { a.Trigger.Below = f(28) }) }, "actions.ventilate.trigger.below", []string{"less than above"}},
		{"trigger zone bad", func(c *Cluster) { mutAction(c, "ventilate", func(a *Action) { a.Trigger.Zone = "_x" }) }, "actions.ventilate.trigger.zone", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCluster(t)
			tt.mutate(c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate accepted it")
			}
			wantProblem(t, err, tt.path, tt.mentions...)
		})
	}
}

// mutAction changes one catalogue entry (map values are copies).
func mutAction(c *Cluster, name string, f func(*Action)) {
	a := c.Actions[name]
	if a.Trigger != nil {
		tr := *a.Trigger
		a.Trigger = &tr
	}
	f(&a)
	c.Actions[name] = a
}

func TestClusterValidate_AllowUnsignedNeedsNoOperators(t *testing.T) {
	c := validCluster(t)
	c.Operators = nil
	c.AllowUnsignedRequests = true
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	ws := Warnings(nil, c)
	if len(ws) != 1 || ws[0].Path != "allow_unsigned_requests" || !ws[0].Warning {
		t.Errorf("warnings = %v, want one about allow_unsigned_requests", ws)
	}
}

func TestClusterValidate_ZeroActionFieldsMeanDefaults(t *testing.T) {
	c := validCluster(t)
	c.Actions = map[string]Action{"beep": {Needs: Needs{OutputKind: OutputBuzzer}}}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	c.ApplyDefaults()
	a := c.Actions["beep"]
	if a.Deadline != DefaultDeadline || a.Drive.Duration != DefaultDriveDuration || a.Drive.Level != High {
		t.Errorf("after ApplyDefaults: %+v", a)
	}
}

func TestTimings_ConsensusTimingsMatchConsensusDefaults(t *testing.T) {
	tc := DefaultTimings().ConsensusTimings()
	got := consensus.DefaultConfig()
	want := got
	tc.Apply(&got)
	if got != want {
		t.Errorf("default timings give %+v, consensus.DefaultConfig has %+v", got, want)
	}
	if tc.Tick != 100*time.Millisecond {
		t.Errorf("tick = %v", tc.Tick)
	}

	custom := Timings{Tick: 50 * time.Millisecond, Propose: 2 * time.Second, Prevote: time.Second, Precommit: 250 * time.Millisecond,
		RoundIncrease: 100 * time.Millisecond, Rebroadcast: 500 * time.Millisecond, Status: 10 * time.Second}
	want2 := TickCounts{Tick: 50 * time.Millisecond, Propose: 40, Prevote: 20, Precommit: 5, Delta: 2, Rebroadcast: 10, Status: 200}
	if got := custom.ConsensusTimings(); got != want2 {
		t.Errorf("ConsensusTimings = %+v, want %+v", got, want2)
	}
}

func TestCluster_KeyAccessors(t *testing.T) {
	c := validCluster(t)
	c.GossipKeys = []string{testGossipKey(t)}
	vs, err := c.ValidatorSet()
	if err != nil {
		t.Fatal(err)
	}
	if vs.Len() != 4 || !vs.Has("node-3") {
		t.Errorf("validator set = %v", vs.IDs())
	}
	if pub, ok := c.ValidatorKey("node-2"); !ok || len(pub) != 32 {
		t.Errorf("ValidatorKey(node-2) = %v, %v", pub, ok)
	}
	if _, ok := c.ValidatorKey("node-9"); ok {
		t.Errorf("ValidatorKey(node-9) found a key")
	}
	if ring := c.GossipKeyring(); len(ring) != 2 || len(ring[0]) != 32 {
		t.Errorf("GossipKeyring = %d keys", len(ring))
	}
	if ops := c.OperatorKeys(); len(ops) != 1 || ops["alice"] == nil {
		t.Errorf("OperatorKeys = %v", ops)
	}
}

func TestClusterWarnings(t *testing.T) {
	c := validCluster(t)
	delete(c.Validators, "node-4")
	c.GossipKey = "UkVQTEFDRS1NRS13aXRoLTMyLXJhbmRvbS1ieXRlcyE=" // "REPLACE-ME-with-32-random-bytes!"
	c.Operators["alice"] = "YWxpY2U6IHJlcGxhY2Ugd2l0aCBoZXIgb3duIGtleS4="
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	var paths []string
	for _, w := range Warnings(nil, c) {
		paths = append(paths, w.Path)
	}
	want := []string{"gossip_key", "operators.alice", "validators"}
	if len(paths) != len(want) {
		t.Fatalf("warnings at %v, want %v", paths, want)
	}
	for i := range want {
		if paths[i] != want[i] {
			t.Errorf("warnings at %v, want %v", paths, want)
		}
	}
}
