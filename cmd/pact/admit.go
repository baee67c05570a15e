package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent"
	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/identity"
)

func init() {
	register(command{
		name:    "admit",
		summary: "admit a discovered node as a validator (operator-signed)",
		run:     runAdmit,
	})
}

func runAdmit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("admit", "pact admit [--config FILE] [--operator-key FILE] [--key BASE64] [--wait 30s] NODE")
	cfgPath := fs.String("config", defaultAgentConfig, "the agent file of the local agent that hands in the admission")
	opKeyPath := fs.String("operator-key", "", "the operator's private key (default: operator.key next to the cluster file)")
	nodeKey := fs.String("key", "", "the node's public key, base64 (default: the key it announces to the cluster)")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the admission to be decided (0: do not wait)")
	if code, done := parseFlags(fs, reorderFlags(args), stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, "admit", "name exactly one node to admit")
	}
	node := fs.Arg(0)

	acfg, cluster, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "pact admit: %s: %v\n", *cfgPath, firstLine(err))
		return exitUsage
	}
	if *opKeyPath == "" {
		*opKeyPath = filepath.Join(filepath.Dir(acfg.ClusterFile), "operator.key")
	}
	opKey, err := identity.Load(*opKeyPath)
	if err != nil {
		fmt.Fprintf(stderr, "pact admit: operator key: %v (pass --operator-key FILE)\n", err)
		return exitUsage
	}
	operator := ""
	for name, k := range cluster.OperatorKeys() {
		if k.Equal(opKey.Public().(ed25519.PublicKey)) {
			operator = name
		}
	}
	if operator == "" {
		fmt.Fprintf(stderr, "pact admit: %s is not the key of any operator in %s; list its public key (pact config pubkey %s) under operators\n", *opKeyPath, acfg.ClusterFile, *opKeyPath)
		return exitUsage
	}

	client, base := agent.AdminClient(acfg.Admin)
	st, err := fetchStatus(ctx, client, base)
	if err != nil {
		fmt.Fprintf(stderr, "pact admit: no agent answers at %s: %v (is `pact agent --config %s` running?)\n", acfg.Admin, err, *cfgPath)
		return exitFailure
	}
	if slices.Contains(st.Validators, node) {
		fmt.Fprintf(stderr, "pact admit: %s is already a validator\n", node)
		return exitUsage
	}
	if *nodeKey == "" {
		*nodeKey = st.CandidateKeys[node]
		if *nodeKey == "" {
			fmt.Fprintf(stderr, "pact admit: %s is not a candidate %s can see (candidates: %s); start it with the cluster's gossip key, or pass --key\n",
				node, st.Node, strings.Join(st.Candidates, ", "))
			return exitFailure
		}
	}
	if _, err := identity.ParsePublicKey(*nodeKey); err != nil {
		fmt.Fprintf(stderr, "pact admit: --key: %v\n", err)
		return exitUsage
	}

	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	adm := &agreed.Admission{Node: node, Key: *nodeKey, Operator: operator, Nonce: hex.EncodeToString(nonce)}
	adm.Sign(cluster.Name, opKey)
	entry := (&agreed.Entry{Type: agreed.TypeAdmit, Admit: adm}).Encode()
	return handIn(ctx, operatorEntry{
		cmd: "admit", what: "admission", entry: entry, client: client, base: base, wait: *wait,
		handed: fmt.Sprintf("admission of %s (key %s) signed by operator %s handed to %s", node, *nodeKey, operator, st.Node),
		done: func(st *agent.Status) (string, bool) {
			return fmt.Sprintf("%s is a validator; validators now: %s", node, strings.Join(st.Validators, " ")), slices.Contains(st.Validators, node)
		},
	}, stdout, stderr)
}

// operatorEntry is an operator-signed entry (admit, retire) to hand to the
// local agent, and how to tell it was decided.
type operatorEntry struct {
	cmd, what string // "admit", "admission"
	entry     []byte
	client    *http.Client
	base      string
	wait      time.Duration
	handed    string                                     // printed once the agent took it
	done      func(*agent.Status) (line string, ok bool) // decided yet, and what to print then
}

// handIn posts e's entry to the agent's admin API and, with a wait, polls
// its status until the entry took effect; it returns the exit status.
func handIn(ctx context.Context, e operatorEntry, stdout, stderr io.Writer) int {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.base+agent.AdminEntriesPath, bytes.NewReader(e.entry))
	resp, err := e.client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "pact %s: handing in the %s: %v\n", e.cmd, e.what, err)
		return exitFailure
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		fmt.Fprintf(stderr, "pact %s: the agent refused the %s: %s\n", e.cmd, e.what, strings.TrimSpace(string(body)))
		return exitFailure
	}
	fmt.Fprintln(stdout, e.handed)
	if e.wait <= 0 {
		return exitOK
	}
	deadline := time.Now().Add(e.wait)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return exitFailure
		case <-time.After(250 * time.Millisecond):
		}
		if st, err := fetchStatus(ctx, e.client, e.base); err == nil {
			if line, ok := e.done(st); ok {
				fmt.Fprintln(stdout, line)
				return exitOK
			}
		}
	}
	fmt.Fprintf(stderr, "pact %s: not decided within %s; check `pact status` (a quorum of validators must be up)\n", e.cmd, e.wait)
	return exitFailure
}

func fetchStatus(ctx context.Context, client *http.Client, base string) (*agent.Status, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+agent.AdminPath, nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("answered %s", resp.Status)
	}
	var st agent.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " (and more: pact config validate)"
	}
	return s
}

// reorderFlags moves flags before positional arguments, so `pact admit
// node-6 --wait 5s` works as well as `pact admit --wait 5s node-6`.
func reorderFlags(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && a != "-h" && a != "--help" && a != "-help" {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}
