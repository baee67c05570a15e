// Package version holds what a pact binary knows about its own build.
//
// Version and Commit are stamped by the Makefile with
// -ldflags "-X github.com/seed44533760/pact/internal/version.Version=..."; a
// plain `go build` or `go test` leaves the defaults below, which say so.
package version

import (
	"fmt"
	"runtime"
)

var (
	// Version is `git describe --tags --always --dirty` at build time.
	Version = "dev"
	// Commit is the abbreviated hash of the commit the binary was built from.
	Commit = "unknown"
)

// String describes the running binary in one line, e.g.
// "pact v0.1.0 (commit 1a2b3c4, go1.26.8, linux/arm64)".
func String() string {
	return fmt.Sprintf("pact %s (commit %s, %s, %s/%s)",
		Version, Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
