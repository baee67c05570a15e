package sim

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/bmxx80"

	"github.com/seed44533760/pact/hw"
)

// datasheetCalibration is the calibration block of the simulated chip as
// the datasheet's register map lays it out, written out by hand: 0x88–0xA1
// then 0xE1–0xE7. T1=27504 T2=26435 T3=-1000 P1=36477 P2=-10685 P3=3024
// P4=2855 P5=140 P6=-7 P7=15500 P8=-14600 P9=6000 (BMP280 datasheet 3.12)
// H1=75 H2=366 H3=0 H4=309 H5=0 H6=30.
var (
	datasheetCalib88 = []byte{
		0x70, 0x6B, 0x43, 0x67, 0x18, 0xFC, // dig_T1..T3
		0x7D, 0x8E, 0x43, 0xD6, 0xD0, 0x0B, 0x27, 0x0B, 0x8C, 0x00, // dig_P1..P5
		0xF9, 0xFF, 0x8C, 0x3C, 0xF8, 0xC6, 0x70, 0x17, // dig_P6..P9
		0x00, // 0xA0 reserved
		0x4B, // dig_H1
	}
	datasheetCalibE1 = []byte{
		0x6E, 0x01, // dig_H2
		0x00,       // dig_H3
		0x13, 0x05, // dig_H4 = 0x13<<4 | 0x5
		0x00, // dig_H5 = 0xE5>>4 | 0xE6<<4
		0x1E, // dig_H6
	}
)

// playbackOps is one BME280 at 0x76 being opened by bmxx80 with 1×
// oversampling and read once in forced mode: the traffic a real chip
// answers, register by register from the datasheet. The data registers
// hold the datasheet's example adc_P = 415148 (0x655AC) and adc_T = 519888
// (0x7EED0), and adc_H = 0x7000.
func playbackOps() []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: 0x76, W: []byte{0xD0}, R: []byte{0x60}},                          // chip id: BME280
		{Addr: 0x76, W: []byte{0x88}, R: datasheetCalib88},                      // calibration, T, P, H1
		{Addr: 0x76, W: []byte{0xE1}, R: datasheetCalibE1},                      // calibration, H2..H6
		{Addr: 0x76, W: []byte{0xF4, 0x24, 0xF2, 0x01, 0xF5, 0xA0, 0xF4, 0x24}}, // sleep, ctrl_hum 1×, config standby 1 s, ctrl_meas 1×/1× sleep
		{Addr: 0x76, W: []byte{0xF4, 0x25}},                                     // ctrl_meas: forced
		{Addr: 0x76, W: []byte{0xF3}, R: []byte{0x00}},                          // status: idle
		{Addr: 0x76, W: []byte{0xF7}, R: []byte{0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00, 0x70, 0x00}},
	}
}

// The real driver, replaying recorded traffic, decodes the datasheet's
// example: 25.08 °C and 100653.27 Pa.
func TestBME280_PlaybackDecodesTheDatasheetExample(t *testing.T) {
	bus := &i2ctest.Playback{Ops: playbackOps(), DontPanic: true}
	dev, err := bmxx80.NewI2C(bus, 0x76, &bmeOpts)
	if err != nil {
		t.Fatal(err)
	}
	var env physic.Env
	if err := dev.Sense(&env); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	if want := 25080*physic.MilliCelsius + physic.ZeroCelsius; env.Temperature != want {
		t.Errorf("temperature %s, want %s", env.Temperature, want)
	}
	if got := float64(env.Pressure) / float64(physic.Pascal); math.Abs(got-100653.27) > 0.05 {
		t.Errorf("pressure %.3f Pa, want 100653.27 (datasheet)", got)
	}
	// No datasheet example for humidity: this is the datasheet formula's
	// value for adc_H = 0x7000 at t_fine = 128422, Q22.10 51669.
	if want := physic.RelativeHumidity(51669*10000/1024) * physic.MicroRH; env.Humidity != want {
		t.Errorf("humidity %s, want %s", env.Humidity, want)
	}
}

// The emulated chip holds the datasheet's calibration block, byte for byte.
func TestBME280_CalibrationMatchesTheRegisterMap(t *testing.T) {
	b := calib.bytes()
	if !bytes.Equal(b[:26], datasheetCalib88) || !bytes.Equal(b[26:], datasheetCalibE1) {
		t.Fatalf("calibration\n% x\nwant\n% x % x", b, datasheetCalib88, datasheetCalibE1)
	}
}

// The driver talks to the emulator exactly as it talks to the recorded
// chip: same transactions, same calibration answers. That is what makes the
// playback a test of the emulator too.
func TestBME280_EmulatorSpeaksLikeTheRecording(t *testing.T) {
	chip := NewBME280(0x76, func() physic.Env { return envAt(25.08, 50, 1006.53) })
	rec := &i2ctest.Record{Bus: chip}
	dev, err := bmxx80.NewI2C(rec, 0x76, &bmeOpts)
	if err != nil {
		t.Fatal(err)
	}
	var env physic.Env
	if err := dev.Sense(&env); err != nil {
		t.Fatal(err)
	}
	want := playbackOps()
	if len(rec.Ops) != len(want) {
		t.Fatalf("%d transactions, the recording has %d", len(rec.Ops), len(want))
	}
	for i, op := range rec.Ops {
		if op.Addr != want[i].Addr || !bytes.Equal(op.W, want[i].W) || len(op.R) != len(want[i].R) {
			t.Errorf("transaction %d: %#v, recorded %#v", i, op, want[i])
		}
		if i < 3 && !bytes.Equal(op.R, want[i].R) {
			t.Errorf("transaction %d read % x, recorded % x", i, op.R, want[i].R)
		}
	}
	// The datasheet's values come out as the datasheet's raw counts, give
	// or take the last count.
	data := rec.Ops[len(rec.Ops)-1].R
	rawT := int32(data[3])<<12 | int32(data[4])<<4 | int32(data[5])>>4
	rawP := int32(data[0])<<12 | int32(data[1])<<4 | int32(data[2])>>4
	if d := rawT - 519888; d < -8 || d > 8 {
		t.Errorf("adc_T %d for 25.08 °C, datasheet 519888", rawT)
	}
	if d := rawP - 415148; d < -8 || d > 8 {
		t.Errorf("adc_P %d for 100653 Pa, datasheet 415148", rawP)
	}
}

func envAt(celsius, percent, hPa float64) physic.Env {
	return physic.Env{
		Temperature: physic.ZeroCelsius + physic.Temperature(math.Round(celsius*float64(physic.Celsius))),
		Humidity:    physic.RelativeHumidity(math.Round(percent * float64(physic.PercentRH))),
		Pressure:    physic.Pressure(math.Round(hPa * 100 * float64(physic.Pascal))),
	}
}

// Whatever the world holds, the real driver reads it back through the
// emulated chip, at any oversampling.
func TestBME280_RoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name      string
		c, rh, hp float64
		opts      bmxx80.Opts
	}{
		{"greenhouse", 24.37, 55.5, 1013.25, bmeOpts},
		{"threshold", 28.0, 47.0, 1009.9, bmeOpts},
		{"frost", -10.5, 85.0, 1030.0, bmeOpts},
		{"hot attic", 45.2, 20.1, 990.4, bmeOpts},
		{"chip limits", -40, 0, 300, bmeOpts},
		{"chip limits high", 85, 100, 1100, bmeOpts},
		{"mountain", 5.55, 33.3, 700.0, bmeOpts},
		{"16x oversampling", 21.21, 61.61, 1001.01, bmxx80.Opts{Temperature: bmxx80.O16x, Pressure: bmxx80.O16x, Humidity: bmxx80.O16x}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chip := NewBME280(0x77, func() physic.Env { return envAt(tc.c, tc.rh, tc.hp) })
			dev, err := bmxx80.NewI2C(chip, 0x77, &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var env physic.Env
			if err := dev.Sense(&env); err != nil {
				t.Fatal(err)
			}
			c, rh, hp := hw.Celsius(env.Temperature), hw.Percent(env.Humidity), hw.Hectopascal(env.Pressure)
			// The contract is ±0.1 °C, ±1 %RH, ±1 hPa; the emulator does
			// far better, at the formulas' resolution, and is held to it.
			if math.Abs(c-tc.c) > 0.011 {
				t.Errorf("temperature %.4f °C, want %.2f", c, tc.c)
			}
			if math.Abs(rh-tc.rh) > 0.02 {
				t.Errorf("humidity %.4f %%, want %.2f", rh, tc.rh)
			}
			if math.Abs(hp-tc.hp) > 0.01 {
				t.Errorf("pressure %.4f hPa, want %.2f", hp, tc.hp)
			}
		})
	}
}

// Across the chip's whole range, the inverse lands on the nearest count.
func TestCalibration_InverseSweep(t *testing.T) {
	for c := -40.0; c <= 85; c += 0.173 {
		centi, tFine := calib.temperature(calib.rawTemperature(c))
		if math.Abs(float64(centi)/100-c) > 0.011 {
			t.Fatalf("%.3f °C reads %.2f", c, float64(centi)/100)
		}
		for p := 300.0; p <= 1100; p += 37.7 {
			if got := float64(calib.pressure(calib.rawPressure(p*100, tFine), tFine)) / 256 / 100; math.Abs(got-p) > 0.005 {
				t.Fatalf("%.2f hPa at %.2f °C reads %.4f", p, c, got)
			}
		}
		for rh := 0.0; rh <= 100; rh += 9.9 {
			if got := float64(calib.humidity(calib.rawHumidity(rh, tFine), tFine)) / 1024; math.Abs(got-rh) > 0.01 {
				t.Fatalf("%.1f %%RH at %.2f °C reads %.4f", rh, c, got)
			}
		}
	}
}

func TestBME280_Registers(t *testing.T) {
	chip := NewBME280(0x76, func() physic.Env { return envAt(20, 50, 1000) })
	read := func(reg byte, n int) []byte {
		t.Helper()
		r := make([]byte, n)
		if err := chip.Tx(0x76, []byte{reg}, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	write := func(w ...byte) {
		t.Helper()
		if err := chip.Tx(0x76, w, nil); err != nil {
			t.Fatal(err)
		}
	}
	if id := read(regChipID, 1); id[0] != 0x60 {
		t.Errorf("chip id %#x", id[0])
	}
	if d := read(regData, 8); !bytes.Equal(d, []byte{0x80, 0, 0, 0x80, 0, 0, 0x80, 0}) {
		t.Errorf("data after power-on % x, want the skipped pattern", d)
	}
	// ctrl_hum is latched by the next ctrl_meas write, not before.
	write(regCtrlHum, 0x01)
	write(regCtrlMeas, 0x24|1) // forced, T and P 1×, H latched now
	d := read(regData, 8)
	if bytes.Equal(d[6:], []byte{0x80, 0}) || bytes.Equal(d[3:6], []byte{0x80, 0, 0}) {
		t.Errorf("forced measurement left skipped data: % x", d)
	}
	if m := read(regCtrlMeas, 1); m[0] != 0x24 {
		t.Errorf("ctrl_meas %#x after a forced measurement, want back to sleep 0x24", m[0])
	}
	write(regCtrlHum, 0x00)
	write(regCtrlMeas, 0x20|1) // pressure and humidity off
	d = read(regData, 8)
	if !bytes.Equal(d[:3], []byte{0x80, 0, 0}) || !bytes.Equal(d[6:], []byte{0x80, 0}) {
		t.Errorf("skipped pressure and humidity read % x", d)
	}
	write(regReset, 0xB6)
	if m := read(regCtrlMeas, 1); m[0] != 0 {
		t.Errorf("ctrl_meas %#x after soft reset", m[0])
	}
	write(regChipID, 0x12) // read-only: ignored
	if id := read(regChipID, 1); id[0] != 0x60 {
		t.Errorf("chip id %#x after a write to it", id[0])
	}
	if err := chip.Tx(0x76, []byte{regCtrlMeas, 1, 2}, nil); err == nil || !strings.Contains(err.Error(), "pairs") {
		t.Errorf("odd write: %v", err)
	}
	if err := chip.Tx(0x77, []byte{regChipID}, make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "0x77") {
		t.Errorf("wrong address: %v", err)
	}
	// Normal mode measures afresh for every burst read of the data.
	write(regCtrlHum, 0x01)
	write(regCtrlMeas, 0x24|3)
	if d := read(regData, 8); bytes.Equal(d[3:6], []byte{0x80, 0, 0}) {
		t.Errorf("normal mode read skipped data % x", d)
	}
}
