package sim

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfig_DefaultIsValid(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestConfig_ValidateNamesTheFlag: every problem is reported, each naming
// the `pact sim` flag to fix.
func TestConfig_ValidateNamesTheFlag(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		flag   string
		says   string
	}{
		{"no nodes", func(c *Config) { c.Nodes = 0 }, "--nodes", "between 1"},
		{"no honest node", func(c *Config) { c.Byzantine = 4 }, "--byzantine", "no honest node"},
		{"negative byzantine", func(c *Config) { c.Byzantine = -1 }, "--byzantine", "negative"},
		{"no heights", func(c *Config) { c.Heights = 0 }, "--heights", "at least 1"},
		{"unknown strategy", func(c *Config) { c.Strategy = "rogue"; c.Byzantine = 1 }, "--strategy", "equivocate, lie-sensor, false-outcome, rogue-act, forge"},
		{"none with adversaries", func(c *Config) { c.Strategy = "none"; c.Byzantine = 1 }, "--strategy", "--byzantine 0"},
		{"drop above 1", func(c *Config) { c.Drop = 1.5 }, "--drop", "probability"},
		{"negative dup", func(c *Config) { c.Duplicate = -0.1 }, "--dup", "probability"},
		{"delays reversed", func(c *Config) { c.MaxDelay = 0 }, "--max-delay", "below --min-delay"},
		{"no tick", func(c *Config) { c.Tick = 0 }, "--tick", "positive"},
		{"bad partition", func(c *Config) { c.Partition = "1-3|9@1s" }, "--partition", "no node"},
		{"bad crash", func(c *Config) { c.Crash = "node-2" }, "--crash", "NODE@FROM"},
		{"faults never end", func(c *Config) { c.FaultsUntil = time.Hour; c.MaxVirtualTime = time.Minute }, "--faults-until", "never end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.change(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("error %v is not ErrConfig", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Flag != tt.flag || !strings.Contains(fe.Problem, tt.says) {
				t.Errorf("error %q: want flag %s saying %q", err, tt.flag, tt.says)
			}
		})
	}
}

func TestConfig_ValidateReportsEverything(t *testing.T) {
	cfg := Config{Nodes: 0, Heights: 0, Tick: 0, EntryEvery: 0, Drop: 2}
	err := cfg.Validate()
	for _, flag := range []string{"--nodes", "--heights", "--tick", "--entry-every", "--drop"} {
		if err == nil || !strings.Contains(err.Error(), flag+":") {
			t.Errorf("error %v does not mention %s", err, flag)
		}
	}
}

func TestConfig_StrategyDefault(t *testing.T) {
	cfg := DefaultConfig()
	if got := cfg.strategyName(); got != "none" {
		t.Errorf("no adversaries: strategy %q, want none", got)
	}
	cfg.Byzantine = 1
	if got := cfg.strategyName(); got != "random" {
		t.Errorf("with adversaries: strategy %q, want random", got)
	}
}

func TestParsePartitions(t *testing.T) {
	ps, err := ParsePartitions("1-3|4-7@2s-6s; 1@500ms ;node-2,node-4-node-5|6", 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 {
		t.Fatalf("%d partitions, want 3", len(ps))
	}
	if p := ps[0]; p.From != 2*time.Second || p.Until != 6*time.Second || p.String() != "1-3 | 4-7" {
		t.Errorf("first: %s from %s until %s", &p, p.From, p.Until)
	}
	if p := ps[1]; p.String() != "1 | 2-7" || p.Until != 0 || !p.separates(1, 5) || p.separates(2, 5) {
		t.Errorf("second: %s until %s", &p, p.Until)
	}
	if p := ps[2]; p.String() != "2,4-5 | 6 | 1,3,7" || p.From != 0 {
		t.Errorf("third: %s", &p)
	}
	if !ps[0].active(2*time.Second) || ps[0].active(6*time.Second) || ps[0].active(time.Second) {
		t.Error("window bounds wrong")
	}
	for _, bad := range []string{"1-3|3-7", "1-7", "0|1", "1|8", "1|2@6s-2s", "1|2@soon", "3-1|4", "1,,2|3"} {
		if _, err := ParsePartitions(bad, 7); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseCrashes(t *testing.T) {
	cs, err := ParseCrashes("node-2@3s-5s;4@8s;2@6s-7s", 7)
	if err != nil {
		t.Fatal(err)
	}
	want := []Crash{{2, 3 * time.Second, 5 * time.Second}, {2, 6 * time.Second, 7 * time.Second}, {4, 8 * time.Second, 0}}
	if len(cs) != len(want) {
		t.Fatalf("got %v, want %v", cs, want)
	}
	for i := range want {
		if cs[i] != want[i] {
			t.Errorf("crash %d = %+v, want %+v", i, cs[i], want[i])
		}
	}
	for _, bad := range []string{"2", "9@1s", "2@1s-3s;2@2s-4s", "2@1s;2@5s-6s", "2@-1s"} {
		if _, err := ParseCrashes(bad, 7); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestConsensusConfig_TimeoutsCoverTheNetwork: no timeout may be shorter
// than the trip it waits for (go-ibft#92).
func TestConsensusConfig_TimeoutsCoverTheNetwork(t *testing.T) {
	for _, maxDelay := range []time.Duration{time.Millisecond, 20 * time.Millisecond, 250 * time.Millisecond} {
		cfg := DefaultConfig()
		cfg.MaxDelay = maxDelay
		cc := cfg.ConsensusConfig()
		tick := cfg.Tick
		if got := time.Duration(cc.TimeoutPropose) * tick; got < 2*maxDelay {
			t.Errorf("max delay %s: propose timeout %s shorter than two trips", maxDelay, got)
		}
		if got := time.Duration(cc.TimeoutPrevote) * tick; got < maxDelay {
			t.Errorf("max delay %s: prevote timeout %s shorter than a trip", maxDelay, got)
		}
		if got := time.Duration(cc.TimeoutPrecommit) * tick; got < maxDelay {
			t.Errorf("max delay %s: precommit timeout %s shorter than a trip", maxDelay, got)
		}
	}
}
