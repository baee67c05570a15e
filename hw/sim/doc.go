// Package sim is simulated hardware for pact: boards opened from the same
// hw.Spec as real ones, living in a World that gives them something to
// measure and wires them together, so the agent, its tests and `pact demo`
// run the real code paths on machines without GPIO.
//
// It is built on periph's own fakes and drivers. Outputs and inputs are
// gpiotest pins; outputs are handed out wrapped in hw.Limit like every
// driver's. Temperature, humidity and pressure are read by the real BME280
// driver (periph.io/x/devices/v3/bmxx80) from an emulated chip on an I²C bus
// of its own (BME280), which turns the world's values into the raw ADC
// counts the driver's compensation decodes back.
//
// The World:
//
//   - Zones warm and cool on a heat cycle (WorldOptions), and every running
//     fan of a board in a zone cools it; an output is a fan when its kind or
//     its name is "fan". Time comes from an injected hw.Clock, randomness
//     from the seed (a PCG stream per sensor), so a test with hwtest.Clock
//     is deterministic.
//   - An input whose Watches is "node-2/led" sees node-2's led pin, on any
//     board of the same World, with edges delivered to WaitForEdge after the
//     input's debounce.
//   - Faults for tests of the audit: StuckOutput, OffsetSensor,
//     DriftSensor, ClearFaults.
//
// Between processes: SharedWorld(cluster) is seeded from the cluster's name
// and its heat cycle is aligned to the Unix epoch, so the ambient of a zone
// is the same function of wall-clock time in every process and honest
// sensors agree within their noise. Fans and wires do not cross processes:
// a fan cools the zone only for boards in its own process, and a witness
// sees only outputs opened in its own process.
//
// sim must not import periph.io/x/host (that is hw/periph's job) nor any
// of pact's agent packages.
package sim
