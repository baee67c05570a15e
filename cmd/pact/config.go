package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
)

func init() {
	register(command{
		name:    "config",
		summary: "check configuration files and handle keys: pact config validate|pubkey|keygen",
		run:     runConfig,
	})
}

const configUsage = `pact config validate FILE...   check agent or cluster files; an agent file's cluster file too
  pact config pubkey KEYFILE     print the base64 public key of an identity or operator key
  pact config keygen KEYFILE     create a new Ed25519 key (mode 0600) and print its public key`

func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("config", configUsage)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(stderr, "config", "expected validate, pubkey or keygen")
	}
	sub, rest := fs.Arg(0), fs.Args()[1:]
	switch sub {
	case "validate":
		return runConfigValidate(ctx, rest, stdout, stderr)
	case "pubkey":
		return runConfigPubkey(rest, stdout, stderr)
	case "keygen":
		return runConfigKeygen(rest, stdout, stderr)
	}
	return usageError(stderr, "config", "unknown subcommand %q: expected validate, pubkey or keygen", sub)
}

// runConfigValidate checks each file and exits 2 if any has a problem.
// Problems and warnings go to stderr, one a line, as FILE:LINE: KEY: msg;
// "FILE: ok" goes to stdout for every file that passed.
func runConfigValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("config", "pact config validate FILE...")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(stderr, "config", "validate needs at least one file: an agent file (pact.yaml) or a cluster file")
	}
	code := exitOK
	for _, file := range fs.Args() {
		if ctx.Err() != nil {
			return exitFailure
		}
		if !validateFile(file, stdout, stderr) {
			code = exitUsage
		}
	}
	return code
}

// validateFile checks one file and reports whether it is free of errors.
func validateFile(file string, stdout, stderr io.Writer) bool {
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "pact config validate: %v\n", err)
		return false
	}
	kind, err := config.DetectKind(data)
	if err != nil {
		var p *config.Problem
		if errors.As(err, &p) {
			p.File = file
			fmt.Fprintln(stderr, p)
		} else {
			fmt.Fprintf(stderr, "%s: %v: an agent file has node:, a cluster file has cluster: and validators:\n", file, err)
		}
		return false
	}

	var (
		a        *config.Agent
		c        *config.Cluster
		problems []*config.Problem
	)
	switch kind {
	case config.KindAgent:
		a, c, err = config.Load(file)
		if a != nil && c != nil {
			err = errors.Join(err, checkKeyFile(a, c))
		}
	case config.KindCluster:
		c, err = config.LoadCluster(file)
	}
	problems = config.Problems(err)
	if err != nil && len(problems) == 0 {
		fmt.Fprintf(stderr, "pact config validate: %v\n", err)
		return false
	}
	for _, w := range config.Warnings(a, c) {
		fmt.Fprintln(stderr, w)
	}
	for _, p := range problems {
		fmt.Fprintln(stderr, p)
	}
	if len(problems) > 0 {
		return false
	}
	fmt.Fprintf(stdout, "%s: ok\n", file)
	if kind == config.KindAgent {
		fmt.Fprintf(stdout, "%s: ok\n", c.File())
	}
	return true
}

// checkKeyFile compares the node's identity key, if it exists yet, with the
// genesis. A missing key is fine: the agent creates it on first start.
func checkKeyFile(a *config.Agent, c *config.Cluster) error {
	key, err := identity.Load(a.KeyFile)
	switch {
	case err == nil:
		return config.CheckIdentity(a, c, key.Public().(ed25519.PublicKey))
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case errors.Is(err, fs.ErrPermission):
		// Not ours to read (validate as another user than pact's): skip.
		return nil
	}
	return a.ProblemAt("key_file", err.Error())
}

func runConfigPubkey(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("config", "pact config pubkey KEYFILE")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, "config", "pubkey needs exactly one key file, got %d arguments", fs.NArg())
	}
	key, err := identity.Load(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "pact config pubkey: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, identity.Public(key))
	return exitOK
}

func runConfigKeygen(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("config", "pact config keygen KEYFILE")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, "config", "keygen needs exactly one key file, got %d arguments", fs.NArg())
	}
	key, err := identity.Create(fs.Arg(0))
	if errors.Is(err, identity.ErrExists) {
		fmt.Fprintf(stderr, "pact config keygen: %v; keys are never overwritten: move it away first if you really mean to replace it\n", err)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(stderr, "pact config keygen: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, identity.Public(key))
	return exitOK
}
