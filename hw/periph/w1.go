package periph

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ds18b20 is a DS18B20 read through the Linux w1 subsystem
// (/sys/bus/w1/devices/28-*/), which the w1-gpio overlay sets up on a
// Raspberry Pi. doc.go says why this and not periph's onewire.
type ds18b20 struct {
	dir string
}

// powerOnReset is the DS18B20's scratchpad value before any conversion:
// a reading of exactly 85 °C means the conversion did not run (a sagging
// supply, or parasitic power without the strong pull-up).
const powerOnReset = 85000

func newDS18B20(sysfs, id string) (*ds18b20, error) {
	devices := filepath.Join(sysfs, "bus", "w1", "devices")
	if id == "" {
		found, _ := filepath.Glob(filepath.Join(devices, "28-*"))
		if len(found) == 0 {
			return nil, fmt.Errorf("no DS18B20 (28-*) under %s: is dtoverlay=w1-gpio in config.txt and the sensor wired with a 4.7 kΩ pull-up?", devices)
		}
		return &ds18b20{dir: found[0]}, nil // Glob sorts: the same one every time
	}
	dir := filepath.Join(devices, strings.ToLower(id))
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("no 1-wire device %s under %s: %w", id, devices, err)
	}
	return &ds18b20{dir: dir}, nil
}

// read starts a conversion and returns degrees Celsius. The kernel blocks
// for the conversion (750 ms at 12 bits) and cannot be interrupted.
//
// Newer kernels have a temperature file with millidegrees; older ones only
// w1_slave, with the scratchpad, the CRC verdict and t=millidegrees.
func (d *ds18b20) read() (float64, error) {
	b, err := os.ReadFile(filepath.Join(d.dir, "temperature"))
	if errors.Is(err, fs.ErrNotExist) {
		b, err = os.ReadFile(filepath.Join(d.dir, "w1_slave"))
		if err != nil {
			return 0, fmt.Errorf("DS18B20 %s: %w", filepath.Base(d.dir), err)
		}
		return parseW1Slave(string(b))
	}
	if err != nil {
		return 0, fmt.Errorf("DS18B20 %s: %w", filepath.Base(d.dir), err)
	}
	return parseW1Temperature(string(b))
}

// parseW1Temperature reads the temperature file: millidegrees Celsius.
func parseW1Temperature(s string) (float64, error) {
	milli, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: DS18B20 temperature %q is not millidegrees", ErrSensor, strings.TrimSpace(s))
	}
	return checkW1(milli)
}

// parseW1Slave reads the w1_slave file:
//
//	72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//	72 01 4b 46 7f ff 0e 10 57 t=23125
func parseW1Slave(s string) (float64, error) {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) < 2 {
		return 0, fmt.Errorf("%w: DS18B20 w1_slave has %d line(s), want 2", ErrSensor, len(lines))
	}
	first := strings.Fields(lines[0])
	if len(first) == 0 || first[len(first)-1] != "YES" {
		return 0, fmt.Errorf("%w: DS18B20 CRC check failed (%s): check the wiring and the pull-up", ErrSensor, strings.TrimSpace(lines[0]))
	}
	// A sensor that answers nothing reads as all zeros, and zeros pass the
	// CRC (the CRC of zeros is zero).
	data, _, _ := strings.Cut(lines[0], ":")
	if allZero(strings.Fields(data)) {
		return 0, fmt.Errorf("%w: DS18B20 scratchpad is all zeros: the sensor is not answering", ErrSensor)
	}
	_, t, ok := strings.Cut(lines[1], "t=")
	if !ok {
		return 0, fmt.Errorf("%w: DS18B20 w1_slave has no t= value", ErrSensor)
	}
	milli, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: DS18B20 t=%q is not millidegrees", ErrSensor, strings.TrimSpace(t))
	}
	return checkW1(milli)
}

func checkW1(milli int64) (float64, error) {
	if milli == powerOnReset {
		return 0, fmt.Errorf("%w: DS18B20 reads 85 °C, its power-on value: the conversion did not run (supply, or parasitic power without a strong pull-up)", ErrSensor)
	}
	// The DS18B20 measures -55 to +125 °C.
	if milli < -55000 || milli > 125000 {
		return 0, fmt.Errorf("%w: DS18B20 reads %.3f °C, outside its -55 to 125 °C range", ErrSensor, float64(milli)/1000)
	}
	return float64(milli) / 1000, nil
}

func allZero(bytes []string) bool {
	if len(bytes) == 0 {
		return false
	}
	for _, b := range bytes {
		if b != "00" {
			return false
		}
	}
	return true
}
