package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/hwspec"
	"github.com/seed44533760/pact/hw"
	"github.com/seed44533760/pact/hw/periph"
)

func init() {
	register(command{
		name:    "hw",
		summary: "look at and halt this node's hardware: pact hw probe|halt",
		run:     runHW,
	})
}

const hwUsage = `pact hw probe [--config FILE] [--json] [--timeout 5s]   what the hardware layer finds: drivers, sensors with a live reading, outputs, inputs
  pact hw halt [--config FILE]                             drive every output to its safe level (systemd's ExecStopPost=)`

func runHW(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("hw", hwUsage)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(stderr, "hw", "expected probe or halt")
	}
	sub, rest := fs.Arg(0), fs.Args()[1:]
	switch sub {
	case "probe":
		return runHWProbe(ctx, rest, stdout, stderr)
	case "halt":
		return runHWHalt(ctx, rest, stdout, stderr)
	}
	return usageError(stderr, "hw", "unknown subcommand %q: expected probe or halt", sub)
}

// loadHardware reads the agent file for `pact hw SUB`. A file with
// problems is refused with each problem on its own line, as `pact config
// validate` prints them: ok false and the exit code to return.
func loadHardware(sub, path string, stderr io.Writer) (a *config.Agent, cluster string, code int, ok bool) {
	a, err := config.LoadAgent(path)
	if a == nil {
		fmt.Fprintf(stderr, "pact hw %s: %v\n", sub, err)
		return nil, "", exitUsage, false
	}
	if ps := config.Problems(err); len(ps) > 0 {
		for _, p := range ps {
			fmt.Fprintln(stderr, p)
		}
		fmt.Fprintf(stderr, "pact hw %s: %s has %d problem(s); fix them and run 'pact config validate %s'\n", sub, path, len(ps), path)
		return nil, "", exitUsage, false
	} else if err != nil {
		fmt.Fprintf(stderr, "pact hw %s: %v\n", sub, err)
		return nil, "", exitUsage, false
	}
	if a.Hardware.Driver == config.DriverSim {
		// The simulated world is named after the cluster. A cluster file
		// that does not load only changes which world is simulated.
		if c, _ := config.LoadCluster(a.ClusterFile); c != nil {
			cluster = c.Name
		}
	}
	return a, cluster, exitOK, true
}

// openError reports a board that would not open: a spec mistake is the
// file's fault (exit 2, one problem a line), anything else the machine's.
func openError(sub, path string, err error, stderr io.Writer) int {
	var se *periph.SpecError
	if errors.As(err, &se) {
		for _, p := range se.Problems {
			fmt.Fprintf(stderr, "%s: %v\n", path, p)
		}
		fmt.Fprintf(stderr, "pact hw %s: the hardware section of %s cannot be driven as written\n", sub, path)
		return exitUsage
	}
	fmt.Fprintf(stderr, "pact hw %s: %v\n", sub, err)
	return exitFailure
}

// probeReport is `pact hw probe --json`.
type probeReport struct {
	Node    string        `json:"node"`
	Driver  string        `json:"driver"`
	Drivers probeDrivers  `json:"drivers"`
	Sensors []probeSensor `json:"sensors"`
	Outputs []probeOutput `json:"outputs"`
	Inputs  []probeInput  `json:"inputs"`
	// Problems are the configured devices that do not work, by key path:
	// they make the exit code 1.
	Problems map[string]string `json:"problems"`
}

// probeDrivers are the host drivers the board's driver loaded, skipped or
// failed. Devices of the agent file that failed are not here but on their
// own entries, and in problems.
type probeDrivers struct {
	Loaded  []string          `json:"loaded"`
	Skipped map[string]string `json:"skipped"`
	Failed  map[string]string `json:"failed"`
}

type probeSensor struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	Driver string   `json:"driver"`
	Value  *float64 `json:"value"`
	Unit   string   `json:"unit"`
	Error  string   `json:"error,omitempty"`
}

type probeOutput struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Pin   string `json:"pin"`
	On    *bool  `json:"on"`
	Error string `json:"error,omitempty"`
}

type probeInput struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Pin     string `json:"pin"`
	Level   string `json:"level,omitempty"`
	Watches string `json:"watches,omitempty"`
	Error   string `json:"error,omitempty"`
}

func runHWProbe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("hw", "pact hw probe [--config FILE] [--json] [--timeout 5s]")
	cfgPath := fs.String("config", defaultAgentConfig, "the agent file whose hardware section to probe")
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	timeout := fs.Duration("timeout", 5*time.Second, "longest wait for one sensor reading")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "hw", "probe takes no arguments, got %q", fs.Args())
	}
	if *timeout <= 0 {
		return usageError(stderr, "hw", "--timeout must be positive, got %v", *timeout)
	}
	a, cluster, code, ok := loadHardware("probe", *cfgPath, stderr)
	if !ok {
		return code
	}
	// Observe: probing never moves an output, and leaves a running agent's
	// pins alone (they are busy, and probe says so).
	board, err := hwspec.Open(a, hwspec.Options{Cluster: cluster, Observe: true})
	if err != nil {
		return openError("probe", *cfgPath, err, stderr)
	}
	defer board.Close()

	rep := probe(ctx, a, board, *timeout)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		printProbe(stdout, rep)
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(stderr, "pact hw probe: %d configured device(s) do not work: %s\n", len(rep.Problems), strings.Join(slices.Sorted(maps.Keys(rep.Problems)), ", "))
		return exitFailure
	}
	return exitOK
}

// probe looks at every device of a's hardware section on board.
func probe(ctx context.Context, a *config.Agent, board hw.Board, timeout time.Duration) probeReport {
	spec := hwspec.Spec(a)
	r := board.Report()
	missing := hwspec.Missing(spec, board)
	rep := probeReport{
		Node:     a.Node,
		Driver:   r.Driver,
		Drivers:  probeDrivers{Loaded: nonNil(r.Loaded), Skipped: map[string]string{}, Failed: map[string]string{}},
		Sensors:  []probeSensor{},
		Outputs:  []probeOutput{},
		Inputs:   []probeInput{},
		Problems: map[string]string{},
	}
	maps.Copy(rep.Drivers.Skipped, r.Skipped)
	for name, why := range r.Failed {
		if _, device := missing[name]; !device {
			rep.Drivers.Failed[name] = why
		}
	}
	maps.Copy(rep.Problems, missing)

	for i, s := range spec.Sensors {
		path := fmt.Sprintf("hardware.sensors[%d]", i)
		ps := probeSensor{Name: s.Name, Kind: string(s.Kind), Driver: s.Driver, Unit: s.Unit}
		if why, bad := missing[path]; bad {
			ps.Error = why
		} else if sn, err := board.Sensor(s.Name); err == nil {
			rctx, cancel := context.WithTimeout(ctx, timeout)
			reading, err := sn.Sense(rctx)
			cancel()
			ps.Unit = sn.Unit()
			if err != nil {
				ps.Error = err.Error()
				rep.Problems[path] = err.Error()
			} else {
				v := reading.Value
				ps.Value, ps.Unit = &v, reading.Unit
			}
		}
		rep.Sensors = append(rep.Sensors, ps)
	}
	for i, o := range spec.Outputs {
		path := fmt.Sprintf("hardware.outputs[%d]", i)
		po := probeOutput{Name: o.Name, Kind: o.Kind, Pin: o.Pin}
		if why, bad := missing[path]; bad {
			po.Error = why
		} else if out, err := board.Output(o.Name); err == nil {
			if on, err := out.Read(); err != nil {
				po.Error = err.Error()
				rep.Problems[path] = err.Error()
			} else {
				po.On = &on
			}
		}
		rep.Outputs = append(rep.Outputs, po)
	}
	for i, in := range spec.Inputs {
		path := fmt.Sprintf("hardware.inputs[%d]", i)
		pi := probeInput{Name: in.Name, Kind: in.Kind, Pin: in.Pin, Watches: in.Watches}
		if why, bad := missing[path]; bad {
			pi.Error = why
		} else if input, err := board.Input(in.Name); err == nil {
			if high, err := input.Read(); err != nil {
				pi.Error = err.Error()
				rep.Problems[path] = err.Error()
			} else {
				pi.Level = levelWord(high)
			}
		}
		rep.Inputs = append(rep.Inputs, pi)
	}
	return rep
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func levelWord(high bool) string {
	if high {
		return "high"
	}
	return "low"
}

func printProbe(w io.Writer, rep probeReport) {
	fmt.Fprintf(w, "node     %s, hardware driver %s\n", rep.Node, rep.Driver)
	if len(rep.Drivers.Loaded) == 0 {
		fmt.Fprintln(w, "drivers  loaded: none")
	} else {
		fmt.Fprintln(w, "drivers  loaded:")
		for _, d := range rep.Drivers.Loaded {
			fmt.Fprintf(w, "           %s\n", d)
		}
	}
	printReasons(w, "skipped", rep.Drivers.Skipped)
	printReasons(w, "failed", rep.Drivers.Failed)
	if len(rep.Sensors) > 0 {
		fmt.Fprintln(w, "sensors")
		for _, s := range rep.Sensors {
			reading := "ERROR " + s.Error
			if s.Value != nil {
				reading = strings.TrimSpace(fmt.Sprintf("%.2f %s", *s.Value, s.Unit))
			}
			fmt.Fprintf(w, "  %-12s %-16s %-8s %s\n", s.Name, s.Kind, s.Driver, reading)
		}
	}
	if len(rep.Outputs) > 0 {
		fmt.Fprintln(w, "outputs")
		for _, o := range rep.Outputs {
			state := "ERROR " + o.Error
			if o.On != nil {
				state = "off"
				if *o.On {
					state = "on"
				}
			}
			fmt.Fprintf(w, "  %-12s %-16s %-8s %s\n", o.Name, o.Kind, o.Pin, state)
		}
	}
	if len(rep.Inputs) > 0 {
		fmt.Fprintln(w, "inputs")
		for _, in := range rep.Inputs {
			state := "ERROR " + in.Error
			if in.Level != "" {
				state = in.Level
				if in.Watches != "" {
					state += "  (watches " + in.Watches + ")"
				}
			}
			fmt.Fprintf(w, "  %-12s %-16s %-8s %s\n", in.Name, in.Kind, in.Pin, state)
		}
	}
}

func printReasons(w io.Writer, what string, reasons map[string]string) {
	if len(reasons) == 0 {
		return
	}
	names := make([]string, 0, len(reasons))
	for n := range reasons {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "         %s:\n", what)
	for _, n := range names {
		fmt.Fprintf(w, "           %-18s %s\n", n, reasons[n])
	}
}

// runHWHalt drives every output to its safe level and exits: what systemd
// runs after the agent stops, however it stopped (hw/periph's doc.go).
func runHWHalt(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("hw", "pact hw halt [--config FILE]")
	cfgPath := fs.String("config", defaultAgentConfig, "the agent file whose outputs to halt")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "hw", "halt takes no arguments, got %q", fs.Args())
	}
	a, cluster, code, ok := loadHardware("halt", *cfgPath, stderr)
	if !ok {
		return code
	}
	// Opening drives every output to its safe level; Halt and Close do it
	// again, so one that refused the first time gets two more tries.
	board, err := hwspec.Open(a, hwspec.Options{Cluster: cluster})
	if err != nil {
		return openError("halt", *cfgPath, err, stderr)
	}
	herr := board.Halt()
	cerr := board.Close()
	spec := hwspec.Spec(a)
	missing := hwspec.Missing(spec, board)
	for i, o := range spec.Outputs {
		path := fmt.Sprintf("hardware.outputs[%d]", i)
		if why, bad := missing[path]; bad {
			fmt.Fprintf(stderr, "pact hw halt: %s (%s on %s) NOT halted: %s\n", path, o.Name, o.Pin, why)
			continue
		}
		fmt.Fprintf(stdout, "%-12s %-8s safe (%s)\n", o.Name, o.Pin, o.Safe)
	}
	if err := errors.Join(herr, cerr); err != nil {
		fmt.Fprintf(stderr, "pact hw halt: %v\n", err)
		return exitFailure
	}
	outputsMissing := 0
	for i := range spec.Outputs {
		if _, bad := missing[fmt.Sprintf("hardware.outputs[%d]", i)]; bad {
			outputsMissing++
		}
	}
	if outputsMissing > 0 {
		return exitFailure
	}
	return exitOK
}
