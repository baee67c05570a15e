//go:build !unix

package bench

// cpuBusy is not measured here: the CPU metrics come out as zero and are
// left out.
func cpuBusy() float64 { return 0 }
