package main

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/seed44533760/pact/consensus/sim"
)

func init() {
	register(command{
		name:    "sim",
		summary: "simulate the consensus core with Byzantine nodes and faults, and check it",
		run:     runSim,
	})
}

const simUsage = `pact sim --nodes N --byzantine F --heights H --seed S [--strategy NAME] [--drop P] [--partition SPEC] [--json] [flags]

Runs the real consensus and audit code for N validators over a deterministic
virtual network; the last F are adversaries. The nodes sample a shared
simulated world (a zone's temperature, one output pin each), send each other
signed readings and action outcomes, audit them (agent/audit), accuse what
disagrees, and eject a node that f+1 validators accuse. Afterwards it checks
that no two honest nodes decided differently, no honest node signed two
conflicting messages, every decision carries a valid certificate, no honest
node was ejected, every honest node caught up once the faults ended, and —
with at most f adversaries running equivocate, lie-sensor, false-outcome,
rogue-act or mixed —
that every one of them was ejected (the run goes on until they are, or until
--max-time). Exit status 1 if any of that failed; the same flags and seed
replay the run exactly.

Strategies:
%s

Partitions: "1-3|4-7@2s-6s" cuts nodes 1..3 off from 4..7 between 2s and 6s
of virtual time; several are separated by ";"; unnamed nodes form one more
group; without "@..." a partition lasts until the faults end.
Crashes: "node-2@3s-5s;4@8s" crashes node 2 at 3s and restarts it at 5s, and
node 4 at 8s until the faults end.`

func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	def := sim.DefaultConfig()
	var strategies strings.Builder
	for _, name := range sim.Strategies() {
		fmt.Fprintf(&strategies, "  %-13s %s\n", name, sim.StrategySummary(name))
	}
	fs := newFlagSet("sim", fmt.Sprintf(simUsage, strings.TrimSuffix(strategies.String(), "\n")))
	cfg := def
	fs.IntVar(&cfg.Nodes, "nodes", def.Nodes, "number of validators")
	fs.IntVar(&cfg.Byzantine, "byzantine", 1, "number of adversaries: the last nodes")
	fs.IntVar(&cfg.Heights, "heights", def.Heights, "heights every honest node must decide")
	seed := fs.Uint64("seed", 0, "seed of every random choice (default: a fresh one, printed)")
	fs.StringVar(&cfg.Strategy, "strategy", "", "what the adversaries do (default: random, or none with --byzantine 0)")
	fs.Float64Var(&cfg.Drop, "drop", 0, "probability that the network loses a delivery, while faults last")
	fs.Float64Var(&cfg.Duplicate, "dup", 0, "probability that a delivery arrives twice, while faults last")
	fs.StringVar(&cfg.Partition, "partition", "", "network partitions, e.g. '1-3|4-7@2s-6s'")
	fs.StringVar(&cfg.Crash, "crash", "", "crashes and restarts, e.g. 'node-2@3s-5s'")
	fs.DurationVar(&cfg.MinDelay, "min-delay", def.MinDelay, "shortest one-way network delay (virtual)")
	fs.DurationVar(&cfg.MaxDelay, "max-delay", def.MaxDelay, "longest one-way network delay (virtual)")
	fs.DurationVar(&cfg.Tick, "tick", def.Tick, "virtual time of one consensus tick; timeouts follow it and --max-delay")
	fs.DurationVar(&cfg.EntryEvery, "entry-every", def.EntryEvery, "how often a client submits an entry (virtual)")
	fs.DurationVar(&cfg.FaultsUntil, "faults-until", 0, "end the faults at this virtual time (default: once every running honest node decided --heights)")
	fs.DurationVar(&cfg.MaxVirtualTime, "max-time", 0, "give up at this virtual time, failing liveness or detection (default: 60s + 500ms per height, a minute more for lie-sensor)")
	fs.BoolVar(&cfg.FakeSignatures, "fake-sigs", false, "cheap fake signatures instead of Ed25519 (same checks, no cryptography)")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	narrate := fs.Bool("narrate", false, "tell the run as it happens: evidence, accusations, ejections, partitions, crashes, progress")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "sim", "takes no arguments, got %q", fs.Arg(0))
	}
	seedGiven := false
	fs.Visit(func(f *flag.Flag) { seedGiven = seedGiven || f.Name == "seed" })
	cfg.Seed = *seed
	if !seedGiven {
		cfg.Seed = freshSeed()
	}
	if err := cfg.Validate(); err != nil {
		return usageError(stderr, "sim", "%s", oneLine(err))
	}

	narration := stdout
	if *jsonOut {
		narration = stderr // keep stdout pure JSON
	}
	if *narrate {
		cfg.Events = narrator(narration, cfg.Heights)
	}
	if !*jsonOut || *narrate {
		fmt.Fprintf(narration, "pact sim: seed %d (replay: %s)\n", cfg.Seed, replayCommand(&cfg))
	}

	start := time.Now()
	res, err := sim.RunContext(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "pact sim: %v; replay with: %s\n", err, replayCommand(&cfg))
		return exitFailure
	}
	res.WallMS = time.Since(start).Milliseconds()

	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintf(stderr, "pact sim: writing the result: %v\n", err)
			return exitFailure
		}
	} else {
		printSimSummary(stdout, &cfg, res)
	}
	if !res.OK() {
		fmt.Fprintf(stderr, "pact sim: %d safety violations, liveness ok: %t, detection ok: %t; replay with: %s\n",
			res.SafetyViolations, res.LivenessOK, res.DetectionOK, replayCommand(&cfg))
		return exitFailure
	}
	return exitOK
}

// freshSeed draws a seed when the user gave none; it is printed, so the run
// can still be replayed.
func freshSeed() uint64 {
	var b [8]byte
	_, _ = crand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 1
}

// oneLine joins the problems of a validation error into one line.
func oneLine(err error) string {
	var parts []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			parts = append(parts, e.Error())
		}
	} else {
		parts = append(parts, err.Error())
	}
	return strings.Join(parts, "; ")
}

// replayCommand is the command line that repeats the run exactly.
func replayCommand(cfg *sim.Config) string {
	def := sim.DefaultConfig()
	parts := []string{"pact sim",
		"--nodes", strconv.Itoa(cfg.Nodes),
		"--byzantine", strconv.Itoa(cfg.Byzantine),
		"--heights", strconv.Itoa(cfg.Heights),
		"--seed", strconv.FormatUint(cfg.Seed, 10),
	}
	if cfg.Strategy != "" {
		parts = append(parts, "--strategy", cfg.Strategy)
	}
	float := func(flag string, v float64) {
		if v != 0 {
			parts = append(parts, flag, strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	float("--drop", cfg.Drop)
	float("--dup", cfg.Duplicate)
	spec := func(flag, v string) {
		if v != "" {
			parts = append(parts, flag, "'"+strings.ReplaceAll(v, "'", `'\''`)+"'")
		}
	}
	spec("--partition", cfg.Partition)
	spec("--crash", cfg.Crash)
	dur := func(flag string, v, d time.Duration) {
		if v != d {
			parts = append(parts, flag, v.String())
		}
	}
	dur("--min-delay", cfg.MinDelay, def.MinDelay)
	dur("--max-delay", cfg.MaxDelay, def.MaxDelay)
	dur("--tick", cfg.Tick, def.Tick)
	dur("--entry-every", cfg.EntryEvery, def.EntryEvery)
	dur("--faults-until", cfg.FaultsUntil, 0)
	dur("--max-time", cfg.MaxVirtualTime, 0)
	if cfg.FakeSignatures {
		parts = append(parts, "--fake-sigs")
	}
	return strings.Join(parts, " ")
}

// narrator prints notable events as they happen, and progress every tenth
// of the run.
func narrator(w io.Writer, heights int) func(sim.Event) {
	every := uint64(max(1, heights/10))
	return func(e sim.Event) {
		if e.Kind == "progress" && e.Height%every != 0 {
			return
		}
		fmt.Fprintf(w, "[%9.3fs] %-13s %s\n", e.At.Seconds(), e.Kind, e.Text)
	}
}

func printSimSummary(w io.Writer, cfg *sim.Config, r *sim.Result) {
	advs := "no adversaries"
	if r.Byzantine > 0 {
		var list []string
		for i := r.Nodes - r.Byzantine + 1; i <= r.Nodes; i++ {
			name := string(sim.NodeName(i))
			list = append(list, name+" "+r.Adversaries[name])
		}
		advs = fmt.Sprintf("%d adversaries (%s)", r.Byzantine, strings.Join(list, ", "))
	}
	fmt.Fprintf(w, "%d nodes tolerating %d faulty, %s, seed %d\n", r.Nodes, r.Tolerated, advs, r.Seed)
	if r.Byzantine > r.Tolerated {
		fmt.Fprintf(w, "  note      more adversaries than %d nodes tolerate: violations are the protocol's limit\n", r.Nodes)
	}
	sig := "Ed25519"
	if r.FakeSignatures {
		sig = "fake signatures"
	}
	fmt.Fprintf(w, "  decided   %d of %d heights on every honest node in %.1fs virtual, %.2fs wall (%s, %d verifications)\n",
		r.DecidedHeights, r.TargetHeights, float64(r.VirtualTimeMS)/1000, float64(r.WallMS)/1000, sig, r.SignatureVerifications)
	fmt.Fprintf(w, "  rounds    %d heights in round 0, %d needed more (highest round %d)\n", r.Rounds.Round0, r.Rounds.Later, r.Rounds.MaxRound)
	if len(r.Ejections) == 0 {
		fmt.Fprintln(w, "  ejected   nobody")
	} else {
		var ej []string
		for _, e := range r.Ejections {
			why := e.Reason
			if len(e.Accusers) > 0 {
				why = fmt.Sprintf("%s by %s of %s", e.Reason, strings.Join(e.Accusers, ", "), strings.Join(e.Grounds, ", "))
			}
			ej = append(ej, fmt.Sprintf("%s at height %d (%.1fs, %s)", e.Node, e.Height, float64(r.EjectedAtMS[e.Node])/1000, why))
		}
		fmt.Fprintf(w, "  ejected   %s\n", strings.Join(ej, "; "))
	}
	rp := r.Reports
	fmt.Fprintf(w, "  reports   %d readings, %d outcomes, %d refused; %d accusations made, %d decided, %d by an honest node of an honest node\n",
		rp.Readings, rp.Outcomes, rp.Refused, rp.Accusations, rp.Decided, rp.HonestAgainstHonest)
	m := r.Messages
	fmt.Fprintf(w, "  network   %d sent, %d delivered, %d dropped, %d duplicated, %d cut by partitions, %d to crashed nodes\n",
		m.Sent, m.Delivered, m.Dropped, m.Duplicated, m.Blocked, m.ToCrashed)
	if f := r.Faults; f.Crashes+f.Partitions > 0 {
		fmt.Fprintf(w, "  faults    %d partitions, %d crashes, %d restarts; healed at %.1fs\n", f.Partitions, f.Crashes, f.Restarts, float64(f.HealMS)/1000)
	}
	c := r.Consensus
	fmt.Fprintf(w, "  refused   %d bad signatures, %d undecodable, %d malformed, %d bad certificates, %d unknown senders; %d equivocations seen\n",
		c.BadSignatures, m.Undecodable, c.Malformed, c.BadCertificates, c.UnknownSenders, c.Equivocations)
	if r.OK() {
		fmt.Fprintf(w, "  checks    ok: agreement, no double signing, %d certificates valid, no honest node ejected, liveness, detection\n", r.CertificatesChecked)
		return
	}
	fmt.Fprintf(w, "  checks    FAILED: %d safety violations, liveness ok: %t, detection ok: %t\n", r.SafetyViolations, r.LivenessOK, r.DetectionOK)
	for _, v := range r.Violations {
		fmt.Fprintf(w, "    - %s\n", v)
	}
}
