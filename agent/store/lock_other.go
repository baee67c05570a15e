//go:build !unix

package store

import (
	"os"
	"time"
)

// lockFile opens path; bbolt takes the lock itself on this platform, so the
// page check runs before the lock here. pact's agent runs on Linux; this
// keeps the package building on any developer's machine.
func lockFile(path string, _ time.Duration) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR, 0)
}
