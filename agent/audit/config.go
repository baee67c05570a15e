package audit

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/seed44533760/pact/hw"
)

// Config says how readings are bucketed and when a node's readings count
// as inconsistent with its zone's peers. Start from DefaultConfig. Every
// validator must judge accusations with the same Config (it belongs in the
// cluster file): Check with a stricter one rejects accusations that a
// laxer one produced.
type Config struct {
	// Window is how far back Suspects looks, and how far apart in time the
	// evidence of one accusation may lie. Readings older than the window are
	// dropped. It must be a whole number of Buckets. Default 60s.
	Window time.Duration

	// Bucket is the time slot in which every node's readings are compared:
	// bucket i holds the readings whose ts lies in [i×Bucket, (i+1)×Bucket)
	// since the Unix epoch, so every validator cuts time the same way.
	// Match it to the agent's sampling interval. Default 2s.
	Bucket time.Duration

	// MaxSkew is how far past the caller's clock a payload's ts may lie
	// before Add refuses it: the nodes' clocks differ a little, and a
	// payload from far in the future would only occupy memory. Default 5s.
	MaxSkew time.Duration

	// MinPeers is how many other nodes of the zone must have a value in a
	// bucket before a node's value in it is judged at all. Below three, one
	// lying peer could drag the reference. Default 3, at least 3.
	MinPeers int

	// MinSamples is how many judged buckets within Window a node needs
	// before it can become a suspect: one odd sample never accuses anyone.
	// Default 10, at least 3.
	MinSamples int

	// OutlierShare is the share of a node's judged buckets in the window
	// that must be outliers to make it a suspect. Default 0.8, above 0.5.
	OutlierShare float64

	// K is how many robust spreads (scaled MAD of the peers) a value may
	// lie from the peers' median before it is an outlier. Default 4.
	K float64

	// Kinds are the sensor kinds that are compared between the nodes of a
	// zone, and how. A kind that is not listed is never judged: a SoC
	// temperature belongs to its board, not its zone, and a digital input
	// says nothing its neighbours must agree with.
	Kinds map[string]Rule

	// MaxPerBucket is how many payloads of one node one bucket may hold;
	// Add refuses more (a node sampling every Bucket sends one, two when its
	// clock catches up). It bounds the memory a flooding node can take.
	// Default 4.
	MaxPerBucket int

	// MaxReadings is the most readings one payload may hold (the agreed
	// state's own limit is 32). Default 32.
	MaxReadings int

	// MaxEvidence is the most outlier buckets an accusation carries (the
	// most recent ones), each with the accused's and the peers' payloads.
	// It must reach OutlierShare×MinSamples, the fewest outliers a suspect
	// can have. Default 20.
	MaxEvidence int
}

// Rule is how one sensor kind is compared.
type Rule struct {
	// Floor is the least robust spread (scaled MAD) assumed for the peers:
	// peers that agree to a hundredth of a degree must not turn a few
	// tenths of honest noise into an outlier.
	Floor float64
	// Tolerance is the least distance from the peers' median that counts as
	// an outlier, whatever the spread: honest sensors are only so accurate,
	// and a zone is never quite uniform. It must be positive.
	Tolerance float64
	// Unit is how the values are written in a Summary.
	Unit string
}

// DefaultConfig returns settings for BME280-class sensors sampled every two
// seconds, compared within zones a few metres across.
func DefaultConfig() Config {
	return Config{
		Window:       60 * time.Second,
		Bucket:       2 * time.Second,
		MaxSkew:      5 * time.Second,
		MinPeers:     3,
		MinSamples:   10,
		OutlierShare: 0.8,
		K:            4,
		Kinds: map[string]Rule{
			string(hw.Temperature): {Floor: 0.5, Tolerance: 2, Unit: "°C"},
			string(hw.Humidity):    {Floor: 3, Tolerance: 10, Unit: "%RH"},
			string(hw.Pressure):    {Floor: 1, Tolerance: 5, Unit: "hPa"},
		},
		MaxPerBucket: 4,
		MaxReadings:  32,
		MaxEvidence:  20,
	}
}

// FieldError is one problem Validate found, naming the field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return "audit: " + e.Field + ": " + e.Msg }

// Unwrap makes every FieldError match ErrConfig.
func (e *FieldError) Unwrap() error { return ErrConfig }

// Validate reports every problem at once (errors.Join of *FieldError).
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Bucket <= 0 {
		bad("Bucket", "must be positive")
	}
	switch {
	case c.Window <= 0:
		bad("Window", "must be positive")
	case c.Bucket > 0 && c.Window%c.Bucket != 0:
		bad("Window", "%v is not a whole number of buckets (%v)", c.Window, c.Bucket)
	case c.Bucket > 0 && c.MinSamples > 0 && int64(c.Window/c.Bucket) < int64(c.MinSamples):
		bad("Window", "%v holds %d buckets, fewer than MinSamples (%d): nobody could ever be a suspect", c.Window, c.Window/c.Bucket, c.MinSamples)
	}
	if c.MaxSkew < 0 {
		bad("MaxSkew", "must not be negative")
	}
	if c.MinPeers < 3 {
		bad("MinPeers", "must be at least 3 (fewer cannot outvote one lying peer), got %d", c.MinPeers)
	}
	if c.MinSamples < 3 {
		bad("MinSamples", "must be at least 3 (never accuse on one odd sample), got %d", c.MinSamples)
	}
	if !(c.OutlierShare > 0.5 && c.OutlierShare <= 1) {
		bad("OutlierShare", "must be above 0.5 and at most 1, got %v", c.OutlierShare)
	}
	if !(c.K > 0) || math.IsInf(c.K, 0) {
		bad("K", "must be a positive number, got %v", c.K)
	}
	for _, kind := range slices.Sorted(maps.Keys(c.Kinds)) {
		r := c.Kinds[kind]
		if kind == "" {
			bad("Kinds", "a kind has no name")
		}
		if !(r.Floor >= 0) || math.IsInf(r.Floor, 0) {
			bad("Kinds["+kind+"].Floor", "must be a non-negative number, got %v", r.Floor)
		}
		if !(r.Tolerance > 0) || math.IsInf(r.Tolerance, 0) {
			bad("Kinds["+kind+"].Tolerance", "must be a positive number, got %v", r.Tolerance)
		}
	}
	if c.MaxPerBucket < 1 {
		bad("MaxPerBucket", "must be at least 1")
	}
	if c.MaxReadings < 1 {
		bad("MaxReadings", "must be at least 1")
	}
	if need := c.minOutliers(); c.MaxEvidence < need {
		bad("MaxEvidence", "must be at least %d (OutlierShare×MinSamples, the fewest outliers of a suspect), got %d", need, c.MaxEvidence)
	}
	return errors.Join(errs...)
}

// windowBuckets is Window in buckets.
func (c *Config) windowBuckets() int64 { return int64(c.Window / c.Bucket) }

// minOutliers is the fewest outliers a suspect can have.
func (c *Config) minOutliers() int {
	return int(math.Ceil(c.OutlierShare*float64(c.MinSamples) - 1e-9))
}

// suspicious reports whether outliers of judged buckets make a suspect.
func (c *Config) suspicious(judged, outliers int) bool {
	return judged >= c.MinSamples && float64(outliers) >= c.OutlierShare*float64(judged)-1e-9
}
