package periph

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// thermalZone is the SoC's temperature as Linux's thermal framework reports
// it: every Raspberry Pi kernel has thermal_zone0 for the SoC ("cpu-thermal"),
// in millidegrees Celsius. No periph driver is needed, nor root.
type thermalZone struct {
	path string
}

func newThermalZone(sysfs string) (*thermalZone, error) {
	z := &thermalZone{path: filepath.Join(sysfs, "class", "thermal", "thermal_zone0", "temp")}
	if _, err := z.read(); err != nil {
		return nil, err
	}
	return z, nil
}

// read returns degrees Celsius.
func (z *thermalZone) read() (float64, error) {
	b, err := os.ReadFile(z.path)
	if err != nil {
		return 0, fmt.Errorf("SoC thermal zone: %w", err)
	}
	milli, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s holds %q, not millidegrees", ErrSensor, z.path, strings.TrimSpace(string(b)))
	}
	return float64(milli) / 1000, nil
}
