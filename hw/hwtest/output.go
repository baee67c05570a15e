package hwtest

import (
	"sync"

	"github.com/seed44533760/pact/hw"
)

// Output is a fake hw.Output with no limits of its own: it records every
// level it was set to, and fails when told to. Its safe state is off. Safe
// for concurrent use.
type Output struct {
	name, kind string

	mu      sync.Mutex
	on      bool
	history []bool
	halts   int
	halted  bool
	failSet error
}

// NewOutput returns an Output that is off.
func NewOutput(name, kind string) *Output {
	return &Output{name: name, kind: kind}
}

func (o *Output) Name() string { return o.name }
func (o *Output) Kind() string { return o.kind }

// Set records on, or returns the error set by FailSets.
func (o *Output) Set(on bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failSet != nil {
		return o.failSet
	}
	o.on = on
	o.history = append(o.history, on)
	return nil
}

// Read returns the last level set.
func (o *Output) Read() (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.on, nil
}

// Halt switches the output off (its safe state) and counts the call; it
// succeeds even while FailSets is in force, as a separate safe path would.
func (o *Output) Halt() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.on = false
	o.halts++
	o.halted = true
	return nil
}

// Resume clears the halted mark.
func (o *Output) Resume() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.halted = false
}

// FailSets makes every following Set return err; nil restores them.
func (o *Output) FailSets(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failSet = err
}

// History is every level Set recorded, oldest first.
func (o *Output) History() []bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]bool(nil), o.history...)
}

// On reports the output's level now.
func (o *Output) On() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.on
}

// Halts is how many times Halt was called.
func (o *Output) Halts() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.halts
}

// Halted reports whether Halt was called since the last Resume.
func (o *Output) Halted() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.halted
}

var _ hw.Output = (*Output)(nil)
