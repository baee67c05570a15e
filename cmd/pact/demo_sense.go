package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// The sense phase: each node's signed readings give its temperature; the
// narration follows each zone's median, as the ventilate trigger does, and
// says when it passes a trigger's thresholds.

func (n *demoNarrator) onReadings(node string, r *wire.Readings) {
	var vals []float64
	for _, x := range r.Readings {
		if x.Kind == string(config.SensorTemperature) && !math.IsNaN(x.Value) && !math.IsInf(x.Value, 0) {
			vals = append(vals, x.Value)
		}
	}
	if len(vals) == 0 {
		return
	}
	n.temps[node] = demoMedian(vals)
	zone := n.cast.Zones[node]
	var members, with []float64
	for _, other := range n.cast.Nodes {
		if n.cast.Zones[other] != zone {
			continue
		}
		members = append(members, 0)
		if v, ok := n.temps[other]; ok {
			with = append(with, v)
		}
	}
	if 2*len(with) < len(members) {
		return // wait for most of the zone before the first figure
	}
	m := demoMedian(with)
	z := n.zones[zone]
	if z == nil {
		z = &demoZone{}
		n.zones[zone] = z
	}
	crossing := ""
	if z.printed {
		crossing = n.crossing(zone, z.last, m)
		if math.Abs(m-z.last) < demoMedianStep && crossing == "" {
			return
		}
	}
	trend := ""
	switch {
	case !z.printed:
	case m > z.last:
		trend = ", temperature rising"
	case m < z.last:
		trend = ", temperature falling"
	}
	z.printed, z.last = true, m
	name := zone
	if name == "" {
		name = "cluster"
	}
	n.say(demoPhaseSense, "%s median %.1f °C over %s%s%s", name, m, demoCount(len(with), "node"), trend, crossing)
}

// crossing says which trigger thresholds of zone the median passed going
// from old to now, or "".
func (n *demoNarrator) crossing(zone string, old, now float64) string {
	var out []string
	for _, name := range demoActionNames(n.cast.Actions) {
		tr := n.cast.Actions[name].Trigger
		if tr == nil || tr.Above == nil || tr.SensorKind != config.SensorTemperature || (tr.Zone != "" && tr.Zone != zone) {
			continue
		}
		below := *tr.Above
		if tr.Below != nil {
			below = *tr.Below
		}
		if old <= *tr.Above && now > *tr.Above {
			if n.disarmed[name] {
				out = append(out, fmt.Sprintf("above %s's trigger (%g °C), which fired already and re-arms below %g °C", name, *tr.Above, below))
			} else {
				out = append(out, fmt.Sprintf("above %s's trigger (%g °C)", name, *tr.Above))
			}
		}
		if old >= below && now < below {
			out = append(out, fmt.Sprintf("below %s's re-arm level (%g °C)", name, below))
		}
	}
	if len(out) == 0 {
		return ""
	}
	return " — " + strings.Join(out, ", ")
}

func demoActionNames(m map[string]config.Action) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// demoCount writes n things: "1 node", "3 nodes".
func demoCount(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func demoMedian(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
