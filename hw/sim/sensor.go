package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/bmxx80"

	"github.com/seed44533760/pact/hw"
)

// units are the units readings carry, by kind.
var units = map[hw.SensorKind]string{
	hw.Temperature:    "°C",
	hw.SoCTemperature: "°C",
	hw.Humidity:       "%",
	hw.Pressure:       "hPa",
	hw.Digital:        "",
}

// bmeOpts are the oversampling settings the simulated sensors open the
// driver with: 1× everywhere keeps the driver's conversion wait (a real
// sleep, inside bmxx80) at 8 ms.
var bmeOpts = bmxx80.Opts{Temperature: bmxx80.O1x, Pressure: bmxx80.O1x, Humidity: bmxx80.O1x}

// envSensor is a temperature, humidity or pressure sensor read through the
// real BME280 driver from an emulated chip on a bus of its own. The chip
// measures the world at the sensor's zone, with the sensor's own noise and
// faults on the quantity it reports.
type envSensor struct {
	board *Board
	spec  hw.SensorSpec
	chip  *BME280
	dev   *bmxx80.Dev
	noise *rand.Rand // used only inside the chip's sense, under its lock
}

func newEnvSensor(b *Board, spec hw.SensorSpec) (*envSensor, string, error) {
	addr := uint16(0x76)
	if spec.Address != "" {
		a, err := strconv.ParseUint(spec.Address, 0, 16)
		if err != nil {
			return nil, "", fmt.Errorf("address %q: %v", spec.Address, err)
		}
		addr = uint16(a)
	}
	s := &envSensor{board: b, spec: spec, noise: b.world.rng("sensor", b.node, spec.Name)}
	s.chip = NewBME280(addr, s.measure)
	dev, err := bmxx80.NewI2C(s.chip, addr, &bmeOpts)
	if err != nil {
		return nil, "", err
	}
	s.dev = dev
	chip, _, _ := strings.Cut(dev.String(), "{") // what the driver detected
	return s, fmt.Sprintf("%s (%s via bmxx80, %s at %#x on %s)", spec.Name, spec.Kind, chip, addr, s.chip), nil
}

func (s *envSensor) Name() string        { return s.spec.Name }
func (s *envSensor) Kind() hw.SensorKind { return s.spec.Kind }
func (s *envSensor) Unit() string        { return units[s.spec.Kind] }

// measure is the chip's view of the world.
func (s *envSensor) measure() physic.Env {
	return s.board.world.environment(s.board.node, s.board.zone, s.spec.Name, s.spec.Kind, s.noise)
}

func (s *envSensor) Sense(ctx context.Context) (hw.Reading, error) {
	if err := s.board.usable(ctx); err != nil {
		return hw.Reading{}, err
	}
	var env physic.Env
	if err := s.dev.Sense(&env); err != nil {
		return hw.Reading{}, fmt.Errorf("%s: %w", s.spec.Name, err)
	}
	if err := ctx.Err(); err != nil {
		return hw.Reading{}, err
	}
	var v float64
	switch s.spec.Kind {
	case hw.Temperature:
		v = hw.Celsius(env.Temperature)
	case hw.Humidity:
		v = hw.Percent(env.Humidity)
	case hw.Pressure:
		v = hw.Hectopascal(env.Pressure)
	}
	return reading(s, v, s.board.clock.Now()), nil
}

// valueSensor is a sensor served straight from the world, with no bus in
// between: the processor's temperature (the thermal zone on a real board)
// and a 1-wire DS18B20's temperature.
type valueSensor struct {
	board *Board
	spec  hw.SensorSpec
	value func(t time.Time, noise *rand.Rand) float64 // called with the world's lock held

	mu    sync.Mutex
	noise *rand.Rand
}

func (s *valueSensor) Name() string        { return s.spec.Name }
func (s *valueSensor) Kind() hw.SensorKind { return s.spec.Kind }
func (s *valueSensor) Unit() string        { return units[s.spec.Kind] }

func (s *valueSensor) Sense(ctx context.Context) (hw.Reading, error) {
	if err := s.board.usable(ctx); err != nil {
		return hw.Reading{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.board.world
	w.mu.Lock()
	t := w.clock.Now()
	v := s.value(t, s.noise) + w.sensorError(s.board.node, s.spec.Name, t)
	w.mu.Unlock()
	// Round as the real drivers report: thermal zones in m°C, the DS18B20
	// in 1/16 °C; hundredths keep both honest here.
	return reading(s, math.Round(v*100)/100, s.board.clock.Now()), nil
}

// digitalSensor reads a gpiotest pin: 1 for high, 0 for low. Board.SetLevel
// moves it.
type digitalSensor struct {
	board *Board
	spec  hw.SensorSpec
	pin   *gpiotest.Pin
}

func (s *digitalSensor) Name() string        { return s.spec.Name }
func (s *digitalSensor) Kind() hw.SensorKind { return s.spec.Kind }
func (s *digitalSensor) Unit() string        { return units[s.spec.Kind] }

func (s *digitalSensor) Sense(ctx context.Context) (hw.Reading, error) {
	if err := s.board.usable(ctx); err != nil {
		return hw.Reading{}, err
	}
	v := 0.0
	if s.pin.Read() == gpio.High {
		v = 1
	}
	return reading(s, v, s.board.clock.Now()), nil
}

func reading(s hw.Sensor, v float64, at time.Time) hw.Reading {
	return hw.Reading{Sensor: s.Name(), Kind: s.Kind(), Value: v, Unit: s.Unit(), At: at}
}

// environment is what node's sensor of that kind measures in zone now: the
// zone's true temperature, humidity and pressure, with the sensor's noise
// and faults on its own quantity.
func (w *World) environment(node, zone, sensor string, kind hw.SensorKind, noise *rand.Rand) physic.Env {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.clock.Now()
	temp, rh, p := w.temperature(zone, t), w.humidity(zone, t), w.pressure(zone, t)
	e := w.sensorError(node, sensor, t)
	switch kind {
	case hw.Temperature:
		temp += e + noise.NormFloat64()*w.opts.TemperatureNoise
	case hw.Humidity:
		rh += e + noise.NormFloat64()*w.opts.HumidityNoise
	case hw.Pressure:
		p += e + noise.NormFloat64()*w.opts.PressureNoise
	}
	return physic.Env{
		Temperature: physic.ZeroCelsius + physic.Temperature(math.Round(temp*float64(physic.Celsius))),
		Humidity:    physic.RelativeHumidity(math.Round(rh * float64(physic.PercentRH))),
		Pressure:    physic.Pressure(math.Round(p * 100 * float64(physic.Pascal))),
	}
}

var (
	_ hw.Sensor = (*envSensor)(nil)
	_ hw.Sensor = (*valueSensor)(nil)
	_ hw.Sensor = (*digitalSensor)(nil)
)
