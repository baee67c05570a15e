package testbroker

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the broker when the test binary dies
// (a panic, a timeout, kill -9), so that no broker outlives its test holding
// the port.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
