package transport

import (
	"sync"
	"time"
)

// limiter holds a token bucket per validator and one shared by everyone
// else. Buckets are keyed by the sender a message names, before its
// signature is checked, so that a flood costs no verification. The price: a
// forger who uses a validator's name spends that validator's budget. That
// costs liveness for a while, never safety, and consensus re-sends what was
// lost; memberlist does not tell the receiver a message's network source, so
// there is nothing better to key on.
type limiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	buckets map[string]*bucket
	unknown bucket
	urate   float64
	uburst  float64
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(c *Config) *limiter {
	return &limiter{
		rate:    c.RatePerSecond,
		burst:   float64(c.Burst),
		buckets: make(map[string]*bucket),
		unknown: bucket{tokens: float64(c.UnknownBurst)},
		urate:   c.UnknownRatePerSecond,
		uburst:  float64(c.UnknownBurst),
	}
}

// allow takes a token from the sender's bucket (the shared one when known is
// false) and reports whether there was one. Only validators get their own
// bucket, so the map is bounded by the names Keys ever accepted.
func (l *limiter) allow(from string, known bool, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !known {
		return l.unknown.take(l.urate, l.uburst, now)
	}
	b := l.buckets[from]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[from] = b
	}
	return b.take(l.rate, l.burst, now)
}

func (b *bucket) take(rate, burst float64, now time.Time) bool {
	if !b.last.IsZero() {
		if dt := now.Sub(b.last).Seconds(); dt > 0 {
			b.tokens = min(burst, b.tokens+dt*rate)
		}
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
