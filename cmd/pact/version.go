package main

import (
	"context"
	"fmt"
	"io"

	"github.com/seed44533760/pact/internal/version"
)

func init() {
	register(command{
		name:    "version",
		summary: "print the version, commit, Go version and GOOS/GOARCH",
		run:     runVersion,
	})
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "pact version")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "version", "takes no arguments, got %q", fs.Arg(0))
	}
	fmt.Fprintln(stdout, version.String())
	return exitOK
}
