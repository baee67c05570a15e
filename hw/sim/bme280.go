package sim

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"

	"github.com/seed44533760/pact/hw"
)

// BME280 is a Bosch BME280 on an I²C bus of its own, register for register:
// chip id 0x60 at 0xD0, calibration words at 0x88–0xA1 and 0xE1–0xE7,
// ctrl_hum (0xF2), status (0xF3), ctrl_meas (0xF4), config (0xF5) and the
// burst-read data registers 0xF7–0xFE. A forced-mode write to ctrl_meas
// takes a measurement: it asks sense for the environment and stores the
// raw ADC values that the datasheet's compensation formulas, fed with the
// chip's calibration, turn back into that environment (to their 0.01 °C,
// 1/256 Pa and 1/1024 %RH resolution).
//
// It is what lets the real periph driver (periph.io/x/devices/v3/bmxx80)
// run unchanged in simulation: the board opens the driver on this bus,
// and the driver's own reads, writes and arithmetic decode the world.
//
// Not emulated: the IIR filter and standby timing (normal mode measures
// afresh on every data read), conversion time (status never says
// "measuring"), SPI. Safe for concurrent use.
type BME280 struct {
	addr  uint16
	sense func() physic.Env

	mu   sync.Mutex
	regs [256]byte
	ptr  byte  // register pointer: reads start here and auto-increment
	osrH uint8 // humidity oversampling latched by the last ctrl_meas write
}

// BME280 registers.
const (
	regCalib0   = 0x88 // dig_T1 … dig_P9, reserved, dig_H1 at 0xA1
	regChipID   = 0xD0
	regReset    = 0xE0
	regCalib26  = 0xE1 // dig_H2 … dig_H6
	regCtrlHum  = 0xF2
	regStatus   = 0xF3
	regCtrlMeas = 0xF4
	regConfig   = 0xF5
	regData     = 0xF7 // press_msb; the burst runs to hum_lsb at 0xFE

	chipIDBME280 = 0x60
	resetWord    = 0xB6

	// skipped20 and skipped16 are what the data registers hold for a
	// quantity whose oversampling is off (and after reset).
	skipped20 = 0x80000
	skipped16 = 0x8000
)

// NewBME280 returns a chip answering at addr (0x76 or 0x77 on a real
// board; any address here). sense is called once per measurement, with
// the chip's lock held, and must not block.
func NewBME280(addr uint16, sense func() physic.Env) *BME280 {
	b := &BME280{addr: addr, sense: sense}
	b.reset()
	return b
}

// reset puts the registers in their power-on state. Called with b.mu held
// (or before b is shared).
func (b *BME280) reset() {
	b.regs = [256]byte{}
	b.regs[regChipID] = chipIDBME280
	cal := calib.bytes()
	copy(b.regs[regCalib0:], cal[:26])
	copy(b.regs[regCalib26:], cal[26:])
	b.storeRaw(skipped20, skipped20, skipped16)
	b.osrH = 0
	b.ptr = 0
}

// String implements i2c.Bus.
func (b *BME280) String() string { return "sim-i2c" }

// SetSpeed implements i2c.Bus; the emulated chip runs at any speed.
func (b *BME280) SetSpeed(physic.Frequency) error { return nil }

// Tx implements i2c.Bus. A one-byte write sets the register pointer; a
// longer write is register/value pairs (the BME280 does not auto-increment
// on writes); reads start at the pointer and auto-increment.
func (b *BME280) Tx(addr uint16, w, r []byte) error {
	if addr != b.addr {
		return fmt.Errorf("sim-i2c: no device acknowledges address %#x (the BME280 is at %#x)", addr, b.addr)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case len(w) == 1:
		b.ptr = w[0]
	case len(w) > 1:
		if len(w)%2 != 0 {
			return fmt.Errorf("sim-i2c: a %d-byte write to the BME280: writes are register/value pairs", len(w))
		}
		for i := 0; i < len(w); i += 2 {
			b.write(w[i], w[i+1])
		}
	}
	if len(r) == 0 {
		return nil
	}
	if b.ptr >= regData && b.regs[regCtrlMeas]&3 == 3 {
		b.measure() // normal mode: a fresh conversion for every burst
	}
	for i := range r {
		r[i] = b.regs[b.ptr]
		b.ptr++
	}
	return nil
}

// write stores one register write. Called with b.mu held.
func (b *BME280) write(reg, v byte) {
	switch reg {
	case regReset:
		if v == resetWord {
			b.reset()
		}
	case regCtrlHum:
		b.regs[regCtrlHum] = v & 0x07
	case regConfig:
		b.regs[regConfig] = v &^ 0x02 // bit 1 is reserved
	case regCtrlMeas:
		// Datasheet 5.4.3: ctrl_hum only takes effect after a write to
		// ctrl_meas.
		b.osrH = b.regs[regCtrlHum] & 0x07
		b.regs[regCtrlMeas] = v
		if mode := v & 3; mode == 1 || mode == 2 {
			b.measure()
			b.regs[regCtrlMeas] &^= 3 // forced: back to sleep when done
		}
	}
	// Everything else is read-only and ignores writes, as on the chip.
}

// measure converts the current environment into raw ADC values. Called
// with b.mu held.
func (b *BME280) measure() {
	env := b.sense()
	osrT := b.regs[regCtrlMeas] >> 5
	osrP := b.regs[regCtrlMeas] >> 2 & 0x07
	rawT := calib.rawTemperature(hw.Celsius(env.Temperature))
	_, tFine := calib.temperature(rawT)
	rawP, rawH := int32(skipped20), int32(skipped16)
	if osrP != 0 {
		rawP = calib.rawPressure(float64(env.Pressure)/float64(physic.Pascal), tFine)
	}
	if b.osrH != 0 {
		rawH = calib.rawHumidity(hw.Percent(env.Humidity), tFine)
	}
	if osrT == 0 {
		rawT = skipped20
	}
	b.storeRaw(rawP, rawT, rawH)
}

// storeRaw lays raw values out as in the data registers: 20-bit pressure
// and temperature (msb, lsb, xlsb in bits 7:4), 16-bit humidity.
func (b *BME280) storeRaw(p, t, h int32) {
	d := b.regs[regData : regData+8]
	d[0], d[1], d[2] = byte(p>>12), byte(p>>4), byte(p<<4)
	d[3], d[4], d[5] = byte(t>>12), byte(t>>4), byte(t<<4)
	d[6], d[7] = byte(h>>8), byte(h)
}

var _ i2c.Bus = (*BME280)(nil)
