//go:build race

package sim

// raceEnabled: the race detector makes a simulated run ten times slower,
// so the seed sweeps take fewer seeds under it.
const raceEnabled = true
