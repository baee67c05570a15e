package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
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
		name:    "retire",
		summary: "remove a validator that is gone or changing its key (operator-signed)",
		run:     runRetire,
	})
}

const retireUsage = `pact retire [--config FILE] [--operator-key FILE] [--key BASE64] [--reason TEXT] [--wait 30s] NODE

Removes NODE from the validator set on an operator's word: a dead Pi whose
key is lost, or a node whose key is being rotated. Unlike an ejection this
says nothing bad about the node: its gossip is still accepted, and
'pact admit NODE' brings it back, with its old key or a new one. Its open
work moves to other nodes. The last validator cannot be retired. Retiring
one of n validators lowers the faults the cluster tolerates to (n-2)/3.`

func runRetire(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("retire", retireUsage)
	cfgPath := fs.String("config", defaultAgentConfig, "the agent file of the local agent that hands in the retirement")
	opKeyPath := fs.String("operator-key", "", "the operator's private key (default: operator.key next to the cluster file)")
	nodeKey := fs.String("key", "", "the validator key being retired, base64 (default: the key of its committed capability document, else the cluster file's)")
	reason := fs.String("reason", "", fmt.Sprintf("why, for the record (one line, at most %d bytes)", agreed.MaxRetireReason))
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the retirement to be decided (0: do not wait)")
	if code, done := parseFlags(fs, reorderFlags(args), stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, "retire", "name exactly one node to retire")
	}
	node := fs.Arg(0)
	if len(*reason) > agreed.MaxRetireReason || strings.ContainsAny(*reason, "\r\n") {
		return usageError(stderr, "retire", "--reason must be one line of at most %d bytes", agreed.MaxRetireReason)
	}

	acfg, cluster, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "pact retire: %s: %v\n", *cfgPath, firstLine(err))
		return exitUsage
	}
	opKey, operator, err := requestKey(*opKeyPath, acfg, cluster)
	if err == nil && opKey == nil {
		err = fmt.Errorf("no operator.key next to %s (pass --operator-key FILE)", acfg.ClusterFile)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pact retire: %v\n", err)
		return exitUsage
	}

	client, base := agent.AdminClient(acfg.Admin)
	st, err := fetchStatus(ctx, client, base)
	if err != nil {
		fmt.Fprintf(stderr, "pact retire: no agent answers at %s: %v (is `pact agent --config %s` running?)\n", acfg.Admin, err, *cfgPath)
		return exitFailure
	}
	switch {
	case slices.Contains(st.Retired, node):
		fmt.Fprintf(stderr, "pact retire: %s is already retired; `pact admit %s` brings it back\n", node, node)
		return exitUsage
	case !slices.Contains(st.Validators, node):
		fmt.Fprintf(stderr, "pact retire: %s is not a validator (validators: %s)\n", node, strings.Join(st.Validators, ", "))
		return exitUsage
	case len(st.Validators) == 1:
		fmt.Fprintf(stderr, "pact retire: %s is the last validator; admit another node first (pact admit)\n", node)
		return exitUsage
	}
	if *nodeKey == "" {
		if d := st.Capabilities[node]; d != nil {
			*nodeKey = d.Key
		} else if k, ok := cluster.ValidatorKey(node); ok {
			*nodeKey = identity.PublicKeyString(k)
		} else {
			fmt.Fprintf(stderr, "pact retire: %s's key is neither in a committed capability document nor in %s; pass --key BASE64\n", node, acfg.ClusterFile)
			return exitUsage
		}
	}
	if _, err := identity.ParsePublicKey(*nodeKey); err != nil {
		fmt.Fprintf(stderr, "pact retire: --key: %v\n", err)
		return exitUsage
	}

	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	ret := &agreed.Retirement{Node: node, Key: *nodeKey, Operator: operator, Nonce: hex.EncodeToString(nonce), Reason: *reason}
	ret.Sign(cluster.Name, opKey)
	entry := (&agreed.Entry{Type: agreed.TypeRetire, Retire: ret}).Encode()
	return handIn(ctx, operatorEntry{
		cmd: "retire", what: "retirement", entry: entry, client: client, base: base, wait: *wait,
		handed: fmt.Sprintf("retirement of %s (key %s) signed by operator %s handed to %s", node, *nodeKey, operator, st.Node),
		done: func(st *agent.Status) (string, bool) {
			n := len(st.Validators)
			return fmt.Sprintf("%s is retired; validators now: %s (%d, tolerating %d faulty)", node, strings.Join(st.Validators, " "), n, (n-1)/3),
				!slices.Contains(st.Validators, node) && slices.Contains(st.Retired, node)
		},
	}, stdout, stderr)
}
