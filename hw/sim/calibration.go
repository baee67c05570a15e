package sim

import (
	"encoding/binary"
	"math"
	"sort"
)

// calibration holds a BME280's trimming words (datasheet 4.2.2, "Trimming
// parameter readout").
type calibration struct {
	t1                             uint16
	t2, t3                         int16
	p1                             uint16
	p2, p3, p4, p5, p6, p7, p8, p9 int16
	h1                             uint8
	h2                             int16
	h3                             uint8
	h4, h5                         int16 // 12 bits each
	h6                             int8
}

// calib is the simulated chip's calibration. The temperature and pressure
// words are the worked example of the Bosch BMP280 datasheet (section
// 3.12; the BME280 shares its T/P compensation), where adc_T = 519888 is
// 25.08 °C and adc_P = 415148 is 100653.27 Pa; the humidity words were read
// from a real BME280 (they are periph's own bmxx80 test data).
var calib = calibration{
	t1: 27504, t2: 26435, t3: -1000,
	p1: 36477, p2: -10685, p3: 3024, p4: 2855, p5: 140, p6: -7, p7: 15500, p8: -14600, p9: 6000,
	h1: 75, h2: 366, h3: 0, h4: 309, h5: 0, h6: 30,
}

// bytes is the calibration as the chip's registers hold it: 26 bytes from
// 0x88 (dig_T1 … dig_P9 little-endian, a reserved byte, dig_H1 at 0xA1),
// then 7 bytes from 0xE1 (dig_H2, dig_H3, dig_H4 and dig_H5 sharing 0xE5,
// dig_H6).
func (c calibration) bytes() [33]byte {
	var b [33]byte
	le := binary.LittleEndian
	le.PutUint16(b[0:], c.t1)
	for i, v := range []int16{c.t2, c.t3} {
		le.PutUint16(b[2+2*i:], uint16(v))
	}
	le.PutUint16(b[6:], c.p1)
	for i, v := range []int16{c.p2, c.p3, c.p4, c.p5, c.p6, c.p7, c.p8, c.p9} {
		le.PutUint16(b[8+2*i:], uint16(v))
	}
	b[24] = 0 // 0xA0, reserved
	b[25] = c.h1
	le.PutUint16(b[26:], uint16(c.h2))
	b[28] = c.h3
	b[29] = byte(c.h4 >> 4)                 // 0xE4: dig_H4[11:4]
	b[30] = byte(c.h4&0x0F) | byte(c.h5<<4) // 0xE5: dig_H4[3:0], dig_H5[3:0]
	b[31] = byte(c.h5 >> 4)                 // 0xE6: dig_H5[11:4]
	b[32] = byte(c.h6)
	return b
}

// The three compensation functions are the datasheet's integer reference
// code (BME280 datasheet 4.2.3 and 8.2), the same arithmetic the driver
// runs; the emulator inverts them by search, so whatever the driver decodes
// is what the world held, to the formulas' resolution.

// temperature returns °C in hundredths and t_fine.
func (c calibration) temperature(raw int32) (centi, tFine int32) {
	x := ((raw>>3 - int32(c.t1)<<1) * int32(c.t2)) >> 11
	y := ((((raw>>4 - int32(c.t1)) * (raw>>4 - int32(c.t1))) >> 12) * int32(c.t3)) >> 14
	tFine = x + y
	return (tFine*5 + 128) >> 8, tFine
}

// pressure returns Pa in Q24.8.
func (c calibration) pressure(raw, tFine int32) int64 {
	x := int64(tFine) - 128000
	y := x * x * int64(c.p6)
	y += (x * int64(c.p5)) << 17
	y += int64(c.p4) << 35
	x = (x*x*int64(c.p3))>>8 + ((x * int64(c.p2)) << 12)
	x = ((int64(1)<<47 + x) * int64(c.p1)) >> 33
	if x == 0 {
		return 0
	}
	p := ((((1048576 - int64(raw)) << 31) - y) * 3125) / x
	x = (int64(c.p9) * (p >> 13) * (p >> 13)) >> 25
	y = (int64(c.p8) * p) >> 19
	return ((p + x + y) >> 8) + (int64(c.p7) << 4)
}

// humidity returns %RH in Q22.10.
func (c calibration) humidity(raw, tFine int32) int32 {
	x := tFine - 76800
	x1 := raw<<14 - int32(c.h4)<<20 - int32(c.h5)*x
	x2 := (x1 + 16384) >> 15
	x3 := (x * int32(c.h6)) >> 10
	x4 := (x * int32(c.h3)) >> 11
	x5 := (x3 * (x4 + 32768)) >> 10
	x6 := ((x5+2097152)*int32(c.h2) + 8192) >> 14
	x = x2 * x6
	x -= ((((x >> 15) * (x >> 15)) >> 7) * int32(c.h1)) >> 4
	x = min(max(x, 0), 419430400)
	return x >> 12
}

// The ranges the BME280 measures (datasheet table 1); the world is clamped
// to them as the chip's ADC would be.
const (
	minCelsius, maxCelsius = -40.0, 85.0
	minPascal, maxPascal   = 30000.0, 110000.0
)

// rawTemperature is the 20-bit adc_T that reads as celsius.
func (c calibration) rawTemperature(celsius float64) int32 {
	want := math.Round(clamp(celsius, minCelsius, maxCelsius) * 5120) // t_fine units
	f := func(raw int32) float64 { _, tf := c.temperature(raw); return float64(tf) }
	return nearest(1<<20, want, f)
}

// rawPressure is the 20-bit adc_P that reads as pascal at tFine.
func (c calibration) rawPressure(pascal float64, tFine int32) int32 {
	want := math.Round(clamp(pascal, minPascal, maxPascal) * 256)
	// Pressure falls as adc_P rises: search the negation.
	f := func(raw int32) float64 { return -float64(c.pressure(raw, tFine)) }
	return nearest(1<<20, -want, f)
}

// rawHumidity is the 16-bit adc_H that reads as percent at tFine.
func (c calibration) rawHumidity(percent float64, tFine int32) int32 {
	want := math.Round(clamp(percent, 0, 100) * 1024)
	f := func(raw int32) float64 { return float64(c.humidity(raw, tFine)) }
	return nearest(1<<16, want, f)
}

// nearest returns the raw in [0, n) whose f is closest to want, for f
// non-decreasing over that range.
func nearest(n int, want float64, f func(int32) float64) int32 {
	i := int32(sort.Search(n, func(i int) bool { return f(int32(i)) >= want }))
	switch {
	case i >= int32(n):
		return int32(n - 1)
	case i > 0 && want-f(i-1) < f(i)-want:
		return i - 1
	}
	return i
}

func clamp(v, lo, hi float64) float64 { return min(max(v, lo), hi) }
