//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// lockFile opens path for reading and writing and takes the exclusive flock
// bbolt itself would take, waiting up to timeout. Taking it before bbolt
// does lets the store check the file's pages while no other agent can be
// writing them; bbolt then re-locks the same open file, which succeeds.
func lockFile(path string, timeout time.Duration) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			_ = f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, errBusy
			}
			return nil, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
