package hw_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seed44533760/pact/hw"
	"github.com/seed44533760/pact/hw/hwtest"
	"github.com/seed44533760/pact/hw/sim"
)

// A fan relay that may run at most 30 s at a time and must rest 10 s in
// between, whatever it is told. The fake clock stands in for the system
// clock.
func ExampleLimit() {
	clock := hwtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	relay := hwtest.NewOutput("fan", "relay")
	fan := hw.Limit(relay, hw.Limits{MaxOn: 30 * time.Second, MinOff: 10 * time.Second}, clock)

	fmt.Println("on:", fan.Set(true))
	clock.Advance(30 * time.Second)
	on, _ := fan.Read()
	fmt.Println("still on after 30 s:", on)

	err := fan.Set(true)
	fmt.Println("on again at once is a limit:", errors.Is(err, hw.ErrLimit))
	clock.Advance(10 * time.Second)
	fmt.Println("on after resting:", fan.Set(true))

	_ = fan.Halt()
	fmt.Println("halted refuses:", errors.Is(fan.Set(true), hw.ErrHalted))
	// Output:
	// on: <nil>
	// still on after 30 s: false
	// on again at once is a limit: true
	// on after resting: <nil>
	// halted refuses: true
}

// What the agent does with any hw.Board, here two simulated ones in one
// world: node-2 blinks its LED, node-1 witnesses it on an input wired to
// it, and both read the zone's temperature.
func Example() {
	clock := hwtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	world := sim.NewWorld(1, sim.WorldOptions{Clock: clock})

	node := func(name, watches string) hw.Board {
		spec := hw.Spec{
			Node:    name,
			Zone:    "greenhouse",
			Outputs: []hw.OutputSpec{{Name: "led", Kind: "led", Pin: "GPIO17", Safe: hw.SafeOff, Limits: hw.Limits{MaxOn: 5 * time.Second}}},
			Inputs:  []hw.InputSpec{{Name: "witness", Kind: "witness", Pin: "GPIO22", Pull: "down", Watches: watches}},
			Sensors: []hw.SensorSpec{{Name: "temp", Kind: hw.Temperature, Driver: "bme280", Bus: "1", Address: "0x76"}},
		}
		b, err := sim.Open(spec, sim.Options{World: world})
		if err != nil {
			panic(err)
		}
		return b
	}
	n1, n2 := node("node-1", "node-2/led"), node("node-2", "node-1/led")
	defer n1.Close()
	defer n2.Close()

	led, _ := n2.Output("led")
	witness, _ := n1.Input("witness")
	_ = led.Set(true)
	on, _ := led.Read()
	edge, _ := witness.WaitForEdge(context.Background())
	fmt.Println("node-2 led on:", on, "- node-1 saw", edge)

	clock.Advance(5 * time.Second) // the LED's MaxOn
	edge, _ = witness.WaitForEdge(context.Background())
	fmt.Println("after max_on node-1 saw", edge)

	for _, b := range []hw.Board{n1, n2} {
		for _, s := range b.Sensors() {
			r, _ := s.Sense(context.Background())
			fmt.Printf("%s: %.0f %s\n", r.Sensor, r.Value, r.Unit)
		}
	}
	fmt.Println(n1.Report().Driver, n1.Report().Loaded[0])
	// Output:
	// node-2 led on: true - node-1 saw rising
	// after max_on node-1 saw falling
	// temp: 25 °C
	// temp: 25 °C
	// sim led (led output on GPIO17)
}
