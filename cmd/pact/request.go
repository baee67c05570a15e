package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/wire"
)

func init() {
	register(command{
		name:    "request",
		summary: "sign and publish an action request; with --wait, print its outcome",
		run:     runRequest,
	})
}

// toolTimeout bounds connecting to the broker and its acknowledgement
// of the request.
const toolTimeout = 10 * time.Second

func runRequest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("request", "pact request [--config FILE] [--operator-key FILE] [--param k=v]... [--id ID] [--wait 30s] [--json] ACTION")
	cfgPath := fs.String("config", defaultAgentConfig, "the agent file: its cluster file and mqtt section")
	opKeyPath := fs.String("operator-key", "", "the operator's private key (default: operator.key next to the cluster file)")
	params := paramFlag{}
	fs.Var(params, "param", "a parameter of the action, name=value (repeatable), e.g. duration=2s")
	id := fs.String("id", "", "the request id (default: r- and 16 random hex digits)")
	wait := fs.Duration("wait", 0, "wait this long for the outcome and exit 0 only if it succeeded (0: do not wait)")
	asJSON := fs.Bool("json", false, "print the request (or, with --wait, the outcome) as JSON")
	if code, done := parseFlags(fs, reorderFlagsOf(fs, args), stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, "request", "name exactly one action to request")
	}
	if *wait < 0 {
		return usageError(stderr, "request", "--wait %s is negative", *wait)
	}
	action := fs.Arg(0)

	acfg, cluster, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "pact request: %s: %v\n", *cfgPath, firstLine(err))
		return exitUsage
	}
	act, ok := cluster.Actions[action]
	if !ok {
		names := slices.Sorted(maps.Keys(cluster.Actions))
		if len(names) == 0 {
			fmt.Fprintf(stderr, "pact request: %s defines no actions; add one under actions to request it\n", cluster.File())
		} else {
			fmt.Fprintf(stderr, "pact request: %s defines no action %q; its actions are: %s\n", cluster.File(), action, strings.Join(names, ", "))
		}
		return exitUsage
	}
	if err := checkParams(action, act, params); err != nil {
		fmt.Fprintf(stderr, "pact request: %v\n", err)
		return exitUsage
	}
	freshID := *id == ""
	if freshID {
		*id = randomRequestID()
	} else if !wire.ValidID(*id) {
		return usageError(stderr, "request", "--id %q: use 1 to 128 letters, digits and . _ : - (starting with a letter or digit)", *id)
	}
	opKey, operator, err := requestKey(*opKeyPath, acfg, cluster)
	if err != nil {
		fmt.Fprintf(stderr, "pact request: %v\n", err)
		return exitUsage
	}
	if acfg.MQTT.URL == "" {
		fmt.Fprintf(stderr, "pact request: the agent file has no mqtt.url: pact request publishes to the broker (set mqtt.url in %s)\n", acfg.File())
		return exitUsage
	}

	req := &wire.Request{Header: wire.Header{TS: wire.Timestamp(time.Now())}, ID: *id, Action: action, Params: map[string]string(params)}
	if opKey != nil {
		err = wire.SignRequest(cluster.Name, req, opKey)
	} else {
		req.V, req.Cluster = wire.Version, cluster.Name
		err = req.Check()
	}
	if err != nil {
		fmt.Fprintf(stderr, "pact request: %s\n", oneLine(err))
		return exitUsage
	}
	payload, _ := json.Marshal(req)

	dialCtx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	tool, err := report.DialTool(dialCtx, report.ToolFromAgent(acfg.MQTT))
	if errors.Is(err, report.ErrConfig) {
		fmt.Fprintf(stderr, "pact request: mqtt settings in %s: %s\n", acfg.File(), oneLine(err))
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "pact request: %v (is the broker up? check mqtt in %s)\n", err, acfg.File())
		return exitFailure
	}
	defer tool.Close()

	topics := wire.Topics{Cluster: cluster.Name}
	instance := agreed.InstanceID(cluster.Name, req.ID)
	var replies chan requestReply
	if *wait > 0 {
		// Subscribed before publishing, so the outcome cannot slip past.
		replies = make(chan requestReply, 16)
		handle := replyHandler(req.ID, replies)
		for _, filter := range []string{topics.Outcome(action, "+"), topics.Errors()} {
			if err := tool.Subscribe(dialCtx, filter, 1, handle); err != nil {
				fmt.Fprintf(stderr, "pact request: %v\n", err)
				return exitFailure
			}
		}
	}
	if err := tool.Publish(dialCtx, topics.Request(action), 1, false, payload); err != nil {
		fmt.Fprintf(stderr, "pact request: %v\n", err)
		return exitFailure
	}
	signedBy := "unsigned (the cluster allows unsigned requests)"
	if operator != "" {
		signedBy = "signed by operator " + operator
	}
	switch {
	case *asJSON && *wait <= 0:
		fmt.Fprintf(stdout, "%s\n", payload)
	case !*asJSON:
		fmt.Fprintf(stdout, "request %s for %s (instance %s) %s, published to %s\n", req.ID, action, instance, signedBy, topics.Request(action))
	}
	if *wait <= 0 {
		return exitOK
	}
	return awaitOutcome(ctx, cluster, req, *wait, *asJSON, freshID, replies, stdout, stderr)
}

// paramFlag collects --param name=value.
type paramFlag map[string]string

func (p paramFlag) String() string {
	parts := make([]string, 0, len(p))
	for _, k := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, k+"="+p[k])
	}
	return strings.Join(parts, " ")
}

func (p paramFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not name=value", s)
	}
	if _, dup := p[k]; dup {
		return fmt.Errorf("%s given twice", k)
	}
	p[k] = v
	return nil
}

// checkParams checks request parameters against the catalogue: known names,
// durations within the bounds. Every problem is named, on one line.
func checkParams(name string, a config.Action, params map[string]string) error {
	takes := "it takes none"
	if len(a.Params) > 0 {
		takes = "it takes " + strings.Join(slices.Sorted(maps.Keys(a.Params)), ", ")
	}
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(params)) {
		v := params[k]
		p, ok := a.Params[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s has no parameter %q (%s)", name, k, takes))
			continue
		}
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("--param %s=%s is not a duration (e.g. 2s, 500ms)", k, v))
		case d < 0:
			problems = append(problems, fmt.Sprintf("--param %s=%s is negative", k, v))
		case d < p.Min:
			problems = append(problems, fmt.Sprintf("--param %s=%s is below the minimum %s of %s", k, v, p.Min, name))
		case p.Max > 0 && d > p.Max:
			problems = append(problems, fmt.Sprintf("--param %s=%s is above the maximum %s of %s", k, v, p.Max, name))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// requestKey loads the operator key that signs the request and names its
// operator. Without --operator-key it is operator.key next to the cluster
// file; when that file does not exist and the cluster allows unsigned
// requests, the request goes unsigned (nil key).
func requestKey(path string, acfg *config.Agent, cluster *config.Cluster) (ed25519.PrivateKey, string, error) {
	explicit := path != ""
	if !explicit {
		path = filepath.Join(filepath.Dir(acfg.ClusterFile), "operator.key")
	}
	key, err := identity.Load(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) && cluster.AllowUnsignedRequests {
			return nil, "", nil
		}
		return nil, "", fmt.Errorf("operator key: %v (pass --operator-key FILE)", err)
	}
	for name, k := range cluster.OperatorKeys() {
		if k.Equal(key.Public()) {
			return key, name, nil
		}
	}
	return nil, "", fmt.Errorf("%s is not the key of any operator in %s; list its public key (pact config pubkey %s) under operators", path, acfg.ClusterFile, path)
}

func randomRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "r-" + hex.EncodeToString(b)
}

// requestReply is an outcome or an error report naming the request.
type requestReply struct {
	raw     []byte
	outcome *wire.Outcome
	refusal *wire.ErrorReport
}

// replyHandler returns a Tool handler that keeps what names request id and
// hands it on without waiting: decoding is quick, and retained outcomes of
// other requests (there may be thousands) are dropped right here.
func replyHandler(id string, replies chan<- requestReply) func(string, []byte, bool) {
	return func(topic string, payload []byte, _ bool) {
		t, err := wire.ParseTopic(topic)
		if err != nil {
			return
		}
		var r requestReply
		switch t.Kind {
		case wire.KindOutcome:
			o, err := wire.DecodeOutcome(payload)
			if err != nil || o.RequestID != id {
				return
			}
			r.outcome = o
		case wire.KindErrors:
			var e wire.ErrorReport
			if wire.Unmarshal(payload, &e) != nil || e.RequestID != id {
				return
			}
			r.refusal = &e
		default:
			return
		}
		r.raw = payload
		select {
		case replies <- r:
		default: // more replies than anyone reads: the first ones decide
		}
	}
}

// usedRefusal is how an agent words its refusal of a request id that was
// already decided (agent/requests.go).
const usedRefusal = "was already used"

// awaitOutcome waits for the request's outcome or refusal and prints it.
// With a fresh id of its own (freshID), a refusal saying the id was already
// used can only come from a node whose broker copy of this very request
// arrived after the cluster had decided it (it was catching up): the
// outcome is on its way, and the wait goes on.
func awaitOutcome(ctx context.Context, cluster *config.Cluster, req *wire.Request, wait time.Duration, asJSON, freshID bool, replies <-chan requestReply, stdout, stderr io.Writer) int {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(stderr, "pact request: interrupted while waiting for the outcome of request %s\n", req.ID)
			return exitFailure
		case <-timer.C:
			fmt.Fprintf(stderr, "pact request: no outcome for request %s within %s (is the cluster up? see pact watch)\n", req.ID, wait)
			return exitFailure
		case r := <-replies:
			if r.refusal != nil && freshID && strings.Contains(r.refusal.Error, usedRefusal) {
				continue // decided already: a late node's echo
			}
			if r.refusal != nil {
				if asJSON {
					fmt.Fprintf(stdout, "%s\n", r.raw)
				}
				fmt.Fprintf(stderr, "pact request: %s refused request %s: %s\n", r.refusal.Node, req.ID, r.refusal.Error)
				return exitFailure
			}
			if code, done := reportOutcome(cluster, req, r, asJSON, stdout, stderr); done {
				return code
			}
		}
	}
}

// reportOutcome checks and prints an outcome. An outcome whose signature
// does not verify is set aside (done false): anyone can publish on the
// broker, and the performer's true outcome may still come.
func reportOutcome(cluster *config.Cluster, req *wire.Request, r requestReply, asJSON bool, stdout, stderr io.Writer) (code int, done bool) {
	o := r.outcome
	if o.Action != req.Action {
		fmt.Fprintf(stderr, "pact request: ignoring an outcome naming request %s for action %s, not %s\n", req.ID, o.Action, req.Action)
		return 0, false
	}
	note := ""
	if key, ok := cluster.ValidatorKey(o.Performer); !ok {
		note = "signature not checked (performer not in the cluster file)"
	} else if err := wire.VerifyOutcome(cluster.Name, o, key); err != nil {
		fmt.Fprintf(stderr, "pact request: ignoring an outcome of %s claiming %s as performer: %v\n", req.ID, o.Performer, err)
		return 0, false
	}
	if asJSON {
		fmt.Fprintf(stdout, "%s\n", r.raw)
		if note != "" {
			fmt.Fprintf(stderr, "pact request: %s\n", note)
		}
	} else {
		line := outcomeLine(o)
		if note != "" {
			line += "; " + note
		}
		fmt.Fprintln(stdout, line)
	}
	if !o.OK {
		if asJSON {
			fmt.Fprintf(stderr, "pact request: %s %s failed on %s: %s\n", o.Action, o.Instance, o.Performer, o.Error)
		}
		return exitFailure, true
	}
	return exitOK, true
}

// outcomeLine is "blink i-… performed by node-3 at height 12: ok in 1.02s
// (readback high)", or FAILED with the error.
func outcomeLine(o *wire.Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s performed by %s at height %d: ", o.Action, o.Instance, o.Performer, o.Height)
	took := ""
	if d, ok := outcomeDuration(o); ok {
		took = " " + d.String()
	}
	if o.OK {
		b.WriteString("ok")
		if took != "" {
			b.WriteString(" in" + took)
		}
	} else {
		b.WriteString("FAILED")
		if took != "" {
			b.WriteString(" after" + took)
		}
		b.WriteString(": " + o.Error)
	}
	if o.Readback != "" {
		fmt.Fprintf(&b, " (readback %s)", o.Readback)
	}
	return b.String()
}

// outcomeDuration is finished − started, to the hundredth of a second.
func outcomeDuration(o *wire.Outcome) (time.Duration, bool) {
	s, err1 := wire.ParseTime(o.Started)
	f, err2 := wire.ParseTime(o.Finished)
	if err1 != nil || err2 != nil || f.Before(s) {
		return 0, false
	}
	return f.Sub(s).Round(10 * time.Millisecond), true
}

// reorderFlagsOf moves flags before positional arguments, like
// reorderFlags, but knows fs's boolean flags take no value: `pact request
// --json blink --wait 5s` keeps blink as the action.
func reorderFlagsOf(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && !isBoolFlag(f) && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	if len(pos) == 0 {
		return flags
	}
	return append(append(flags, "--"), pos...)
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
