package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// newFlagSet returns the FlagSet for `pact name`. usageLine is the synopsis
// printed by -h above the flag defaults, e.g. "pact version".
//
// The set never prints on its own: parseFlags decides what goes where, so a
// bad flag costs the user one line on stderr instead of the whole flag list.
func newFlagSet(name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet("pact "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage:\n  %s\n", usageLine)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args into fs. When done is true the caller returns code
// at once: -h printed the usage to stdout (exit 0), or a bad flag printed one
// line to stderr (exit 2).
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return exitOK, false
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		fs.SetOutput(io.Discard)
		return exitOK, true
	default:
		fmt.Fprintf(stderr, "%s: %v; run 'pact help %s' for its flags\n", fs.Name(), err, strings.TrimPrefix(fs.Name(), "pact "))
		return exitUsage, true
	}
}

// usageError prints a one-line usage error for `pact cmd` and returns the
// usage exit code, so a command can write `return usageError(...)`.
func usageError(stderr io.Writer, cmd, format string, args ...any) int {
	fmt.Fprintf(stderr, "pact %s: %s; run 'pact help %s' for usage\n", cmd, fmt.Sprintf(format, args...), cmd)
	return exitUsage
}
