// Command pact is the single binary of a pact fleet: the agent that runs on
// every device, and the operator's and tester's tools around it.
//
// # Adding a command
//
// Each subcommand lives in its own file and registers itself from an init
// function; main.go never needs editing:
//
//	// sim.go
//	func init() {
//		register(command{
//			name:    "sim",
//			summary: "simulate the consensus core with Byzantine nodes",
//			run:     runSim,
//		})
//	}
//
//	func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
//		fs := newFlagSet("sim", "pact sim --nodes N --byzantine F --heights H --seed S [flags]")
//		nodes := fs.Int("nodes", 4, "number of validators")
//		if code, done := parseFlags(fs, args, stdout, stderr); done {
//			return code
//		}
//		if *nodes < 1 {
//			return usageError(stderr, "sim", "--nodes must be at least 1, got %d", *nodes)
//		}
//		...
//	}
//
// One FlagSet per command, from the standard library's flag package. A
// command writes its output to stdout and its errors to stderr as one line
// that names the problem and what to do about it, and returns the exit code:
// 0 success, 1 failure, 2 usage error (see usageError). It returns promptly
// when ctx is cancelled, which main does on SIGINT and SIGTERM. `pact help
// NAME` runs the command with -h, so parseFlags makes that work for free.
//
// Commands of the contract in DESIGN.md that are not built yet are absent
// rather than stubbed: `pact help` lists only what works.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// A command is one `pact NAME` subcommand.
type command struct {
	// name is the word that follows `pact` on the command line.
	name string
	// summary is the line `pact help` shows: lower case, no final period.
	summary string
	// run carries out the command with the arguments that follow its name
	// and returns the process exit code.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands holds every registered command by name. Files add to it only
// through register, from their init functions.
var commands = map[string]command{}

// register adds c to the command table. A nameless, run-less or duplicate
// command is a programming mistake, caught the first time the binary starts.
func register(c command) {
	if c.name == "" || c.summary == "" || c.run == nil {
		panic(fmt.Sprintf("pact: command %q registered without a name, summary or run function", c.name))
	}
	if _, dup := commands[c.name]; dup {
		panic(fmt.Sprintf("pact: command %q registered twice", c.name))
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches args (without the program name) to a command and returns
// the exit code. It is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "pact: no command given; run 'pact help' to list the commands")
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	case "-version", "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "pact: unknown command %q; run 'pact help' to list the commands\n", name)
		return exitUsage
	}
	return c.run(ctx, rest, stdout, stderr)
}
