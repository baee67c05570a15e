package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	crand "crypto/rand"

	"github.com/seed44533760/pact/agent"
	"github.com/seed44533760/pact/agent/hwspec"
	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus/quorum"
	"github.com/seed44533760/pact/hw/sim"
)

func init() {
	register(command{
		name:    "demo",
		summary: "run a whole cluster in one process and narrate it: discover, agree, act, eject",
		run:     runDemo,
	})
}

const demoUsage = "pact demo [--nodes 5] [--byzantine 1] [--duration 40s] [--mqtt-port 1883] [--seed N] [--quiet] [--keep]"

// Bounds and pacing of a demo run.
const (
	maxDemoNodes = 16
	// demoBlinks is how many blink requests the demo sends once the
	// capabilities are agreed, demoBlinkEvery apart.
	demoBlinks     = 3
	demoBlinkEvery = 2 * time.Second
	// demoDrain is how long the demo waits, once --duration is up, for the
	// outcomes of work already decided.
	demoDrain = 15 * time.Second
	// demoStopWithin bounds the agents' shutdown.
	demoStopWithin = 15 * time.Second
)

// demoOptions are the parsed flags.
type demoOptions struct {
	nodes, byzantine int
	duration         time.Duration
	mqttPort         int
	seed             uint64
	quiet, keep      bool
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", demoUsage)
	var o demoOptions
	fs.IntVar(&o.nodes, "nodes", 5, "number of agents, all genesis validators")
	fs.IntVar(&o.byzantine, "byzantine", 1, "how many of the last nodes equivocate; at most f, where nodes ≥ 3f+1")
	fs.DurationVar(&o.duration, "duration", 40*time.Second, "how long the cluster runs before the summary")
	fs.IntVar(&o.mqttPort, "mqtt-port", 1883, "port of the embedded MQTT broker on 127.0.0.1 (0: any free port)")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the simulated world's temperatures and sensor noise (default: a fresh one, printed)")
	fs.BoolVar(&o.quiet, "quiet", false, "print the summary only, not the events")
	fs.BoolVar(&o.keep, "keep", false, "keep the cluster's files and the agents' log after a run that passed (a failed run always keeps them)")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "demo", "takes no arguments, got %q", fs.Arg(0))
	}
	switch f := quorum.Faulty(o.nodes); {
	case o.nodes < 1 || o.nodes > maxDemoNodes:
		return usageError(stderr, "demo", "--nodes must be from 1 to %d, got %d", maxDemoNodes, o.nodes)
	case o.byzantine < 0:
		return usageError(stderr, "demo", "--byzantine must not be negative, got %d", o.byzantine)
	case o.byzantine > f:
		return usageError(stderr, "demo", "--byzantine %d needs at least %d nodes (n ≥ 3f+1); %d nodes tolerate %d", o.byzantine, 3*o.byzantine+1, o.nodes, f)
	case o.duration <= 0:
		return usageError(stderr, "demo", "--duration must be positive, got %s", o.duration)
	case o.mqttPort < 0 || o.mqttPort > 65535:
		return usageError(stderr, "demo", "--mqtt-port must be from 0 to 65535, got %d", o.mqttPort)
	}
	seedGiven := false
	fs.Visit(func(f *flag.Flag) { seedGiven = seedGiven || f.Name == "seed" })
	if !seedGiven {
		o.seed = freshSeed()
	}
	return (&demoRun{opts: o, stdout: &demoSyncWriter{w: stdout}, stderr: stderr}).run(ctx)
}

// demoSyncWriter serialises writes to stdout: the narration comes from the
// broker's goroutines, the header and summary from the run's.
type demoSyncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *demoSyncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// demoRun is one run of the demo, from the broker's start to the summary.
type demoRun struct {
	opts           demoOptions
	stdout, stderr io.Writer

	start   time.Time
	dir     string
	logFile *os.File
	log     *slog.Logger
	broker  *demoBroker
	cluster *demoCluster
	narr    atomic.Pointer[demoNarrator]
}

func (r *demoRun) run(ctx context.Context) int {
	r.start = time.Now()
	var err error
	if r.dir, err = os.MkdirTemp("", "pact-demo-"); err != nil {
		fmt.Fprintf(r.stderr, "pact demo: a directory for the cluster: %v\n", err)
		return exitFailure
	}
	if r.logFile, err = os.OpenFile(filepath.Join(r.dir, "agents.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		fmt.Fprintf(r.stderr, "pact demo: %v\n", err)
		_ = os.RemoveAll(r.dir)
		return exitFailure
	}
	r.log = slog.New(slog.NewTextHandler(r.logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))
	keep := r.opts.keep
	defer func() {
		r.logFile.Close()
		if !keep {
			_ = os.RemoveAll(r.dir)
		}
	}()

	topics := wire.Topics{Cluster: demoClusterName}
	brokerLog := slog.New(slog.NewTextHandler(r.logFile, &slog.HandlerOptions{Level: slog.LevelWarn})).With("component", "broker")
	r.broker, err = startDemoBroker(r.opts.mqttPort, topics.Requests(), r.observe, brokerLog)
	switch {
	case errors.Is(err, errDemoPortTaken):
		fmt.Fprintf(r.stderr, "pact demo: port %d on 127.0.0.1 is taken (a mosquitto running?); pass --mqtt-port with a free port, e.g. --mqtt-port 0 for any\n", r.opts.mqttPort)
		return exitUsage
	case err != nil:
		fmt.Fprintf(r.stderr, "pact demo: starting the MQTT broker on 127.0.0.1:%d: %v\n", r.opts.mqttPort, err)
		return exitFailure
	}
	defer r.broker.Close()

	if r.cluster, err = writeDemoCluster(r.dir, r.opts.nodes, r.opts.byzantine, r.broker.port); err != nil {
		fmt.Fprintf(r.stderr, "pact demo: writing the cluster: %v\n", err)
		return exitFailure
	}
	r.header()
	narr := newDemoNarrator(r.stdout, r.cluster.cast(), time.Now)
	narr.quiet = r.opts.quiet
	r.narr.Store(narr)

	agentsCtx, stopAgents := context.WithCancel(context.Background())
	defer stopAgents()
	running, err := r.startAgents(agentsCtx)
	if err != nil {
		stopAgents()
		running.wait(demoStopWithin)
		fmt.Fprintf(r.stderr, "pact demo: %v; the agents' log is in %s\n", err, r.logFile.Name())
		keep = true
		return exitFailure
	}

	workCtx, stopWork := context.WithCancel(ctx)
	var work sync.WaitGroup
	work.Add(1)
	go func() {
		defer work.Done()
		r.workload(workCtx, narr)
	}()

	interrupted := false
	timer := time.NewTimer(r.opts.duration)
	select {
	case <-ctx.Done():
		interrupted = true
		narr.Say(demoPhaseDemo, "interrupted: stopping")
	case <-timer.C:
	}
	timer.Stop()
	stopWork()
	work.Wait()
	if !interrupted {
		r.drain(ctx, narr)
	}

	narr.Mute()
	stopAgents()
	if late := running.wait(demoStopWithin); len(late) > 0 {
		fmt.Fprintf(r.stderr, "pact demo: %s did not stop within %s\n", strings.Join(late, ", "), demoStopWithin)
	}
	r.broker.Close()

	checks := narr.Summary(r.stdout, time.Since(r.start), r.opts.seed)
	for _, c := range checks {
		if !c.ok {
			keep = true
			fmt.Fprintf(r.stderr, "pact demo: broken invariant: %s (%s); the cluster's files and the agents' log are kept in %s\n", c.name, c.detail, r.dir)
			return exitFailure
		}
	}
	if keep {
		fmt.Fprintf(r.stdout, "the cluster's files and the agents' log are in %s\n", r.dir)
	}
	return exitOK
}

// observe is the broker's view of every message; before the narrator
// exists (nothing is published then) messages are dropped.
func (r *demoRun) observe(topic string, payload []byte) {
	if n := r.narr.Load(); n != nil {
		n.Observe(topic, payload)
	}
}

// header says what is about to run and how to watch it.
func (r *demoRun) header() {
	w, dc := r.stdout, r.cluster
	var advs []string
	for _, a := range dc.agents {
		if a.Adversary != nil {
			advs = append(advs, a.Node)
		}
	}
	who := "all honest"
	if len(advs) > 0 {
		who = fmt.Sprintf("%s %s", strings.Join(advs, ", "), map[bool]string{true: "equivocates", false: "equivocate"}[len(advs) == 1])
	}
	url := fmt.Sprintf("tcp://127.0.0.1:%d", r.broker.port)
	fmt.Fprintf(w, "pact demo: %s on 127.0.0.1 (%s), simulated hardware in one greenhouse, MQTT broker %s\n", demoCount(len(dc.agents), "agent"), who, url)
	fmt.Fprintf(w, "  world seed   %d (the greenhouse starts at 24 °C and warms; ventilate triggers above %g °C)\n", r.opts.seed, demoTriggerAbove)
	fmt.Fprintf(w, "  watch live   mosquitto_sub -h 127.0.0.1 -p %d -t 'pact/#' -v\n", r.broker.port)
	fmt.Fprintf(w, "               pact watch --mqtt %s\n", url)
	fmt.Fprintf(w, "  ask a node   pact status --config %s\n", nodeFile(dc.dir, 1))
	fmt.Fprintf(w, "  agents' log  %s\n", r.logFile.Name())
	fmt.Fprintf(w, "  runs for %s; Ctrl-C ends it early\n\n", r.opts.duration)
}

// demoAgents are the running agents.
type demoAgents struct {
	names []string
	done  []chan struct{}
}

// wait waits up to within for every agent to return, and names those that
// did not.
func (d *demoAgents) wait(within time.Duration) []string {
	deadline := time.After(within)
	var late []string
	for i, ch := range d.done {
		select {
		case <-ch:
		case <-deadline:
			late = append(late, d.names[i])
		}
	}
	return late
}

// startAgents builds every agent on the demo's shared world and runs each
// on a goroutine until ctx ends.
func (r *demoRun) startAgents(ctx context.Context) (*demoAgents, error) {
	running := &demoAgents{}
	world := sim.NewWorld(r.opts.seed, sim.WorldOptions{})
	narr := r.narr.Load()
	for _, acfg := range r.cluster.agents {
		board, err := sim.Open(hwspec.Spec(acfg), sim.Options{World: world})
		if err != nil {
			return running, fmt.Errorf("simulated hardware of %s: %w", acfg.Node, err)
		}
		a, err := agent.New(acfg, r.cluster.cluster, agent.Options{Logger: r.log, Board: board})
		if err != nil {
			_ = board.Close()
			return running, fmt.Errorf("starting %s: %w", acfg.Node, err)
		}
		done := make(chan struct{})
		running.names = append(running.names, acfg.Node)
		running.done = append(running.done, done)
		go func(name string) {
			defer close(done)
			if err := a.Run(ctx); err != nil {
				narr.Say(demoPhaseError, "%s stopped: %v", name, err)
				r.log.Error("agent stopped", "node", name, "err", err)
			}
		}(acfg.Node)
	}
	return running, nil
}

// workload asks the cluster for work once it knows what every honest node
// offers: demoBlinks operator-signed blink requests, published on the
// broker like `pact request` would.
func (r *demoRun) workload(ctx context.Context, narr *demoNarrator) {
	select {
	case <-ctx.Done():
		return
	case <-narr.CapabilitiesAgreed():
	}
	// Every honest agent subscribes to requests right after it connects;
	// give the last ones a moment, so that no node misses a request.
	honest := len(r.cluster.cast().honest())
	for wait := time.Now(); r.broker.RequestSubscribers() < honest && time.Since(wait) < 5*time.Second; {
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	topic := wire.Topics{Cluster: r.cluster.cluster.Name}.Request("blink")
	for i := 0; i < demoBlinks; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(demoBlinkEvery):
			}
		}
		req := &wire.Request{
			Header: wire.Header{TS: wire.Timestamp(time.Now())},
			ID:     demoRequestID(),
			Action: "blink",
			Params: map[string]string{"duration": "1s"},
		}
		if err := wire.SignRequest(r.cluster.cluster.Name, req, r.cluster.operator); err != nil {
			narr.Say(demoPhaseError, "signing request %s: %v", req.ID, err)
			return
		}
		payload, err := json.Marshal(req)
		if err == nil {
			err = r.broker.Publish(topic, payload)
		}
		if err != nil {
			narr.Say(demoPhaseError, "publishing request %s: %v", req.ID, err)
		}
	}
}

func demoRequestID() string {
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	return "r-" + hex.EncodeToString(b)
}

// drain waits, after --duration, for the outcomes of work already decided,
// so that the checks judge finished work.
func (r *demoRun) drain(ctx context.Context, narr *demoNarrator) {
	open := narr.Outstanding()
	if len(open) == 0 {
		return
	}
	narr.Say(demoPhaseDemo, "time is up; waiting up to %s for %d outstanding: %s", demoDrain, len(open), strings.Join(open, ", "))
	deadline := time.Now().Add(demoDrain)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		if len(narr.Outstanding()) == 0 {
			return
		}
	}
}
