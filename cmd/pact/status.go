package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/seed44533760/pact/agent"
	"github.com/seed44533760/pact/agent/config"
)

func init() {
	register(command{
		name:    "status",
		summary: "ask the running local agent where it stands",
		run:     runStatus,
	})
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", "pact status [--config FILE] [--json]")
	cfgPath := fs.String("config", defaultAgentConfig, "the agent file (for its admin address)")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	acfg, err := config.LoadAgent(*cfgPath)
	if acfg == nil {
		fmt.Fprintf(stderr, "pact status: %v\n", err)
		return exitUsage
	}
	client, base := agent.AdminClient(acfg.Admin)
	url := base + agent.AdminPath
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "pact status: no agent answers at %s: %v (is `pact agent --config %s` running?)\n", acfg.Admin, err, *cfgPath)
		return exitFailure
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "pact status: agent at %s answered %s: %s\n", acfg.Admin, resp.Status, strings.TrimSpace(string(body)))
		return exitFailure
	}
	if *asJSON {
		_, _ = stdout.Write(body)
		return exitOK
	}
	var st agent.Status
	if err := json.Unmarshal(body, &st); err != nil {
		fmt.Fprintf(stderr, "pact status: unreadable answer from the agent: %v\n", err)
		return exitFailure
	}
	printStatus(stdout, &st)
	return exitOK
}

func printStatus(w io.Writer, st *agent.Status) {
	role := "validator"
	if !st.Validator {
		role = "candidate (no vote until `pact admit`)"
	}
	fmt.Fprintf(w, "node        %s (%s) in cluster %s\n", st.Node, role, st.Cluster)
	fmt.Fprintf(w, "height      %d (round %d, %s)", st.Height, st.Round, st.Step)
	if st.LastDecision != "" {
		fmt.Fprintf(w, ", last decision %s", st.LastDecision)
	}
	fmt.Fprintln(w)
	if st.Halted != "" {
		fmt.Fprintf(w, "HALTED      %s\n", st.Halted)
	}
	fmt.Fprintf(w, "validators  %s\n", strings.Join(st.Validators, " "))
	if len(st.Ejected) > 0 {
		fmt.Fprintf(w, "ejected     %s (pact evidence NODE explains why)\n", strings.Join(st.Ejected, " "))
	}
	if len(st.Retired) > 0 {
		fmt.Fprintf(w, "retired     %s (pact admit NODE brings one back)\n", strings.Join(st.Retired, " "))
	}
	if len(st.Candidates) > 0 {
		fmt.Fprintf(w, "candidates  %s\n", strings.Join(st.Candidates, " "))
	}
	fmt.Fprintln(w, "members")
	for _, m := range st.Members {
		caps := ""
		d := st.Capabilities[m.Name]
		if d == nil {
			d = st.Announced[m.Name] // a candidate's, not agreed yet
		}
		if d != nil {
			var outs []string
			for _, o := range d.Outputs {
				outs = append(outs, o.Name)
			}
			caps = fmt.Sprintf("zone=%s outputs=%s sensors=%d", d.Zone, strings.Join(outs, ","), len(d.Sensors))
		}
		fmt.Fprintf(w, "  %-12s %-8s %-21s %s\n", m.Name, m.State, m.Addr, caps)
	}
}
