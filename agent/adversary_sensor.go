package agent

import (
	"math/rand/v2"
	"sync"

	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/hw"
)

// lie-sensor: the node's readings lie before it signs them, so the lie
// carries a valid signature and only the peers' readings can show it.

// lieKind is one way of lying.
type lieKind int

const (
	// lieOffset adds lieOffsets to temperature, humidity and pressure.
	lieOffset lieKind = iota
	// lieStuck reports lieStuckValue, whatever the truth.
	lieStuck
	// lieRandom reports a uniform value in [0, lieRandomMax).
	lieRandom
	lieKinds
)

func (k lieKind) String() string {
	switch k {
	case lieOffset:
		return "offset"
	case lieStuck:
		return "stuck"
	case lieRandom:
		return "random"
	}
	return "none"
}

const (
	// lieStretch is how many samples (of readingsInterval) one way of
	// lying lasts before the next: 30 s, long enough for peers to compare.
	lieStretch    = 15
	lieStuckValue = 21.0
	lieRandomMax  = 50.0
)

// lieOffsets are what the offset lie adds, by sensor kind; other kinds
// are left as they are.
var lieOffsets = map[string]float64{
	string(hw.Temperature): 8,  // °C
	string(hw.Humidity):    20, // %RH
	string(hw.Pressure):    30, // hPa
}

// sensorLiar cycles offset → stuck → random, lieStretch samples each,
// starting where the node's seed says.
type sensorLiar struct {
	mu    sync.Mutex
	rng   *rand.Rand
	start lieKind
	n     int // samples lied about so far
}

func newSensorLiar(node string) *sensorLiar {
	rng := seededRand(node, "lie-sensor")
	return &sensorLiar{rng: rng, start: lieKind(rng.IntN(int(lieKinds)))}
}

// kind is the lie of the next sample.
func (l *sensorLiar) kind() lieKind {
	return (l.start + lieKind(l.n/lieStretch)) % lieKinds
}

func (l *sensorLiar) lie(rs []wire.Reading) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.kind()
	l.n++
	for i := range rs {
		rs[i].Value = l.value(k, rs[i])
	}
}

// value is what the lie k reports for r. Digital readings (0 or 1) are
// never touched: a lie there would be malformed, not a lie.
func (l *sensorLiar) value(k lieKind, r wire.Reading) float64 {
	if r.Kind == string(hw.Digital) {
		return r.Value
	}
	switch k {
	case lieOffset:
		return r.Value + lieOffsets[r.Kind]
	case lieStuck:
		return lieStuckValue
	default:
		return l.rng.Float64() * lieRandomMax
	}
}
