package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/wire"
)

func init() {
	register(command{
		name:    "watch",
		summary: "follow a cluster on the broker: decisions, outcomes, ejections, node states",
		run:     runWatch,
	})
}

func runWatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("watch", "pact watch [--mqtt URL] [--config FILE] [--cluster NAME] [--json] [--readings] [--duration D]")
	mqttURL := fs.String("mqtt", "", "the broker URL (default: the agent file's mqtt.url)")
	cfgPath := fs.String("config", "", "the agent file: broker settings and the cluster file whose keys check signatures (default: "+defaultAgentConfig+" when it exists)")
	clusterName := fs.String("cluster", "", "the cluster to watch (default: the cluster file's, or every cluster on the broker)")
	asJSON := fs.Bool("json", false, "print one JSON object per message")
	readings := fs.Bool("readings", false, "show sensor readings too")
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError(stderr, "watch", "unexpected argument %q", fs.Arg(0))
	}
	if *duration < 0 {
		return usageError(stderr, "watch", "--duration %s is negative", *duration)
	}
	if *clusterName != "" && !config.ValidName(*clusterName) {
		return usageError(stderr, "watch", "--cluster %q is not a valid cluster name", *clusterName)
	}

	acfg, cluster, err := watchConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "pact watch: %v\n", err)
		return exitUsage
	}
	tcfg := report.DefaultToolConfig()
	if acfg != nil {
		tcfg = report.ToolFromAgent(acfg.MQTT)
	}
	if *mqttURL != "" {
		tcfg.URL = *mqttURL
	}
	if tcfg.URL == "" {
		if acfg != nil {
			fmt.Fprintf(stderr, "pact watch: %s has no mqtt.url; pass --mqtt URL\n", acfg.File())
		} else {
			fmt.Fprintf(stderr, "pact watch: no broker given; pass --mqtt URL (e.g. tcp://127.0.0.1:1883) or --config FILE\n")
		}
		return exitUsage
	}
	if cluster != nil {
		switch {
		case *clusterName == "":
			*clusterName = cluster.Name
		case *clusterName != cluster.Name:
			fmt.Fprintf(stderr, "pact watch: --cluster %s, but %s is cluster %s's; drop one of them\n", *clusterName, cluster.File(), cluster.Name)
			return exitUsage
		}
	}
	filter := wire.Root + "/+/#"
	if *clusterName != "" {
		filter = wire.Topics{Cluster: *clusterName}.All()
	}

	dialCtx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	tool, err := report.DialTool(dialCtx, tcfg)
	if errors.Is(err, report.ErrConfig) {
		fmt.Fprintf(stderr, "pact watch: broker settings: %s\n", oneLine(err))
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "pact watch: %v (is the broker up? check --mqtt)\n", err)
		return exitFailure
	}
	defer tool.Close()
	q := newMessageQueue()
	if err := tool.Subscribe(dialCtx, filter, 1, q.push); err != nil {
		fmt.Fprintf(stderr, "pact watch: %v\n", err)
		return exitFailure
	}
	w := newWatcher(stdout, watchOptions{json: *asJSON, readings: *readings, cluster: *clusterName, file: cluster})
	if !*asJSON {
		verifying := "signatures unverified (no cluster file: pass --config)"
		if cluster != nil {
			verifying = "checking signatures with " + cluster.File()
		}
		fmt.Fprintf(stdout, "watching %s on %s; %s\n", filter, tcfg.URL, verifying)
	}

	var stop <-chan time.Time
	if *duration > 0 {
		timer := time.NewTimer(*duration)
		defer timer.Stop()
		stop = timer.C
	}
	for {
		select {
		case <-ctx.Done():
			return exitOK
		case <-stop:
			for _, m := range q.take() {
				w.handle(m.topic, m.payload, m.retained)
			}
			return exitOK
		case <-q.ready:
			for _, m := range q.take() {
				w.handle(m.topic, m.payload, m.retained)
			}
		}
	}
}

// watchConfig loads the agent file and its cluster file: the one named, or
// the default one when it exists; (nil, nil, nil) without either.
func watchConfig(path string) (*config.Agent, *config.Cluster, error) {
	if path == "" {
		if _, err := os.Stat(defaultAgentConfig); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil
		}
		path = defaultAgentConfig
	}
	acfg, cluster, err := config.Load(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, firstLine(err))
	}
	return acfg, cluster, nil
}

// messageQueue hands messages from paho's goroutine to the command's loop
// without ever making paho wait, and without dropping any: at subscription
// the broker sends every retained state, capability document, outcome and
// ejection at once.
type messageQueue struct {
	mu    sync.Mutex
	msgs  []queuedMessage
	ready chan struct{} // capacity 1: one pending wake-up is enough
}

type queuedMessage struct {
	topic    string
	payload  []byte
	retained bool
}

func newMessageQueue() *messageQueue { return &messageQueue{ready: make(chan struct{}, 1)} }

func (q *messageQueue) push(topic string, payload []byte, retained bool) {
	q.mu.Lock()
	q.msgs = append(q.msgs, queuedMessage{topic, payload, retained})
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *messageQueue) take() []queuedMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	msgs := q.msgs
	q.msgs = nil
	return msgs
}
