//go:build !unix

package consensus_test

import "time"

// benchCPUTime reports that process CPU time is not measured here; the
// benchmarks then use the wall time of their single-goroutine loop, which
// misses only the garbage collector's background work.
func benchCPUTime() (time.Duration, bool) { return 0, false }
