//go:build unix

package bench

import "syscall"

// cpuBusy is the CPU time (user and system) this process has used so far,
// in seconds: with every node in one process, the whole cluster's.
func cpuBusy() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
