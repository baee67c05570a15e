package audit_test

import (
	"fmt"
	"time"

	"github.com/seed44533760/pact/agent/audit"
	"github.com/seed44533760/pact/agent/wire"
)

// Five nodes of a greenhouse report their temperature every two seconds;
// node-5 reports 8 °C too much. After MinSamples buckets it is a suspect,
// and its accusation stands on its evidence alone.
func Example() {
	cfg := audit.DefaultConfig()
	a, err := audit.New(cfg)
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var now time.Time
	for k := range 15 {
		now = start.Add(time.Duration(k) * cfg.Bucket)
		for i := 1; i <= 5; i++ {
			value := 24 + 0.1*float64(i%3)
			if i == 5 {
				value += 8
			}
			r := &wire.Readings{
				Header:   wire.Header{V: wire.Version, Cluster: "farm", TS: wire.Timestamp(now)},
				Node:     fmt.Sprintf("node-%d", i),
				Readings: []wire.Reading{{Sensor: "bme280", Kind: "temperature", Value: value, Unit: "°C"}},
				Sig:      fmt.Sprintf("signature %d/%d", i, k), // wire.SignReadings in the agent
			}
			if err := a.Add(now, "greenhouse", r); err != nil {
				panic(err)
			}
		}
	}
	for _, acc := range a.Suspects(now) {
		fmt.Println(acc.Summary)
		zoneOf := func(string) string { return "greenhouse" }
		verify := func(*wire.Readings) error { return nil } // wire.VerifyReadings in the agent
		fmt.Println("check:", audit.Check(&acc, zoneOf, verify, cfg))
	}
	// Output:
	// node-5's temperature in greenhouse was 8.1 °C above the median of 4 peers in 15 of 15 samples over 60s
	// check: <nil>
}
