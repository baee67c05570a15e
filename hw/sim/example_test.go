package sim_test

import (
	"context"
	"fmt"
	"time"

	"github.com/seed44533760/pact/hw"
	"github.com/seed44533760/pact/hw/hwtest"
	"github.com/seed44533760/pact/hw/sim"
)

// A zone warms past the ventilate trigger, a fan brings it back down, and
// a sensor made to lie reads 3 °C high.
func ExampleWorld() {
	clock := hwtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	world := sim.NewWorld(7, sim.WorldOptions{Clock: clock, Quiet: true})
	board, err := sim.Open(hw.Spec{
		Node:    "node-1",
		Zone:    "greenhouse",
		Outputs: []hw.OutputSpec{{Name: "fan", Kind: "relay", Pin: "GPIO27", Safe: hw.SafeOff}},
		Sensors: []hw.SensorSpec{{Name: "temp", Kind: hw.Temperature, Driver: "sim"}},
	}, sim.Options{World: world})
	if err != nil {
		panic(err)
	}
	defer board.Close()

	fmt.Printf("at start: %.0f °C\n", world.Temperature("greenhouse"))
	clock.Advance(30 * time.Second)
	fmt.Println("above 28 °C after 30 s:", world.Temperature("greenhouse") > 28)

	fan, _ := board.Output("fan")
	_ = fan.Set(true)
	clock.Advance(15 * time.Second)
	fmt.Println("below 26 °C after 15 s of fan:", world.Temperature("greenhouse") < 26)

	world.OffsetSensor("node-1", "temp", 3)
	temp, _ := board.Sensor("temp")
	r, _ := temp.Sense(context.Background())
	fmt.Printf("the lying sensor is %.1f °C high\n", r.Value-world.Temperature("greenhouse"))
	// Output:
	// at start: 24 °C
	// above 28 °C after 30 s: true
	// below 26 °C after 15 s of fan: true
	// the lying sensor is 3.0 °C high
}
