//go:build !linux

package testbroker

import "os/exec"

// dieWithParent does nothing where the kernel cannot tie a child's life to
// its parent's; a broker may then outlive a test binary that dies.
func dieWithParent(*exec.Cmd) {}
