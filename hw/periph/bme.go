package periph

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/bmxx80"

	"github.com/seed44533760/pact/hw"
)

// bmxx80Chip is one BME280 or BMP280 on an I²C bus. One chip serves up to
// three sensors of the agent file (temperature, humidity, pressure); each
// Sense runs one forced conversion (about 30 ms with the default
// oversampling) and keeps the field its sensor asked for.
type bmxx80Chip struct {
	mu  sync.Mutex
	dev *bmxx80.Dev
	// humidity is false for a BMP280, which has no humidity sensor.
	humidity bool
}

func newBMxx80(bus i2c.Bus, addr uint16) (*bmxx80Chip, error) {
	opts := bmxx80.DefaultOpts
	dev, err := bmxx80.NewI2C(bus, addr, &opts)
	if err != nil {
		return nil, err
	}
	return &bmxx80Chip{dev: dev, humidity: strings.HasPrefix(dev.String(), "BME280")}, nil
}

// read takes one reading of kind, in the kind's unit.
func (c *bmxx80Chip) read(kind hw.SensorKind) (float64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var env physic.Env
	if err := c.dev.Sense(&env); err != nil {
		return 0, err
	}
	switch kind {
	case hw.Temperature:
		return hw.Celsius(env.Temperature), nil
	case hw.Humidity:
		return hw.Percent(env.Humidity), nil
	case hw.Pressure:
		return hw.Hectopascal(env.Pressure), nil
	}
	return 0, fmt.Errorf("a BME280 does not measure %s", kind)
}

func (c *bmxx80Chip) halt() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dev.Halt()
}

// i2cBusName turns the agent file's bus ("1" or "/dev/i2c-1") into the
// name periph's i2creg knows.
func i2cBusName(bus string) string {
	return strings.TrimPrefix(bus, "/dev/i2c-")
}

// i2cAddr reads an I²C address: 0x76, 118.
func i2cAddr(s string) (uint16, error) {
	a, err := strconv.ParseUint(s, 0, 7)
	if err != nil {
		return 0, fmt.Errorf("%q is not an I²C address such as 0x76", s)
	}
	return uint16(a), nil
}
