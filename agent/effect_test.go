package agent

import (
	"testing"

	"github.com/seed44533760/pact/agent/wire"
)

// A performer is accused only after effectRuns contradicted runs in a row,
// and only if others' runs since the first of them moved the sensors.
func TestContradicted(t *testing.T) {
	run := func(performer string, borne bool) EffectRun {
		return EffectRun{Outcome: &wire.Outcome{Performer: performer}, borne: borne}
	}
	tests := []struct {
		name   string
		h      []EffectRun
		mine   int
		others int
	}{
		{"three in a row, others borne out", []EffectRun{run("a", false), run("b", true), run("a", false), run("c", true), run("a", false)}, 3, 2},
		{"two only", []EffectRun{run("b", true), run("a", false), run("c", true), run("a", false)}, 0, 0},
		{"a borne run breaks the row", []EffectRun{run("a", false), run("a", true), run("b", true), run("a", false), run("c", true), run("a", false)}, 0, 0},
		{"others' runs before the row do not count", []EffectRun{run("b", true), run("c", true), run("a", false), run("a", false), run("a", false)}, 3, 0},
		{"others contradicted too: the zone, not the fan", []EffectRun{run("a", false), run("b", false), run("a", false), run("c", false), run("a", false)}, 3, 0},
		{"an older borne run is past the row", []EffectRun{run("a", true), run("a", false), run("b", true), run("a", false), run("b", true), run("a", false)}, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mine, others := contradicted(tt.h, "a")
			if len(mine) != tt.mine || others != tt.others {
				t.Errorf("contradicted = %d runs, %d others borne out; want %d, %d", len(mine), others, tt.mine, tt.others)
			}
			for _, r := range mine {
				if r.Outcome.Performer != "a" || r.borne {
					t.Errorf("run %+v among a's contradicted runs", r)
				}
			}
		})
	}
}
