//go:build unix

package consensus_test

import (
	"syscall"
	"time"
)

// benchCPUTime returns the user and system CPU time the whole process has
// used: the benchmark's goroutine plus the garbage collector's workers on
// other threads, which wall time of one goroutine would miss.
func benchCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
