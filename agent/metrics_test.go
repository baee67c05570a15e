package agent

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/internal/version"
)

// withAdmin adds an admin address to the agent file at path (the test
// cluster's files have none, so every agent would take the default).
func withAdmin(t testing.TB, path, addr string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "admin: %s\n", addr); err != nil {
		t.Fatal(err)
	}
}

// scrape GETs /metrics from an admin address and parses the exposition.
func scrape(t testing.TB, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	client, base := AdminClient(addr)
	resp, err := client.Get(base + AdminMetricsPath)
	if err != nil {
		t.Fatalf("GET %s: %v", AdminMetricsPath, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", AdminMetricsPath, resp.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing the exposition: %v", err)
	}
	return mfs
}

// value is the value of the series of family name whose labels include
// labels (name=value pairs); ok is false when there is none.
func value(mfs map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// A real four-node cluster on loopback: node-1's /metrics agrees with its
// status, has seen decisions, counts its peers, names its build, passes
// promlint, and answers in bounded time while its loop is stuck.
func TestMetrics_ScrapeRunningAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("real sockets and seconds of gossip")
	}
	cl := newTestCluster(t, "127.0.50.", 4, actionCatalogue)
	admin := "127.0.50.1:7950"
	var node1 *running
	for i := 1; i <= 4; i++ {
		cfg := report.DefaultConfig()
		cfg.Cluster, cfg.Node = "itest", fmt.Sprintf("node-%d", i)
		mem, err := report.NewMemory(cfg)
		if err != nil {
			t.Fatal(err)
		}
		path := cl.addNode(t, i, "../cluster.yaml")
		opts := Options{NoAdmin: true, Reports: mem}
		if i == 1 {
			withAdmin(t, path, admin)
			opts.NoAdmin = false
		}
		r := startAgentWith(t, path, opts)
		if i == 1 {
			node1 = r
		}
	}

	var mfs map[string]*dto.MetricFamily
	eventually(t, 30*time.Second, "node-1 to see its 3 peers alive and to time a decision", func() (bool, string) {
		mfs = scrape(t, admin)
		alive, _ := value(mfs, "pact_members", "state", "alive")
		decisions, _ := value(mfs, "pact_consensus_decision_latency_seconds")
		return alive == 4 && decisions > 0, fmt.Sprintf("%v alive, %v decisions timed", alive, decisions)
	})

	t.Run("agrees with status", func(t *testing.T) {
		before := node1.status(t)
		mfs := scrape(t, admin)
		after := node1.status(t)
		between := func(name string, got float64, lo, hi uint64) {
			t.Helper()
			if got < float64(lo) || got > float64(hi) {
				t.Errorf("%s = %v, status says %d..%d", name, got, lo, hi)
			}
		}
		h, ok := value(mfs, "pact_consensus_height")
		if !ok {
			t.Fatal("no pact_consensus_height")
		}
		between("pact_consensus_height", h, before.Height, after.Height)
		v, _ := value(mfs, "pact_consensus_heights_total", "via", "rounds")
		between(`pact_consensus_heights_total{via="rounds"}`, v, before.Counters["consensus_decided"], after.Counters["consensus_decided"])
		v, _ = value(mfs, "pact_transport_frames_received_total")
		between("pact_transport_frames_received_total", v, before.Counters["transport_received"], after.Counters["transport_received"])
		if v, _ := value(mfs, "pact_consensus_validators"); v != 4 {
			t.Errorf("pact_consensus_validators = %v, want 4", v)
		}
		if v, _ := value(mfs, "pact_loop_up"); v != 1 {
			t.Errorf("pact_loop_up = %v, want 1", v)
		}
		if v, ok := value(mfs, "pact_mqtt_connected"); !ok || v != 1 {
			t.Errorf("pact_mqtt_connected = %v (present %v), want 1", v, ok)
		}
		if v, _ := value(mfs, "pact_sensor_readings_total", "sensor", "temp"); v == 0 {
			t.Error("pact_sensor_readings_total{sensor=temp} is 0; the sampler reads at start")
		}
		if _, ok := value(mfs, "go_goroutines"); !ok {
			t.Error("no go_goroutines: the Go collector is missing")
		}
	})

	t.Run("build info", func(t *testing.T) {
		bi := mfs["pact_build_info"]
		if bi == nil || len(bi.GetMetric()) != 1 || bi.GetMetric()[0].GetGauge().GetValue() != 1 {
			t.Fatalf("pact_build_info: %v", bi)
		}
		labels := map[string]string{}
		for _, lp := range bi.GetMetric()[0].GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		if labels["version"] != version.Version || labels["commit"] != version.Commit || !strings.HasPrefix(labels["goversion"], "go") {
			t.Errorf("pact_build_info labels %v", labels)
		}
	})

	t.Run("every counter exported", func(t *testing.T) {
		keys := map[string]bool{}
		for _, f := range metricFamilies() {
			for _, s := range f.series {
				keys[s.key] = true
			}
		}
		for key := range exportedElsewhere {
			keys[key] = true
		}
		counters := node1.status(t).Counters
		var missing, unknown []string
		for key := range counters {
			if !keys[key] {
				missing = append(missing, key)
			}
		}
		for key := range keys {
			if _, ok := counters[key]; !ok {
				unknown = append(unknown, key)
			}
		}
		sort.Strings(missing)
		sort.Strings(unknown)
		if len(missing) > 0 {
			t.Errorf("counterMap keys no metric exports (add them to metricFamilies): %v", missing)
		}
		if len(unknown) > 0 {
			t.Errorf("metricFamilies names keys counterMap lacks: %v", unknown)
		}
	})

	t.Run("promlint", func(t *testing.T) {
		var list []*dto.MetricFamily
		for _, mf := range scrape(t, admin) {
			list = append(list, mf)
		}
		problems, err := promlint.NewWithMetricFamilies(list).Lint()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			if strings.HasPrefix(p.Metric, "pact_") {
				t.Errorf("%s: %s", p.Metric, p.Text)
			}
		}
	})

	t.Run("blocked loop", func(t *testing.T) {
		release := make(chan struct{})
		node1.a.inspectReq <- func() { <-release }
		defer close(release)
		start := time.Now()
		mfs := scrape(t, admin)
		took := time.Since(start)
		if took > metricsLoopTimeout+2*time.Second {
			t.Errorf("scrape of a blocked agent took %s", took)
		}
		if v, ok := value(mfs, "pact_loop_up"); !ok || v != 0 {
			t.Errorf("pact_loop_up = %v (present %v) while the loop is blocked, want 0", v, ok)
		}
		if _, ok := value(mfs, "pact_consensus_height"); !ok {
			t.Error("pact_consensus_height missing while the loop is blocked: the last snapshot should be served")
		}
		if age, _ := value(mfs, "pact_loop_snapshot_age_seconds"); age < metricsLoopTimeout.Seconds()/2 {
			t.Errorf("pact_loop_snapshot_age_seconds = %v for a snapshot from before the block", age)
		}
	})
	if v, _ := value(scrape(t, admin), "pact_loop_up"); v != 1 {
		t.Errorf("pact_loop_up = %v after the loop was released, want 1", v)
	}
}

func TestCountByState_EveryStateAlwaysPresent(t *testing.T) {
	tests := []struct {
		name    string
		members []MemberStatus
		want    string
	}{
		{"none", nil, "alive=0 dead=0 left=0 suspect=0"},
		{"mixed", []MemberStatus{{State: "alive"}, {State: "alive"}, {State: "suspect"}, {State: "left"}},
			"alive=2 dead=0 left=1 suspect=1"},
		{"unknown state kept", []MemberStatus{{State: "unknown"}}, "alive=0 dead=0 left=0 suspect=0 unknown=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var parts []string
			for _, s := range countByState(tt.members) {
				parts = append(parts, fmt.Sprintf("%s=%d", s.name, s.n))
			}
			if got := strings.Join(parts, " "); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// BenchmarkMetricsScrape measures one GET /metrics of a running one-node
// cluster over its admin address: the loop's snapshot, the Go and process
// collectors, and the text exposition.
func BenchmarkMetricsScrape(b *testing.B) {
	cl := newTestCluster(b, "127.0.51.", 1, actionCatalogue)
	admin := "127.0.51.1:7950"
	path := cl.addNode(b, 1, "../cluster.yaml")
	withAdmin(b, path, admin)
	r := startAgentWith(b, path, Options{})
	eventually(b, 20*time.Second, "the first decision", func() (bool, string) {
		s := r.status(b)
		return s.Height > 0, fmt.Sprintf("height %d", s.Height)
	})
	client, base := AdminClient(admin)
	var size int64
	for b.Loop() {
		resp, err := client.Get(base + AdminMetricsPath)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
		size = n
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}
