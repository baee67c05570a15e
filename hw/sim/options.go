package sim

import (
	"time"

	"github.com/seed44533760/pact/hw"
)

// WorldOptions tune the simulated environment. A zero field takes its value
// from DefaultWorldOptions, so WorldOptions{} is the default world. Wobble,
// ZoneSpread and the noise deviations may be set negative for none; Quiet
// switches all the noise off.
type WorldOptions struct {
	// Clock drives the world: temperatures follow it and simulated boards
	// that are not given a clock of their own time their limits and debounce
	// on it. Default hw.SystemClock.
	Clock hw.Clock

	// Epoch is the start of the first heat cycle: at Epoch every zone is at
	// Start and begins to warm. Default: the Clock's time when the World is
	// made, so a fresh world starts cool and warms up in front of you.
	Epoch time.Time

	// Start is a zone's temperature (°C) at the start of each heat cycle.
	// Default 24.
	Start float64
	// Peak is the temperature (°C) a heated zone approaches without fans.
	// Default 32.
	Peak float64
	// HeatTau is the time constant of warming and of cooling back down:
	// after one HeatTau of heating a zone has covered 63% of the way from
	// Start to Peak. Default 36s, which with the default Start and Peak
	// takes an unventilated zone past 28 °C about 25 s into the cycle.
	HeatTau time.Duration
	// HeatOn is how long each cycle heats; the rest of HeatCycle the zone
	// cools back towards Start. Default 2m.
	HeatOn time.Duration
	// HeatCycle is the period of the heat cycle. It makes the temperature a
	// function of the time of day, so that processes started at different
	// times agree on it (see SharedWorld). Default 4m.
	HeatCycle time.Duration

	// Wobble is the amplitude (°C) of a slow sinusoid, different in each
	// zone, laid over the heat cycle. Default 0.2.
	Wobble float64
	// ZoneSpread is how far apart (°C, ±) zones sit: each zone's offset is
	// drawn from the seed and the zone's name. Default 0.25.
	ZoneSpread float64

	// FanCooling is how far (°C) one running fan pulls its zone below
	// what it would be, once the fan has run for a while; each further fan
	// adds half as much as the one before. Default 8.
	FanCooling float64
	// FanTau is the time constant with which a fan's cooling sets in, and
	// wears off once it stops. Default 20s.
	FanTau time.Duration

	// Humidity is the relative humidity (%) at Start; it falls by
	// HumidityPerDegree for every degree above. Default 55.
	Humidity float64
	// HumidityPerDegree: default 1.
	HumidityPerDegree float64
	// Pressure is the air pressure (hPa) around which zones sit. Default
	// 1013.25.
	Pressure float64
	// SoC is the temperature (°C) of a simulated board's processor.
	// Default 45.
	SoC float64

	// Standard deviations of the noise on each reading: °C, %RH, hPa, °C.
	// Defaults 0.05, 0.3, 0.1, 0.2.
	TemperatureNoise, HumidityNoise, PressureNoise, SoCNoise float64
	// Quiet switches the noise off (for tests that compare exact values).
	Quiet bool
}

// DefaultWorldOptions are tuned for a demo of the ventilate action
// (triggered above 28 °C, re-armed below 26 °C): a fresh zone passes 28 °C
// 25–30 s in; a fan switched on then brings it below 26 °C in about 10 s
// (and to about 24 °C in 30 s); once the fan stops, the zone is back above
// 28 °C within about 15 s. The cycle restarts every four minutes.
func DefaultWorldOptions() WorldOptions {
	return WorldOptions{
		Clock:             hw.SystemClock{},
		Start:             24,
		Peak:              32,
		HeatTau:           36 * time.Second,
		HeatOn:            2 * time.Minute,
		HeatCycle:         4 * time.Minute,
		Wobble:            0.2,
		ZoneSpread:        0.25,
		FanCooling:        8,
		FanTau:            20 * time.Second,
		Humidity:          55,
		HumidityPerDegree: 1,
		Pressure:          1013.25,
		SoC:               45,
		TemperatureNoise:  0.05,
		HumidityNoise:     0.3,
		PressureNoise:     0.1,
		SoCNoise:          0.2,
	}
}

// withDefaults fills the zero fields of o from DefaultWorldOptions.
func (o WorldOptions) withDefaults() WorldOptions {
	d := DefaultWorldOptions()
	if o.Clock == nil {
		o.Clock = d.Clock
	}
	if o.Epoch.IsZero() {
		o.Epoch = o.Clock.Now()
	}
	fill := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	fillD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	fill(&o.Start, d.Start)
	fill(&o.Peak, d.Peak)
	fillD(&o.HeatTau, d.HeatTau)
	fillD(&o.HeatCycle, d.HeatCycle)
	fillD(&o.HeatOn, d.HeatOn)
	if o.HeatOn > o.HeatCycle {
		o.HeatOn = o.HeatCycle
	}
	fill(&o.Wobble, d.Wobble)
	fill(&o.ZoneSpread, d.ZoneSpread)
	fill(&o.FanCooling, d.FanCooling)
	fillD(&o.FanTau, d.FanTau)
	fill(&o.Humidity, d.Humidity)
	fill(&o.HumidityPerDegree, d.HumidityPerDegree)
	fill(&o.Pressure, d.Pressure)
	fill(&o.SoC, d.SoC)
	fill(&o.TemperatureNoise, d.TemperatureNoise)
	fill(&o.HumidityNoise, d.HumidityNoise)
	fill(&o.PressureNoise, d.PressureNoise)
	fill(&o.SoCNoise, d.SoCNoise)
	for _, v := range []*float64{&o.Wobble, &o.ZoneSpread, &o.TemperatureNoise, &o.HumidityNoise, &o.PressureNoise, &o.SoCNoise} {
		*v = max(*v, 0)
	}
	if o.Quiet {
		o.TemperatureNoise, o.HumidityNoise, o.PressureNoise, o.SoCNoise = 0, 0, 0, 0
	}
	return o
}
