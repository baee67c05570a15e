package audit

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/seed44533760/pact/agent/wire"
)

// BenchmarkAuditor_AddSuspects is one bucket of a 25-node zone with a full
// 60 s window: 25 payloads (temperature, humidity, pressure, SoC) added and
// one Suspects call, as the agent's loop does every two seconds.
func BenchmarkAuditor_AddSuspects(b *testing.B) {
	for _, nodes := range []int{7, 25} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			cfg := DefaultConfig()
			a := newAuditor(b, cfg)
			names := make([]string, nodes)
			for i := range names {
				names[i] = fmt.Sprintf("node-%d", i+1)
			}
			k := 0
			step := func() {
				at := simStart.Add(time.Duration(k) * cfg.Bucket)
				for i, name := range names {
					ts := at.Add(time.Duration(i) * 50 * time.Millisecond)
					v := 25 + 0.01*float64((k*7+i*13)%41-20)
					if i == 3 {
						v += 8 // one liar, so accusations are built too
					}
					r := &wire.Readings{
						Header: wire.Header{V: 1, Cluster: simCluster, TS: wire.Timestamp(ts)},
						Node:   name,
						Readings: []wire.Reading{
							{Sensor: "t", Kind: "temperature", Value: v, Unit: "°C"},
							{Sensor: "h", Kind: "humidity", Value: 55 + math.Mod(v, 1), Unit: "%"},
							{Sensor: "p", Kind: "pressure", Value: 1013 + math.Mod(v, 0.5), Unit: "hPa"},
							{Sensor: "soc", Kind: "soc_temperature", Value: 50, Unit: "°C"},
						},
						Sig: fmt.Sprintf("%s/%d", name, k),
					}
					if err := a.Add(ts, "greenhouse", r); err != nil {
						b.Fatal(err)
					}
				}
				a.Suspects(at.Add(cfg.Bucket - time.Millisecond))
				k++
			}
			for range int(cfg.windowBuckets()) {
				step()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			b.ReportMetric(float64(a.Held()), "payloads-held")
		})
	}
}

// BenchmarkCheck re-checks a 7-node accusation of 20 buckets (140
// payloads), without the signatures (the caller's verify).
func BenchmarkCheck(b *testing.B) {
	cfg := DefaultConfig()
	w := newWorld(1, 7, lieFrom+90*time.Second)
	w.node("node-2").lie, w.node("node-2").lieFrom = offsetLie(8), lieFrom
	res := w.run(b, cfg)
	accs := res.accs["node-2"]
	if len(accs) == 0 {
		b.Fatal("no accusation")
	}
	acc := accs[len(accs)-1]
	zones := zoneFunc(w.zones())
	ok := func(*wire.Readings) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(&acc, zones, ok, cfg); err != nil {
			b.Fatal(err)
		}
	}
}
