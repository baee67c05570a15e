// Package hw is pact's hardware layer: small interfaces for what a node
// drives and reads, independent of any board.
//
//   - Output: a GPIO output (LED, relay, fan, buzzer). Set drives it, Read
//     reads the pin back, Halt puts it in its configured safe state.
//   - Input: a GPIO input (a button, or a witness wire from another node's
//     output). Read, and WaitForEdge with a context.
//   - Sensor: one typed reading (temperature, humidity, pressure, digital,
//     the SoC's temperature) in periph.io's physic units.
//
// A Board holds a node's devices and is opened from a Spec. Two
// implementations exist: hw/periph drives a real Raspberry Pi class board
// through periph.io (the only package that imports periph.io/x/host), and
// hw/sim simulates a board in a shared World, on periph's own fakes, so the
// whole suite runs on machines without GPIO.
//
// Limits are the hardware layer's own business: every Output is wrapped by
// Limit, which enforces the configured maximum on-time and minimum off-time
// whatever the caller asks, so no bug or malicious request elsewhere can
// keep a relay on for ever or chatter it.
//
// Time comes from a Clock (SystemClock in production) so that limits,
// debounce and the simulated world can be tested without sleeping:
// hw/hwtest has a fake Clock that moves only on Advance, and a recording
// fake Output.
//
// hw knows nothing of networks, consensus or MQTT, and must not import any
// of pact's agent packages; the agent maps its configuration onto a Spec.
package hw
