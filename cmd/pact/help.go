package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

func init() {
	register(command{
		name:    "help",
		summary: "list the commands, or show one command's flags: pact help COMMAND",
		run:     runHelp,
	})
}

func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch len(args) {
	case 0:
		printUsage(stdout)
		return exitOK
	case 1:
		name := args[0]
		if name == "help" {
			printUsage(stdout)
			return exitOK
		}
		c, ok := commands[name]
		if !ok {
			return usageError(stderr, "help", "unknown command %q", name)
		}
		// Every command answers -h with its usage on stdout (parseFlags).
		return c.run(ctx, []string{"-h"}, stdout, stderr)
	default:
		return usageError(stderr, "help", "expected at most one command name, got %d arguments", len(args))
	}
}

// printUsage writes the top-level help: what pact is and every registered
// command, sorted by name.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `pact is an agent for fleets of Raspberry Pi class devices that agree on
coordinated actions even with lying peers among them.

Usage:
  pact COMMAND [flags] [arguments]

Commands:
`)
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	slices.Sort(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, name := range names {
		fmt.Fprintf(tw, "  %s\t%s\n", name, commands[name].summary)
	}
	tw.Flush()
	fmt.Fprint(w, `
Run 'pact help COMMAND' for a command's flags.
Exit status: 0 success, 1 failure, 2 usage error.
`)
}
