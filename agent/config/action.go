package config

import (
	"slices"
	"time"
)

// Action is one entry of the cluster's action catalogue: what a node must
// have to perform it, how it drives the output, and how its success is
// checked. The performer is chosen by agreed state among the nodes whose
// committed capabilities satisfy Needs.
type Action struct {
	// Needs selects the nodes that can perform the action.
	Needs Needs `yaml:"needs"`
	// Drive is what the performer does to the output.
	Drive Drive `yaml:"drive"`
	// Params are the parameters a request may set, by name. A parameter
	// named "duration" overrides Drive.Duration.
	Params map[string]Param `yaml:"params,omitempty"`
	// Deadline is how long the performer has, from the decision, to publish
	// its outcome before the work is reassigned. Longer than Drive.Duration.
	// Default 10s.
	Deadline time.Duration `yaml:"deadline"`
	// Cooldown is the least time between two assignments of the action.
	// Default 0 (none).
	Cooldown time.Duration `yaml:"cooldown,omitempty"`
	// Verify lists how an outcome is checked: readback (the performer reads
	// the pin back), witness (another node's input wired to the output
	// confirms it), sensor (a sensor reading must move, e.g. temperature
	// falls while a fan runs).
	Verify []VerifyKind `yaml:"verify,omitempty"`
	// Trigger requests the action by itself when an agreed sensor median
	// crosses a threshold. Optional.
	Trigger *Trigger `yaml:"trigger,omitempty"`
}

// Needs is what a node must have to perform an action. Empty fields match
// anything; at least one of Output and OutputKind is required.
type Needs struct {
	// Output is the name of the output the action drives ("led", "fan").
	Output string `yaml:"output,omitempty"`
	// OutputKind is the kind that output must have.
	OutputKind OutputKind `yaml:"output_kind,omitempty"`
	// Zone restricts performers to one zone.
	Zone string `yaml:"zone,omitempty"`
}

// Drive is how the performer drives the output.
type Drive struct {
	// Level is the logical level held for Duration: high (active) or low.
	// Default high.
	Level Level `yaml:"level"`
	// Duration is how long the level is held, unless the request's
	// "duration" parameter says otherwise. Default 1s.
	Duration time.Duration `yaml:"duration"`
}

// Param bounds one request parameter. Parameters are durations for now.
// Zero Min means no lower bound beyond 0, zero Max no upper bound, zero
// Default that the parameter has no default.
type Param struct {
	Min     time.Duration `yaml:"min,omitempty"`
	Max     time.Duration `yaml:"max,omitempty"`
	Default time.Duration `yaml:"default,omitempty"`
}

// Trigger requests an action when the agreed median of a kind of sensor
// reading rises past Above, and re-arms once it falls below Below
// (hysteresis, so a reading hovering at the threshold does not fire
// repeatedly).
type Trigger struct {
	// SensorKind is the kind of reading watched. Required.
	SensorKind SensorKind `yaml:"sensor_kind"`
	// Zone limits the median to the readings of one zone; empty means all.
	Zone string `yaml:"zone,omitempty"`
	// Above is the threshold that fires the trigger. Required.
	Above *float64 `yaml:"above"`
	// Below re-arms the trigger; less than Above. Default: Above.
	Below *float64 `yaml:"below,omitempty"`
}

// VerifyKind names a way of checking an outcome.
type VerifyKind string

const (
	VerifyReadback VerifyKind = "readback"
	VerifyWitness  VerifyKind = "witness"
	VerifySensor   VerifyKind = "sensor"
)

// VerifyKinds lists the valid VerifyKind values.
var VerifyKinds = []VerifyKind{VerifyReadback, VerifyWitness, VerifySensor}

// Level is a logical output level.
type Level string

const (
	High Level = "high"
	Low  Level = "low"
)

// Levels lists the valid Level values.
var Levels = []Level{High, Low}

// Defaults of Action fields.
const (
	DefaultDeadline      = 10 * time.Second
	DefaultDriveDuration = time.Second
)

// DefaultAction returns an Action with its defaults and no needs.
func DefaultAction() Action {
	a := Action{}
	a.ApplyDefaults()
	return a
}

// ApplyDefaults fills zero fields with their defaults. A zero deadline or
// drive duration means "default": neither can be zero.
func (a *Action) ApplyDefaults() {
	if a.Drive.Level == "" {
		a.Drive.Level = High
	}
	if a.Drive.Duration == 0 {
		a.Drive.Duration = DefaultDriveDuration
	}
	if a.Deadline == 0 {
		a.Deadline = DefaultDeadline
	}
}

// validateAction checks one catalogue entry; path is "actions.NAME".
func validateAction(r *report, path, name string, a Action) {
	if msg := checkName(name); msg != "" {
		r.errorf(path, "action name %s", msg)
	}
	a.ApplyDefaults() // a copy: zero means default, so only negatives are wrong

	needs := keyPath(path, "needs")
	if a.Needs.Output == "" && a.Needs.OutputKind == "" {
		r.errorf(needs, "say which output the action drives: set output (its name), output_kind, or both")
	}
	if a.Needs.Output != "" {
		if msg := checkName(a.Needs.Output); msg != "" {
			r.errorf(keyPath(needs, "output"), "output name %s", msg)
		}
	}
	if a.Needs.OutputKind != "" {
		if msg := oneOf(a.Needs.OutputKind, OutputKinds); msg != "" {
			r.errorf(keyPath(needs, "output_kind"), "%s", msg)
		}
	}
	if a.Needs.Zone != "" {
		if msg := checkName(a.Needs.Zone); msg != "" {
			r.errorf(keyPath(needs, "zone"), "zone %s", msg)
		}
	}

	drive := keyPath(path, "drive")
	if msg := oneOf(a.Drive.Level, Levels); msg != "" {
		r.errorf(keyPath(drive, "level"), "%s", msg)
	}
	if a.Drive.Duration < 0 {
		r.errorf(keyPath(drive, "duration"), "%v is negative", a.Drive.Duration)
	}

	if a.Deadline < 0 {
		r.errorf(keyPath(path, "deadline"), "%v is negative", a.Deadline)
	} else if a.Drive.Duration > 0 && a.Deadline <= a.Drive.Duration {
		r.errorf(keyPath(path, "deadline"), "%v leaves the performer no time: it must be longer than drive.duration (%v)", a.Deadline, a.Drive.Duration)
	}
	if a.Cooldown < 0 {
		r.errorf(keyPath(path, "cooldown"), "%v is negative", a.Cooldown)
	}

	for _, pname := range sortedKeys(a.Params) {
		validateParam(r, keyPath(keyPath(path, "params"), pname), pname, a.Params[pname])
	}

	var seen []VerifyKind
	for i, v := range a.Verify {
		p := indexPath(keyPath(path, "verify"), i)
		if msg := oneOf(v, VerifyKinds); msg != "" {
			r.errorf(p, "%s", msg)
			continue
		}
		if slices.Contains(seen, v) {
			r.errorf(p, "%q is listed twice", v)
		}
		seen = append(seen, v)
	}

	if a.Trigger != nil {
		validateTrigger(r, keyPath(path, "trigger"), a.Trigger)
	}
}

func validateParam(r *report, path, name string, p Param) {
	if !paramRE.MatchString(name) {
		r.errorf(path, "parameter name %q must be lower-case letters, digits and underscores, starting with a letter", name)
	}
	for _, f := range []struct {
		key string
		v   time.Duration
	}{{"min", p.Min}, {"max", p.Max}, {"default", p.Default}} {
		if f.v < 0 {
			r.errorf(keyPath(path, f.key), "%v is negative", f.v)
		}
	}
	if p.Max > 0 && p.Min > p.Max {
		r.errorf(keyPath(path, "min"), "min %v is above max %v", p.Min, p.Max)
	}
	if p.Default > 0 && (p.Default < p.Min || p.Max > 0 && p.Default > p.Max) {
		r.errorf(keyPath(path, "default"), "default %v is outside [%v, %v]", p.Default, p.Min, maxString(p.Max))
	}
}

func maxString(d time.Duration) string {
	if d == 0 {
		return "∞"
	}
	return d.String()
}

func validateTrigger(r *report, path string, t *Trigger) {
	if t.SensorKind == "" {
		r.errorf(keyPath(path, "sensor_kind"), "required: the kind of reading that fires the trigger (%s)", joinWords(SensorKinds))
	} else if msg := oneOf(t.SensorKind, SensorKinds); msg != "" {
		r.errorf(keyPath(path, "sensor_kind"), "%s", msg)
	}
	if t.Zone != "" {
		if msg := checkName(t.Zone); msg != "" {
			r.errorf(keyPath(path, "zone"), "zone %s", msg)
		}
	}
	if t.Above == nil {
		r.errorf(keyPath(path, "above"), "required: the median reading that fires the trigger")
	}
	if t.Above != nil && t.Below != nil && *t.Below >= *t.Above {
		r.errorf(keyPath(path, "below"), "%g must be less than above (%g): the trigger re-arms when the median falls below it", *t.Below, *t.Above)
	}
}
