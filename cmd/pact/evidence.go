package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/seed44533760/pact/agent"
	"github.com/seed44533760/pact/agent/config"
)

// pact evidence asks the local agent for the ejections in its agreed state
// and explains them. It trusts the agent for nothing but the bytes: every
// signature the ejection rests on is checked here, with the keys the agent
// reports and those of the cluster file, and what does not check out is
// said plainly.

func init() {
	register(command{
		name:    "evidence",
		summary: "explain why a node was ejected, checking every signature",
		run:     runEvidence,
	})
}

func runEvidence(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("evidence", "pact evidence [--config FILE] [--json] [NODE]")
	cfgPath := fs.String("config", defaultAgentConfig, "the agent file of the local agent to ask")
	asJSON := fs.Bool("json", false, "print the decoded, checked evidence as JSON")
	if code, done := parseFlags(fs, reorderFlags(args), stdout, stderr); done {
		return code
	}
	if fs.NArg() > 1 {
		return usageError(stderr, "evidence", "name at most one node")
	}
	// Like `pact status`, a problem in the files does not stop a read-only
	// question: the agent that answers has its own copy of them.
	acfg, cluster, err := config.Load(*cfgPath)
	if acfg == nil {
		fmt.Fprintf(stderr, "pact evidence: %v\n", err)
		return exitUsage
	}
	client, base := agent.AdminClient(acfg.Admin)
	rep, err := fetchEjections(ctx, client, base)
	if err != nil {
		var answered *adminAnswerError
		if errors.As(err, &answered) {
			fmt.Fprintf(stderr, "pact evidence: agent at %s %v\n", acfg.Admin, err)
		} else {
			fmt.Fprintf(stderr, "pact evidence: no agent answers at %s: %v (is `pact agent --config %s` running?)\n", acfg.Admin, err, *cfgPath)
		}
		return exitFailure
	}
	var genesis map[string]string
	if cluster != nil {
		genesis = cluster.Validators
	}
	keys := newKeyring(rep, genesis)

	if fs.NArg() == 1 {
		node := fs.Arg(0)
		j, ok := rep.Ejections[node]
		if !ok {
			others := "no node has been ejected"
			if len(rep.Ejections) > 0 {
				others = "ejected: " + strings.Join(slices.Sorted(maps.Keys(rep.Ejections)), ", ")
			}
			fmt.Fprintf(stderr, "pact evidence: %s has not been ejected (%s, agreed height %d)\n", terminalSafe(node, 64), others, rep.Height)
			return exitFailure
		}
		x := explainEjection(rep.Cluster, node, j, keys)
		if *asJSON {
			return writeEvidenceJSON(stdout, stderr, x)
		}
		printExplanation(stdout, x)
		return exitOK
	}

	all := make([]*ejectionExplanation, 0, len(rep.Ejections))
	for _, node := range slices.Sorted(maps.Keys(rep.Ejections)) {
		all = append(all, explainEjection(rep.Cluster, node, rep.Ejections[node], keys))
	}
	if *asJSON {
		return writeEvidenceJSON(stdout, stderr, struct {
			Cluster   string                 `json:"cluster"`
			Height    uint64                 `json:"height"`
			Ejections []*ejectionExplanation `json:"ejections"`
		}{rep.Cluster, rep.Height, all})
	}
	if len(all) == 0 {
		fmt.Fprintf(stdout, "no node has been ejected from %s (agreed height %d)\n", rep.Cluster, rep.Height)
		return exitOK
	}
	for _, x := range all {
		verdict := "verified"
		if !x.Verified {
			verdict = "NOT VERIFIED"
		}
		fmt.Fprintf(stdout, "%-12s height %-6d %-22s %-12s %s\n", terminalSafe(x.Node, 64), x.Height, terminalSafe(x.Reason, 40), verdict, terminalSafe(x.Summary, 160))
	}
	fmt.Fprintln(stdout, "(pact evidence NODE explains one in full)")
	return exitOK
}

// adminAnswerError is an agent that answered, but not with a report.
type adminAnswerError struct{ msg string }

func (e *adminAnswerError) Error() string { return e.msg }

func fetchEjections(ctx context.Context, client *http.Client, base string) (*agent.EjectionsReport, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+agent.AdminEjectionsPath, nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	switch {
	case err != nil:
		return nil, fmt.Errorf("reading its answer: %w", err)
	case resp.StatusCode == http.StatusNotFound:
		return nil, &adminAnswerError{fmt.Sprintf("does not serve %s: it predates pact evidence; upgrade and restart it", agent.AdminEjectionsPath)}
	case resp.StatusCode != http.StatusOK:
		return nil, &adminAnswerError{fmt.Sprintf("answered %s: %s", resp.Status, terminalSafe(strings.TrimSpace(string(body)), 200))}
	}
	var rep agent.EjectionsReport
	if err := json.Unmarshal(body, &rep); err != nil {
		return nil, &adminAnswerError{fmt.Sprintf("sent an unreadable report: %v", err)}
	}
	return &rep, nil
}

func writeEvidenceJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "pact evidence: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// keyring finds the public key a name signed with: a current validator's,
// then the key recorded with its ejection, then its genesis key in the
// cluster file. An accuser was a validator when it accused; it may have
// been ejected since.
func printExplanation(w io.Writer, x *ejectionExplanation) {
	fmt.Fprintf(w, "%s was ejected at height %d: %s\n", terminalSafe(x.Node, 64), x.Height, terminalSafe(x.Reason, 64))
	if x.KeyFrom != "" {
		fmt.Fprintf(w, "key       %s (%s)\n", terminalSafe(x.Key, 64), x.KeyFrom)
	}
	if x.Verified {
		fmt.Fprintln(w, "verdict   verified here: every signature checks out with its signer's key")
	} else {
		fmt.Fprintln(w, "verdict   NOT VERIFIED:")
		for _, p := range x.Problems {
			fmt.Fprintf(w, "          - %s\n", terminalSafe(p, 300))
		}
	}
	fmt.Fprintf(w, "summary   %s\n\n", terminalSafe(x.Summary, 300))
	switch {
	case x.Equivocation != nil:
		eq := x.Equivocation
		fmt.Fprintf(w, "%s signed two different %ss for height %d, round %d:\n", terminalSafe(eq.Offender, 64), eq.Type, eq.Height, eq.Round)
		for i, m := range eq.Messages {
			pol := ""
			if m.POLRound != nil {
				pol = fmt.Sprintf(" pol round %d", *m.POLRound)
			}
			fmt.Fprintf(w, "  %c  block %-64s%s  signature %s\n", 'A'+i, m.BlockHash, pol, okWord(m.SignatureOK))
			if m.SignatureError != "" {
				fmt.Fprintf(w, "     %s\n", terminalSafe(m.SignatureError, 300))
			}
		}
	case len(x.Outcomes) > 0:
		fmt.Fprintf(w, "outcomes signed as %s:\n", terminalSafe(x.Node, 64))
		for i, o := range x.Outcomes {
			printOutcome(w, fmt.Sprintf("  %d  ", i+1), o)
		}
	case x.Forged != nil:
		fmt.Fprintf(w, "%s signed a frame (signature %s) passing on this entry to its peers:\n  %s\n", terminalSafe(x.Node, 64), okWord(x.Forged.FrameSignatureOK), terminalSafe(x.Forged.Entry, 300))
		fmt.Fprintf(w, "which carries a signature that does not verify: %s\n\nAn honest validator only passes on entries it checked; a forged one in a frame it signed proves it forged it.\n", terminalSafe(x.Forged.Why, 300))
	case len(x.Accusations) > 0:
		fmt.Fprintf(w, "%d accusations, each signed by its accuser:\n", len(x.Accusations))
		for _, a := range x.Accusations {
			fmt.Fprintf(w, "  %s accused %s of %s at height %d (%s); signature %s\n", terminalSafe(a.Accuser, 64), terminalSafe(a.Accused, 64), terminalSafe(a.Reason, 64), a.Height, terminalSafe(a.At, 40), okWord(a.SignatureOK))
			if a.SignatureError != "" {
				fmt.Fprintf(w, "      %s\n", terminalSafe(a.SignatureError, 300))
			}
			fmt.Fprintf(w, "      says: %s\n", terminalSafe(a.Summary, 400))
			fmt.Fprintf(w, "      evidence: %s\n", terminalSafe(a.Evidence, 600))
		}
	}
	if x.Raw != "" {
		fmt.Fprintf(w, "raw evidence: %s\n", x.Raw)
	}
	if m, ok := reasonMeaning[x.Reason]; ok {
		fmt.Fprintf(w, "\n%s\n", m)
	}
}

func printOutcome(w io.Writer, prefix string, oe *outcomeExplanation) {
	o := oe.Outcome
	req := ""
	if o.RequestID != "" {
		req = " request " + terminalSafe(o.RequestID, 64)
	}
	fmt.Fprintf(w, "%s%s %s%s at height %d: %s\n", prefix, terminalSafe(o.Action, 64), terminalSafe(o.Instance, 64), req, o.Height, terminalSafe(outcomeResult(o), 300))
	pad := strings.Repeat(" ", len(prefix))
	fmt.Fprintf(w, "%sstarted %s, finished %s; signature %s\n", pad, terminalSafe(o.Started, 40), terminalSafe(o.Finished, 40), okWord(oe.SignatureOK))
	if oe.SignatureError != "" {
		fmt.Fprintf(w, "%s%s\n", pad, terminalSafe(oe.SignatureError, 300))
	}
}
