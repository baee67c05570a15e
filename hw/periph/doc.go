// Package periph drives a real Raspberry Pi's hardware through periph.io: it
// is the hw.Board of `hardware.driver: periph`, and the only package of pact
// that imports periph.io/x/host.
//
// Open(spec, opts) runs periph's host.Init, whose loaded, skipped and failed
// drivers become the board's Report, then opens each device of the spec.
// It refuses a spec it could never honour (a pin that is not GPIO0–GPIO27,
// a sensor driver it lacks), naming the key path; a device that is
// configured right but does not answer is left out and reported in
// Report().Failed under its key path (hardware.sensors[1]), so a node with
// an unplugged sensor still votes and drives what works. On systems other
// than Linux, Open fails with ErrUnsupported.
//
// # GPIO: the character device
//
// Pins are named as in the agent file, GPIO17 or 17 (BCM numbering), and
// taken through the GPIO character device (/dev/gpiochipN, the kernel's v2
// ioctl interface) on the SoC's controller, the chip labelled pinctrl-*,
// where GPIO n is line n. That is the one path that works on every Pi:
// Raspberry Pi OS Bookworm has no sysfs GPIO, and a Pi 5's pins sit behind
// the RP1 chip, which only the character device reaches. The kernel also
// gives each line one owner, so a second process (a probe while the agent
// runs) is told the pin is busy instead of fighting over it.
//
// host.Init still loads the memory-mapped bcm283x-gpio driver on a Pi Zero
// to 4 and reports it, but pact never drives a pin through it: its writes
// bypass the kernel's ownership of lines, and periph v3.8.5 also loads it on
// a Pi 5 (bcm2712), whose GPIO registers are not where it maps them.
//
// Each pin is a one-line gpioioctl.LineSet, not the GPIOLine that
// gpioreg.ByName returns, because GPIOLine.Read on an output switches the
// line to an input with the pull-up on (host v3.8.5, gpioioctl/gpio.go) —
// a readback that would switch the relay it checks. A line set reads an
// output's level without touching it; on the Pi's controllers that is the
// level on the pin, so Read is a real readback.
//
// Known limits of the character device as periph uses it:
//   - periph's line request carries no initial value, so an output is
//     driven low for the few microseconds between taking the line and
//     writing its safe level. A relay or an LED cannot follow that; a fast
//     solid-state load could.
//   - pull: none leaves the pin's bias as it is (periph sets no
//     bias-disable flag); on a Pi that is the boot default, a pull-up on
//     GPIO0–8 and a pull-down on GPIO9–27.
//   - Inputs ask the kernel for both edges and debounce by level in pact
//     (input.go): after an edge, wait Debounce, read the pin, and report a
//     transition only if the level changed. The configured edge is a
//     filter on those transitions.
//
// # Sensors
//
//   - bme280: a BME280 or BMP280 over I²C, periph's bmxx80 driver on the bus
//     i2creg opens ("1" for /dev/i2c-1). One chip serves the temperature,
//     humidity and pressure sensors at its address; a humidity sensor on a
//     BMP280 fails to open.
//   - ds18b20: read from the kernel's w1 subsystem,
//     /sys/bus/w1/devices/28-*/temperature (or w1_slave on older kernels),
//     which dtoverlay=w1-gpio sets up. periph's onewire drivers need a
//     1-wire bus master: a DS2482 on I²C, or bit-banging that Linux's
//     scheduler cannot time reliably. The w1-gpio overlay is what Raspberry
//     Pi OS documents, it needs no root and no extra chip, and the kernel
//     does the timing and the CRC. An all-zero scratchpad (it passes the
//     CRC) and the 85 °C power-on value are reported as errors, not
//     readings.
//   - thermal: the SoC temperature, /sys/class/thermal/thermal_zone0/temp,
//     present on every Pi.
//   - gpio: a digital pin, 0 or 1.
//
// Options.Sysfs moves the sysfs root, so tests read a fake tree.
//
// # Safe levels, and when the agent dies
//
// Every output goes to its safe level when it opens, on Halt, and on Close
// (the agent's orderly shutdown). When the process dies instead, the kernel
// releases its lines and, in the words of the GPIO uAPI documentation, "the
// state of the line becomes uncontrolled from the userspace perspective":
// depending on the kernel, the pin keeps its last level (a relay that was
// on stays on) or reverts to an input. So the unit runs the halt again
// after the agent has stopped, for whatever reason:
//
//	ExecStopPost=/usr/bin/pact hw halt --config /etc/pact/pact.yaml
//
// `pact hw halt` opens the board (driving every output to its safe level),
// halts it and exits; systemd runs ExecStopPost= after a crash, a kill or
// a watchdog timeout as well as after a clean stop, and the lines are free
// by then. Once it exits the line is released again, so it covers the
// kernels that keep the last level. An output whose safe state must hold
// while no pact process runs at all (between boot and start, or on a kernel
// that reverts released lines to inputs) needs a pull resistor on the board
// that holds it there; no software can promise that.
//
// # Observing
//
// Options.Observe opens every device without driving any output: outputs
// are taken as they are and read back, and Set, Halt and Close leave them
// alone. `pact hw probe` observes, so looking at a board moves nothing;
// while the agent runs, its pins are busy and probe says so.
package periph
