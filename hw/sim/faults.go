package sim

import (
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// fault is what is wrong with one device. Faults are kept by node and
// device name, so they may be injected before the board opens and survive
// its reopening, as a broken wire would.
type fault struct {
	stuck     bool
	level     gpio.Level // the level a stuck pin holds
	offset    float64    // added to every reading
	drift     float64    // per second since driftFrom, added to every reading
	driftFrom time.Time
}

func deviceKey(node, device string) string { return node + "/" + device }

// StuckOutput makes the pin of node's output hold level (the electrical
// level, whatever the output's active level) whatever it is driven to:
// Set still succeeds, as it does on a shorted pin, but the readback, the
// witnesses wired to it and the fan it may run all follow the stuck level.
func (w *World) StuckOutput(node, output string, level gpio.Level) {
	w.mu.Lock()
	f := w.fault(node, output)
	f.stuck, f.level = true, level
	o := w.findOutput(node, output)
	w.mu.Unlock()
	if o != nil {
		o.refresh()
	}
}

// OffsetSensor adds offset (in the sensor's unit) to every reading of
// node's sensor from now on: a miscalibrated sensor, or a lying node.
func (w *World) OffsetSensor(node, sensor string, offset float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fault(node, sensor).offset = offset
}

// DriftSensor makes node's sensor drift away from the truth by
// offsetPerSecond (in its unit) for every second from now on.
func (w *World) DriftSensor(node, sensor string, offsetPerSecond float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.fault(node, sensor)
	f.drift, f.driftFrom = offsetPerSecond, w.clock.Now()
}

// ClearFaults repairs every device of node: stuck outputs go back to the
// level they were last driven to, sensors read true again.
func (w *World) ClearFaults(node string) {
	w.mu.Lock()
	var outs []*output
	for key := range w.faults {
		if n, dev, _ := strings.Cut(key, "/"); n == node {
			delete(w.faults, key)
			if o := w.findOutput(node, dev); o != nil {
				outs = append(outs, o)
			}
		}
	}
	w.mu.Unlock()
	for _, o := range outs {
		o.refresh()
	}
}

// fault returns the device's fault record, creating it. Called with w.mu
// held.
func (w *World) fault(node, device string) *fault {
	key := deviceKey(node, device)
	f, ok := w.faults[key]
	if !ok {
		f = &fault{}
		w.faults[key] = f
	}
	return f
}

// stuckLevel reports whether node's output is stuck, and at what level.
func (w *World) stuckLevel(node, output string) (gpio.Level, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f, ok := w.faults[deviceKey(node, output)]; ok && f.stuck {
		return f.level, true
	}
	return gpio.Low, false
}

// sensorError is what the faults of node's sensor add to a reading at t.
// Called with w.mu held.
func (w *World) sensorError(node, sensor string, t time.Time) float64 {
	f, ok := w.faults[deviceKey(node, sensor)]
	if !ok {
		return 0
	}
	e := f.offset
	if f.drift != 0 {
		e += f.drift * t.Sub(f.driftFrom).Seconds()
	}
	return e
}
