package periph

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/seed44533760/pact/hw"
)

// sensor is any of the board's sensors: a name, a kind and a function that
// takes one reading in the kind's unit.
type sensor struct {
	spec hw.SensorSpec
	unit string
	now  func() time.Time
	// mu serialises readings: a bus, a 1-wire conversion or a pin is read
	// by one caller at a time.
	mu   sync.Mutex
	read func(ctx context.Context) (float64, error)
}

var _ hw.Sensor = (*sensor)(nil)

func (s *sensor) Name() string        { return s.spec.Name }
func (s *sensor) Kind() hw.SensorKind { return s.spec.Kind }
func (s *sensor) Unit() string        { return s.unit }

func (s *sensor) Sense(ctx context.Context) (hw.Reading, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return hw.Reading{}, err
	}
	v, err := s.read(ctx)
	if err != nil {
		return hw.Reading{}, fmt.Errorf("sensor %s (%s): %w", s.spec.Name, s.spec.Driver, err)
	}
	return hw.Reading{Sensor: s.spec.Name, Kind: s.spec.Kind, Value: v, Unit: s.unit, At: s.now()}, nil
}

// defaultUnit is the unit a reading of kind carries; the agent file's
// defaults are the same.
func defaultUnit(k hw.SensorKind) string {
	switch k {
	case hw.Temperature, hw.SoCTemperature:
		return "°C"
	case hw.Humidity:
		return "%"
	case hw.Pressure:
		return "hPa"
	}
	return ""
}
