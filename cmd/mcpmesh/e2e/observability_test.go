package e2e

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
	"github.com/mcpmesh/mcpmesh/tools/proc"
)

// The observability artefacts live beside the code they watch.
const (
	observabilityDir = "../../../deploy/observability"
	runbooksFile     = "../../../docs/operations/runbooks.md"
	sloFile          = "../../../docs/operations/slo.md"
	// runbookURLPrefix is where every alert's runbook_url points, before the anchor.
	runbookURLPrefix = "https://github.com/mcpmesh/mcpmesh/blob/main/docs/operations/runbooks.md#"
)

// ruleFiles are the Prometheus rule files operators load.
var ruleFiles = []string{"recording.yaml", "alerts.yaml"}

// externalMetrics are the only metrics rules and the dashboard may use that no mcpmesh
// process exposes, each with where it comes from. Nothing the mesh emits belongs here:
// the test fails if a mesh process exposes one of these names, or if one is unused.
var externalMetrics = map[string]string{
	// Prometheus (or the collector's prometheus receiver) writes up for every target.
	"up": "Prometheus scrape health",
	// The kubelet's cAdvisor: the container's memory as the OOM killer sees it.
	"container_memory_working_set_bytes": "cAdvisor",
	// kube-state-metrics: the container's memory limit.
	"kube_pod_container_resource_limits": "kube-state-metrics",
}

// targetLabels are added by Prometheus when it scrapes, not by the process.
var targetLabels = map[string]bool{"job": true, "instance": true}

// query is one PromQL expression of a rule file or the dashboard.
type query struct {
	where string // file and rule or panel, for messages
	expr  string
}

// ruleSet is every rule of the rule files, parsed and validated by Prometheus.
type ruleSet struct {
	alerts   []rulefmt.Rule
	recorded map[string]bool // names defined by record:
	queries  []query
}

func loadRules(t *testing.T) ruleSet {
	t.Helper()
	set := ruleSet{recorded: map[string]bool{}}
	p := parser.NewParser(parser.Options{})
	logger := slog.New(slog.DiscardHandler)
	for _, name := range ruleFiles {
		path := filepath.Join(observabilityDir, name)
		// Unknown fields are errors, expressions and templates are parsed and checked:
		// what promtool check rules does.
		groups, errs := rulefmt.ParseFile(path, false, model.UTF8Validation, p, logger)
		for _, err := range errs {
			t.Errorf("%s: %v", name, err)
		}
		if groups == nil {
			continue
		}
		if len(groups.Groups) == 0 {
			t.Errorf("%s has no rule groups", name)
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				switch {
				case r.Record != "":
					set.recorded[r.Record] = true
					set.queries = append(set.queries, query{name + " record " + r.Record, r.Expr})
				case r.Alert != "":
					set.alerts = append(set.alerts, r)
					set.queries = append(set.queries, query{name + " alert " + r.Alert, r.Expr})
				}
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return set
}

// dashboard is the parts of the Grafana dashboard the tests read.
type dashboard struct {
	UID        string           `json:"uid"`
	Title      string           `json:"title"`
	Panels     []dashboardPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type dashboardPanel struct {
	Title   string           `json:"title"`
	Type    string           `json:"type"`
	Panels  []dashboardPanel `json:"panels"` // a collapsed row's panels
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// labelValues is Grafana's variable query label_values(selector, label).
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// loadDashboard returns every PromQL query of the dashboard: panel targets and the
// selectors of label_values variables.
func loadDashboard(t *testing.T) []query {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(observabilityDir, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("grafana-dashboard.json: uid %q, title %q: both are needed to import it", d.UID, d.Title)
	}
	var out []query
	var walk func([]dashboardPanel)
	walk = func(panels []dashboardPanel) {
		for _, p := range panels {
			walk(p.Panels)
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("dashboard panel %q has no query", p.Title)
			}
			for i, target := range p.Targets {
				if strings.TrimSpace(target.Expr) == "" {
					t.Errorf("dashboard panel %q target %d has no expr", p.Title, i)
					continue
				}
				out = append(out, query{fmt.Sprintf("dashboard panel %q", p.Title), target.Expr})
			}
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Errorf("dashboard variable %s: query: %v", v.Name, err)
			continue
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Errorf("dashboard variable %s: %q is not label_values(selector, label)", v.Name, q.Query)
			continue
		}
		out = append(out, query{"dashboard variable " + v.Name, m[1]})
	}
	if len(out) == 0 {
		t.Fatal("grafana-dashboard.json has no queries")
	}
	return out
}

// selectorsOf parses expr and returns its vector selectors.
func selectorsOf(expr string) ([]*parser.VectorSelector, error) {
	node, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var out []*parser.VectorSelector
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, vs)
		}
		return nil
	})
	return out, nil
}

// metricName is the selector's metric name ("" when it selects by labels only).
func metricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

func TestObservabilityRuleFilesParse(t *testing.T) {
	rules := loadRules(t)
	if len(rules.alerts) == 0 || len(rules.recorded) == 0 {
		t.Fatalf("%d alerts and %d recording rules; want both", len(rules.alerts), len(rules.recorded))
	}
	for _, r := range rules.alerts {
		if sev := r.Labels["severity"]; sev != "page" && sev != "ticket" {
			t.Errorf("alert %s: severity %q, want page or ticket", r.Alert, sev)
		}
		if r.Annotations["summary"] == "" {
			t.Errorf("alert %s has no summary", r.Alert)
		}
	}
	// Every recording rule is read by an alert or the dashboard: none is dead weight.
	used := map[string]bool{}
	for _, q := range append(rules.queries, loadDashboard(t)...) {
		sels, err := selectorsOf(q.expr)
		if err != nil {
			continue // reported by the tests that parse them
		}
		for _, vs := range sels {
			used[metricName(vs)] = true
		}
	}
	for name := range rules.recorded {
		if !used[name] {
			t.Errorf("recording rule %s is used by no alert and no dashboard panel", name)
		}
	}
}

func TestObservabilityDashboardQueriesParse(t *testing.T) {
	for _, q := range loadDashboard(t) {
		sels, err := selectorsOf(q.expr)
		if err != nil {
			t.Errorf("%s: %q: %v", q.where, q.expr, err)
			continue
		}
		for _, vs := range sels {
			if metricName(vs) == "" {
				t.Errorf("%s: selector %s names no metric", q.where, vs)
			}
		}
	}
}

// anchorChars are what GitHub keeps of a heading in its anchor besides letters and
// digits; spaces become hyphens, everything else is dropped.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// markdownAnchors returns the anchors GitHub gives the headings of a Markdown file
// (outside code fences), with -1, -2... for repeated headings.
func markdownAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	seen := map[string]int{}
	fenced := false
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimLeft(line, "#")
		if !strings.HasPrefix(text, " ") {
			continue
		}
		a := githubAnchor(text)
		if n := seen[a]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			anchors[a] = true
		}
		seen[a]++
	}
	return anchors
}

func TestObservabilityGitHubAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"`/readyz` answers 503":                          "readyz-answers-503",
		"Clients get -32603 \"tool X is unavailable\"":   "clients-get--32603-tool-x-is-unavailable",
		"tools/call latency error budget burn":           "toolscall-latency-error-budget-burn",
		"Registry replicas disagree (catalogue, lag)":    "registry-replicas-disagree-catalogue-lag",
		"Clients get 503 or 504 with \"service … (id)\"": "clients-get-503-or-504-with-service--id",
	} {
		if got := githubAnchor(heading); got != want {
			t.Errorf("githubAnchor(%q) = %q, want %q", heading, got, want)
		}
	}
}

// sloTableRow matches a row of the alert table in slo.md: the alert in backticks in
// the first cell and a link to a runbook section.
var sloTableRow = regexp.MustCompile("^\\|\\s*`([A-Za-z0-9_]+)`\\s*\\|.*\\(runbooks\\.md#([^)]+)\\)")

func TestObservabilityRunbooks(t *testing.T) {
	rules := loadRules(t)
	anchors := markdownAnchors(t, runbooksFile)
	raw, err := os.ReadFile(sloFile)
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]string{} // alert -> runbook anchor in slo.md
	for _, line := range strings.Split(string(raw), "\n") {
		if m := sloTableRow.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			if _, dup := table[m[1]]; dup {
				t.Errorf("slo.md lists alert %s twice", m[1])
			}
			table[m[1]] = m[2]
		}
	}
	alerts := map[string]bool{}
	for _, r := range rules.alerts {
		if alerts[r.Alert] {
			// Prometheus allows it, but the runbook table could not tell them apart.
			t.Errorf("alert %s is defined twice", r.Alert)
		}
		alerts[r.Alert] = true
		url := r.Annotations["runbook_url"]
		anchor, ok := strings.CutPrefix(url, runbookURLPrefix)
		switch {
		case !ok || anchor == "":
			t.Errorf("alert %s: runbook_url %q, want %s<anchor>", r.Alert, url, runbookURLPrefix)
			continue
		case !anchors[anchor]:
			t.Errorf("alert %s: runbook anchor #%s is no heading of docs/operations/runbooks.md", r.Alert, anchor)
		}
		inTable, listed := table[r.Alert]
		switch {
		case !listed:
			t.Errorf("alert %s is not in the alert table of docs/operations/slo.md", r.Alert)
		case inTable != anchor:
			t.Errorf("alert %s: slo.md links runbooks.md#%s, the rule links #%s", r.Alert, inTable, anchor)
		}
	}
	for name := range table {
		if !alerts[name] {
			t.Errorf("docs/operations/slo.md lists alert %s, which no rule file defines", name)
		}
	}
	// Links between runbook sections, and from slo.md to them, resolve too.
	runbooks, err := os.ReadFile(runbooksFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range []struct {
		file    string
		text    []byte
		pattern *regexp.Regexp
	}{
		{"runbooks.md", runbooks, regexp.MustCompile(`\]\(#([^)]+)\)`)},
		{"slo.md", raw, regexp.MustCompile(`\(runbooks\.md#([^)]+)\)`)},
	} {
		for _, m := range link.pattern.FindAllSubmatch(link.text, -1) {
			if !anchors[string(m[1])] {
				t.Errorf("%s links runbooks.md#%s, which is no heading", link.file, m[1])
			}
		}
	}
}

func TestObservabilityCollectorConfig(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(observabilityDir, "otel-collector.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type pipeline struct {
		Receivers  []string `yaml:"receivers"`
		Processors []string `yaml:"processors"`
		Exporters  []string `yaml:"exporters"`
	}
	var cfg struct {
		Extensions map[string]any `yaml:"extensions"`
		Receivers  map[string]any `yaml:"receivers"`
		Processors map[string]any `yaml:"processors"`
		Exporters  map[string]any `yaml:"exporters"`
		Connectors map[string]any `yaml:"connectors"`
		Service    struct {
			Extensions []string            `yaml:"extensions"`
			Pipelines  map[string]pipeline `yaml:"pipelines"`
		} `yaml:"service"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("otel-collector.yaml: %v", err)
	}
	// A component id is type[/name]; the collector rejects a pipeline naming one that
	// is not configured, and warns of configured ones no pipeline uses.
	used := map[string]bool{}
	check := func(section string, defined map[string]any, ids []string) {
		for _, id := range ids {
			if _, ok := defined[id]; !ok {
				t.Errorf("otel-collector.yaml: %s %q is used by a pipeline but not configured", section, id)
			}
			used[section+" "+id] = true
		}
	}
	check("extension", cfg.Extensions, cfg.Service.Extensions)
	for name, p := range cfg.Service.Pipelines {
		if len(p.Receivers) == 0 || len(p.Exporters) == 0 {
			t.Errorf("otel-collector.yaml: pipeline %s needs receivers and exporters", name)
		}
		check("receiver", cfg.Receivers, p.Receivers)
		check("processor", cfg.Processors, p.Processors)
		check("exporter", cfg.Exporters, p.Exporters)
	}
	for section, defined := range map[string]map[string]any{"receiver": cfg.Receivers, "processor": cfg.Processors, "exporter": cfg.Exporters, "extension": cfg.Extensions} {
		for id := range defined {
			if !used[section+" "+id] {
				t.Errorf("otel-collector.yaml: %s %q is configured but no pipeline uses it", section, id)
			}
		}
	}
	typeOf := func(id string) string { return strings.SplitN(id, "/", 2)[0] }
	traces, ok := cfg.Service.Pipelines["traces"]
	if !ok {
		t.Fatal("otel-collector.yaml: no traces pipeline")
	}
	if !slices.ContainsFunc(traces.Receivers, func(id string) bool { return typeOf(id) == "otlp" }) {
		t.Errorf("otel-collector.yaml: the traces pipeline does not receive OTLP (the mesh exports traces over OTLP)")
	}
	if !slices.ContainsFunc(traces.Processors, func(id string) bool { return typeOf(id) == "batch" }) {
		t.Errorf("otel-collector.yaml: the traces pipeline has no batch processor")
	}
	otlpExporters := []string{"otlp", "otlp_grpc", "otlphttp", "otlp_http"}
	if !slices.ContainsFunc(traces.Exporters, func(id string) bool { return slices.Contains(otlpExporters, typeOf(id)) }) {
		t.Errorf("otel-collector.yaml: the traces pipeline exports with none of %v", otlpExporters)
	}
	metrics, ok := cfg.Service.Pipelines["metrics"]
	promExporters := []string{"prometheus", "prometheusremotewrite", "prometheus_remote_write"}
	if !ok || !slices.ContainsFunc(metrics.Exporters, func(id string) bool { return slices.Contains(promExporters, typeOf(id)) }) {
		t.Errorf("otel-collector.yaml: no metrics pipeline exporting with one of %v", promExporters)
	}
	if grpcCfg, _ := cfg.Receivers["otlp"].(map[string]any); grpcCfg == nil || grpcCfg["protocols"] == nil {
		t.Errorf("otel-collector.yaml: the otlp receiver configures no protocols")
	}
}

// exposition indexes the series names that Prometheus would store from scraped pages:
// counters and gauges by name, histograms as _bucket, _sum and _count, summaries as
// the name, _sum and _count.
type exposition struct {
	labels  map[string]map[string]bool // series name -> label names seen on it
	buckets map[string][]float64       // histogram _bucket series -> upper bounds
	sources map[string][]string        // series name -> pages that expose it
}

func newExposition() *exposition {
	return &exposition{labels: map[string]map[string]bool{}, buckets: map[string][]float64{}, sources: map[string][]string{}}
}

func (e *exposition) add(page string, families map[string]*dto.MetricFamily) {
	series := func(name string, m *dto.Metric, extra ...string) {
		if e.labels[name] == nil {
			e.labels[name] = map[string]bool{}
		}
		for _, l := range m.GetLabel() {
			e.labels[name][l.GetName()] = true
		}
		for _, l := range extra {
			e.labels[name][l] = true
		}
		if !slices.Contains(e.sources[name], page) {
			e.sources[name] = append(e.sources[name], page)
		}
	}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM:
				series(name+"_bucket", m, "le")
				series(name+"_sum", m)
				series(name+"_count", m)
				for _, b := range m.GetHistogram().GetBucket() {
					if !slices.Contains(e.buckets[name+"_bucket"], b.GetUpperBound()) {
						e.buckets[name+"_bucket"] = append(e.buckets[name+"_bucket"], b.GetUpperBound())
					}
				}
				if !slices.Contains(e.buckets[name+"_bucket"], math.Inf(1)) {
					e.buckets[name+"_bucket"] = append(e.buckets[name+"_bucket"], math.Inf(1))
				}
			case dto.MetricType_SUMMARY:
				series(name, m, "quantile")
				series(name+"_sum", m)
				series(name+"_count", m)
			default:
				series(name, m)
			}
		}
	}
}

// scrapeAll adds the /metrics pages of every process of ps: the gateway's, and the
// admin listener's where one is set.
func (e *exposition) scrapeAll(t *testing.T, ps ...*proc.Process) {
	t.Helper()
	for _, p := range ps {
		if p.HTTP != "" {
			e.add(p.Name+" "+p.HTTP+"/metrics", scrapeMetrics(t, p.HTTP+"/metrics"))
		}
		if p.Metrics != "" {
			e.add(p.Name+" "+p.Metrics, scrapeMetrics(t, p.Metrics))
		}
	}
}

// exercise drives a mesh so that its histograms and error series exist: successful,
// failing (tool error, unknown tool) and REST tool calls, a list, a stateful session,
// the probes, and a gRPC call that crosses the network.
func exercise(t *testing.T, p *proc.Process) {
	t.Helper()
	post := func(method, name, params string, check func(rpcResponse) bool) {
		t.Helper()
		resp, err := postStateless(p.HTTP, method, name, params)
		if err != nil {
			t.Fatal(err)
		}
		var out rpcResponse
		if err := decodeJSON(resp, &out); err != nil {
			t.Fatal(err)
		}
		if !check(out) {
			t.Fatalf("%s %s: unexpected answer %+v", method, name, out)
		}
	}
	ok := func(out rpcResponse) bool { return out.Error == nil && len(out.Result) > 0 }
	post("tools/call", "echo", `{"name":"echo","arguments":{"message":"observed"}}`, ok)
	post("tools/call", "fail", `{"name":"fail","arguments":{}}`, func(out rpcResponse) bool {
		return out.Error == nil && strings.Contains(string(out.Result), `"isError":true`)
	})
	post("tools/call", "no-such-tool", `{"name":"no-such-tool","arguments":{}}`, func(out rpcResponse) bool { return out.Error != nil })
	post("tools/list", "", `{}`, ok)
	initialize(t, http.DefaultClient, p.HTTP, "2025-11-25")

	resp, err := http.Post(p.HTTP+"/v1/tools/echo:call", "application/json", strings.NewReader(`{"arguments":{"message":"rest"}}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST tool call: %s", resp.Status)
	}
	for _, probe := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(p.HTTP + probe)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}

	conn, err := grpc.NewClient(p.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("gRPC health check of %s: %v", p.GRPC, err)
	}
}

// TestObservabilityMetricsExist checks every metric a rule or a dashboard panel reads
// against the /metrics pages of running meshes: one in one process with in-memory
// state (gateway page and admin listener) and one with PostgreSQL (for the pool
// metrics), each driven through success and failure. A selector must name a series
// some page exposes (histograms only as _bucket, _sum and _count), a recording rule's
// output, or an allow-listed external metric; every label it matches on must occur on
// that series, and a le it asks for must be a bucket boundary.
func TestObservabilityMetricsExist(t *testing.T) {
	dbURL := pgtest.NewDatabase(t) // skips, with the reason, where PostgreSQL cannot run
	rules := loadRules(t)
	queries := append(rules.queries, loadDashboard(t)...)

	migrateDatabase(t, []string{"MCPMESH_DATABASE_URL=" + dbURL})
	const anyPort, admin = "-grpc.listen=127.0.0.1:0", "-admin.listen=127.0.0.1:0"
	memory := start(t, "all", "-target=all", anyPort, "-gateway.listen=127.0.0.1:0", admin)
	withDB := startWithEnv(t, "all-postgres", []string{"MCPMESH_DATABASE_URL=" + dbURL},
		"-target=all", anyPort, "-gateway.listen=127.0.0.1:0", admin)
	exp := newExposition()
	for _, p := range []*proc.Process{memory, withDB} {
		waitReady(t, p.HTTP)
		exercise(t, p)
	}
	exp.scrapeAll(t, memory, withDB)
	if len(exp.labels) == 0 {
		t.Fatal("scraped no series")
	}

	usedExternal := map[string]bool{}
	for _, q := range queries {
		sels, err := selectorsOf(q.expr)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		for _, vs := range sels {
			name := metricName(vs)
			switch {
			case name == "":
				t.Errorf("%s: selector %s names no metric", q.where, vs)
			case rules.recorded[name]:
			case externalMetrics[name] != "":
				usedExternal[name] = true
			case exp.labels[name] == nil:
				t.Errorf("%s: metric %s is not exposed by the mesh%s", q.where, name, nearNames(exp, name))
			default:
				checkMatchers(t, q.where, name, vs.LabelMatchers, exp)
			}
		}
	}

	// The allow-list holds only what comes from outside: no mesh page has these
	// names, nor do they look like the mesh's own; and each is still needed.
	for name, source := range externalMetrics {
		if pages := exp.sources[name]; len(pages) > 0 {
			t.Errorf("allow-listed external metric %s (%s) is exposed by the mesh (%v): remove it from the allow-list", name, source, pages)
		}
		for _, own := range []string{"mcpmesh_", "mcp_", "db_client_", "rpc_", "http_server_", "go_", "process_", "target_info"} {
			if strings.HasPrefix(name, own) {
				t.Errorf("allow-listed external metric %s has the prefix %q of the mesh's own metrics", name, own)
			}
		}
		if !usedExternal[name] {
			t.Errorf("allow-listed external metric %s is used by no rule or panel: remove it", name)
		}
	}
}

// checkMatchers reports label matchers on labels the series never carries, and le
// values that are no bucket boundary of the histogram.
func checkMatchers(t *testing.T, where, name string, matchers []*labels.Matcher, exp *exposition) {
	t.Helper()
	for _, m := range matchers {
		switch {
		case m.Name == model.MetricNameLabel || targetLabels[m.Name]:
		case !exp.labels[name][m.Name]:
			t.Errorf("%s: %s has no label %s (labels seen: %v)", where, name, m.Name, sortedKeys(exp.labels[name]))
		case m.Name == "le" && m.Type == labels.MatchEqual:
			bound, err := strconv.ParseFloat(m.Value, 64)
			if err != nil || !slices.Contains(exp.buckets[name], bound) {
				t.Errorf("%s: %s has no bucket le=%q (boundaries: %v)", where, name, m.Value, exp.buckets[name])
			}
		}
	}
}

// nearNames suggests exposed series sharing the name's first two words.
func nearNames(exp *exposition, name string) string {
	parts := strings.SplitN(name, "_", 3)
	if len(parts) < 2 {
		return ""
	}
	prefix := parts[0] + "_" + parts[1]
	var near []string
	for n := range exp.labels {
		if strings.HasPrefix(n, prefix) {
			near = append(near, n)
		}
	}
	if len(near) == 0 {
		return ""
	}
	sort.Strings(near)
	return fmt.Sprintf(" (exposed with prefix %s: %v)", prefix, near)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// series is the synthetic scrape data of an alert scenario: "load 1m" lines of the
// PromQL test language by series, e.g. `up{job="mcpmesh-gateway"}` -> "1+0x120".
type series map[string]string

// healthySeries is a healthy replicated mesh under steady load for 3 hours: 10 MCP
// requests a second, all fast and successful, every component up, the database pool
// busy with readiness pings and the LISTEN connection up, two registry replicas that
// agree, 200 open GET streams with an occasional refused resumption.
func healthySeries() series {
	const gw, sess, reg = `job="mcpmesh-gateway", instance="gw-1"`, `job="mcpmesh-session", instance="s-1"`, `job="mcpmesh-registry"`
	const call = sess + `, mcp_method_name="tools/call", mcp_protocol_version="2026-07-28"`
	const pool = sess + `, db_client_connection_pool_name="mcpmesh"`
	return series{
		`up{job="mcpmesh-gateway", instance="gw-1"}`:                                                                                      "1+0x180",
		`up{job="mcpmesh-transport", instance="t-1"}`:                                                                                     "1+0x180",
		`up{job="mcpmesh-session", instance="s-1"}`:                                                                                       "1+0x180",
		`up{job="mcpmesh-registry", instance="r-1"}`:                                                                                      "1+0x180",
		`up{job="mcpmesh-registry", instance="r-2"}`:                                                                                      "1+0x180",
		`up{job="mcpmesh-health", instance="h-1"}`:                                                                                        "1+0x180",
		`up{job="mcpmesh-provider", instance="p-1"}`:                                                                                      "1+0x180",
		`http_server_request_duration_seconds_count{` + gw + `, http_route="/mcp", http_response_status_code="200"}`:                      "0+600x180",
		`http_server_request_duration_seconds_count{` + gw + `, http_route="/mcp", http_response_status_code="404"}`:                      "0+6x180",
		`http_server_request_duration_seconds_count{` + gw + `, http_route="/readyz", http_response_status_code="200"}`:                   "0+12x180",
		`mcpmesh_gateway_rate_limited_total{` + gw + `, route="mcp"}`:                                                                     "0+0x180",
		`mcp_server_operation_duration_seconds_bucket{` + call + `, le="0.25"}`:                                                           "0+597x180",
		`mcp_server_operation_duration_seconds_bucket{` + call + `, le="+Inf"}`:                                                           "0+600x180",
		`mcp_server_operation_duration_seconds_count{` + call + `}`:                                                                       "0+600x180",
		`mcpmesh_provider_call_duration_seconds_count{` + sess + `, provider="everything", rpc_method="CallTool", outcome="ok"}`:          "0+600x180",
		`mcpmesh_provider_call_duration_seconds_count{` + sess + `, provider="everything", rpc_method="CallTool", outcome="unavailable"}`: "0+1x180",
		`mcpmesh_provider_breaker_state{` + sess + `, provider="everything"}`:                                                             "0+0x180",
		`mcpmesh_registry_providers{` + reg + `, instance="r-1"}`:                                                                         "2+0x180",
		`mcpmesh_registry_providers{` + reg + `, instance="r-2"}`:                                                                         "2+0x180",
		`mcpmesh_registry_catalogue_entries{` + reg + `, instance="r-1", kind="tool"}`:                                                    "27+0x180",
		`mcpmesh_registry_catalogue_entries{` + reg + `, instance="r-2", kind="tool"}`:                                                    "27+0x180",
		`process_start_time_seconds{` + sess + `}`:                                                                                        "1000+0x180",
		`process_resident_memory_bytes{` + sess + `}`:                                                                                     "100000000+0x180",
		`go_gc_gomemlimit_bytes{` + sess + `}`:                                                                                            "9223372036854775807+0x180",
		`container_memory_working_set_bytes{namespace="mcpmesh", pod="session-1", container="mcpmesh"}`:                                   "100000000+0x180",
		`kube_pod_container_resource_limits{namespace="mcpmesh", pod="session-1", container="mcpmesh", resource="memory"}`:                "536870912+0x180",
		`db_client_connection_count{` + pool + `, db_client_connection_state="idle"}`:                                                     "2+0x180",
		`db_client_connection_count{` + pool + `, db_client_connection_state="used"}`:                                                     "1+0x180",
		`db_client_connection_max{` + pool + `}`:                                                                                          "10+0x180",
		`mcpmesh_db_pool_acquires_total{` + pool + `}`:                                                                                    "0+240x180",
		`mcpmesh_db_pool_canceled_acquires_total{` + pool + `}`:                                                                           "0+0x180",
		`mcpmesh_session_notify_connected{` + sess + `}`:                                                                                  "1+0x180",
		`mcpmesh_session_listen_streams{` + sess + `}`:                                                                                    "200+0x180",
		`mcpmesh_session_resumptions_refused_total{` + sess + `}`:                                                                         "0+0.1x180",
	}
}

// with returns s changed by changes; an empty value removes the series.
func (s series) with(changes series) series {
	out := series{}
	for k, v := range s {
		out[k] = v
	}
	for k, v := range changes {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func (s series) load() string {
	lines := make([]string, 0, len(s))
	for k, v := range s {
		lines = append(lines, "  "+k+" "+v)
	}
	sort.Strings(lines)
	return "load 1m\n" + strings.Join(lines, "\n") + "\n"
}

// firingAlerts evaluates the rule files every minute over the scenario's first
// 90 minutes, as Prometheus would (recording rules first, so alerts read their
// output), and returns the labels of the alerts firing at the end, by alert name.
func firingAlerts(t *testing.T, data series) map[string][]labels.Labels {
	t.Helper()
	loader, err := promqltest.NewLazyLoader(data.load(), promqltest.LazyLoaderOpts{EnableAtModifier: true, EnableNegativeOffset: true})
	if err != nil {
		t.Fatalf("scenario series: %v", err)
	}
	defer func() {
		if err := loader.Close(); err != nil {
			t.Error(err)
		}
	}()
	manager := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:  rules.EngineQueryFunc(loader.QueryEngine(), loader.Storage()),
		Appendable: loader.Storage(),
		Queryable:  loader.Storage(),
		Context:    context.Background(),
		NotifyFunc: func(context.Context, string, ...*rules.Alert) {},
		Logger:     slog.New(slog.DiscardHandler),
	})
	var files []string
	for _, name := range ruleFiles {
		files = append(files, filepath.Join(observabilityDir, name))
	}
	byKey, errs := manager.LoadGroups(time.Minute, labels.EmptyLabels(), "", nil, false, files...)
	if len(errs) > 0 {
		t.Fatalf("load rules: %v", errs)
	}
	// Evaluate in file order (recording.yaml first), groups in the order they appear.
	groups := slices.Collect(maps.Values(byKey))
	order := func(g *rules.Group) (int, int) {
		return slices.Index(files, g.File()), slices.IndexFunc(groupNames(t, g.File()), func(n string) bool { return n == g.Name() })
	}
	slices.SortFunc(groups, func(a, b *rules.Group) int {
		fa, ga := order(a)
		fb, gb := order(b)
		return cmp.Or(cmp.Compare(fa, fb), cmp.Compare(ga, gb))
	})
	for _, g := range groups {
		for _, r := range g.Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				ar.SetRestored(true) // as after a restart with nothing to restore
			}
		}
	}
	start := time.Unix(0, 0).UTC()
	for ts := start; !ts.After(start.Add(90 * time.Minute)); ts = ts.Add(time.Minute) {
		loader.WithSamplesTill(ts, func(err error) {
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range groups {
				g.Eval(loader.Context(), ts)
				for _, r := range g.Rules() {
					if err := r.LastError(); err != nil {
						t.Fatalf("rule %s at %s: %v", r.Name(), ts.Sub(start), err)
					}
				}
			}
		})
	}
	firing := map[string][]labels.Labels{}
	for _, g := range groups {
		for _, r := range g.Rules() {
			ar, ok := r.(*rules.AlertingRule)
			if !ok {
				continue
			}
			for _, a := range ar.ActiveAlerts() {
				if a.State == rules.StateFiring {
					firing[ar.Name()] = append(firing[ar.Name()], a.Labels)
				}
			}
		}
	}
	return firing
}

// groupNames lists the rule group names of a file in order.
func groupNames(t *testing.T, file string) []string {
	t.Helper()
	groups, errs := rulefmt.ParseFile(file, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var names []string
	for _, g := range groups.Groups {
		names = append(names, g.Name)
	}
	return names
}

// TestObservabilityAlertsFire runs the rules over synthetic series, as promtool test
// rules does: a healthy mesh fires nothing, and each failure fires exactly the alerts
// meant for it, with the labels that say where. Together with
// TestObservabilityMetricsExist (the series names and labels are the mesh's), this
// shows the alerts would fire on the real thing.
func TestObservabilityAlertsFire(t *testing.T) {
	const gw, sess, reg = `job="mcpmesh-gateway", instance="gw-1"`, `job="mcpmesh-session", instance="s-1"`, `job="mcpmesh-registry"`
	const call = sess + `, mcp_method_name="tools/call", mcp_protocol_version="2026-07-28"`
	const pool = sess + `, db_client_connection_pool_name="mcpmesh"`
	healthy := healthySeries()
	covered := map[string]bool{} // alerts some scenario makes fire
	for _, tc := range []struct {
		name    string
		changes series
		// want maps each alert that must fire to label values every one of its firing
		// instances must carry; no other alert may fire.
		want map[string]map[string]string
	}{
		{name: "healthy", want: map[string]map[string]string{}},
		{
			name:    "the gateway answers 10% of MCP requests with 503",
			changes: series{`http_server_request_duration_seconds_count{` + gw + `, http_route="/mcp", http_response_status_code="503"}`: "0+60x180"},
			want: map[string]map[string]string{
				"MCPAvailabilityBudgetBurnFast": {"severity": "page", "slo": "mcp-availability"},
				"MCPAvailabilityBudgetBurnSlow": {"severity": "ticket", "slo": "mcp-availability"},
			},
		},
		{
			name:    "30% of tools/call take over 250 ms",
			changes: series{`mcp_server_operation_duration_seconds_bucket{` + call + `, le="0.25"}`: "0+420x180"},
			want: map[string]map[string]string{
				"ToolsCallLatencyBudgetBurnFast": {"severity": "page", "slo": "tools-call-latency"},
				"ToolsCallLatencyBudgetBurnSlow": {"severity": "ticket", "slo": "tools-call-latency"},
			},
		},
		{
			name: "a sixth of MCP requests end with -32603",
			changes: series{
				`mcp_server_operation_duration_seconds_bucket{` + call + `, error_type="-32603", le="0.25"}`: "0+120x180",
				`mcp_server_operation_duration_seconds_bucket{` + call + `, error_type="-32603", le="+Inf"}`: "0+120x180",
				`mcp_server_operation_duration_seconds_count{` + call + `, error_type="-32603"}`:             "0+120x180",
			},
			want: map[string]map[string]string{"MCPServerErrorRatioHigh": {"severity": "page"}},
		},
		{
			name: "a gateway rejects a tenth of its requests with 429",
			changes: series{
				`mcpmesh_gateway_rate_limited_total{` + gw + `, route="mcp"}`:                                                "0+60x180",
				`http_server_request_duration_seconds_count{` + gw + `, http_route="/mcp", http_response_status_code="429"}`: "0+60x180",
			},
			want: map[string]map[string]string{"GatewayRateLimiting": {"instance": "gw-1", "severity": "ticket"}},
		},
		{
			name:    "two thirds of the calls to a provider are unavailable",
			changes: series{`mcpmesh_provider_call_duration_seconds_count{` + sess + `, provider="everything", rpc_method="CallTool", outcome="unavailable"}`: "0+1200x180"},
			want:    map[string]map[string]string{"ProviderDown": {"provider": "everything", "severity": "page"}},
		},
		{
			name:    "a provider's breaker keeps opening",
			changes: series{`mcpmesh_provider_breaker_state{` + sess + `, provider="everything"}`: "2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1 2 2 2 1"},
			want:    map[string]map[string]string{"ProviderCircuitBreakerOpen": {"provider": "everything", "severity": "page"}},
		},
		{
			name:    "a provider's breaker opened once and closed",
			changes: series{`mcpmesh_provider_breaker_state{` + sess + `, provider="everything"}`: "0+0x60 2 1 0+0x60"},
			want:    map[string]map[string]string{},
		},
		{
			name: "the registry lost every provider",
			changes: series{
				`mcpmesh_registry_providers{` + reg + `, instance="r-1"}`: "0+0x180",
				`mcpmesh_registry_providers{` + reg + `, instance="r-2"}`: "0+0x180",
			},
			want: map[string]map[string]string{"NoProvidersRegistered": {"job": "mcpmesh-registry"}},
		},
		{
			name: "one registry replica is behind",
			changes: series{
				`mcpmesh_registry_providers{` + reg + `, instance="r-2"}`:                      "1+0x180",
				`mcpmesh_registry_catalogue_entries{` + reg + `, instance="r-2", kind="tool"}`: "20+0x180",
			},
			want: map[string]map[string]string{"CatalogueStoreLag": {"job": "mcpmesh-registry"}},
		},
		{
			name: "PostgreSQL is unreachable",
			changes: series{
				`mcpmesh_db_pool_acquires_total{` + pool + `}`:                                "5000+0x180",
				`db_client_connection_count{` + pool + `, db_client_connection_state="idle"}`: "0+0x180",
				`db_client_connection_count{` + pool + `, db_client_connection_state="used"}`: "0+0x180",
				`mcpmesh_session_notify_connected{` + sess + `}`:                              "1+0x30 0+0x150",
			},
			// The LISTEN connection is down too, but DatabaseUnreachable says why:
			// SessionNotifyDisconnected stays quiet.
			want: map[string]map[string]string{"DatabaseUnreachable": {"job": "mcpmesh-session", "instance": "s-1"}},
		},
		{
			name:    "a session replica's LISTEN connection stays down while its pool works",
			changes: series{`mcpmesh_session_notify_connected{` + sess + `}`: "1+0x30 0+0x150"},
			want:    map[string]map[string]string{"SessionNotifyDisconnected": {"job": "mcpmesh-session", "instance": "s-1", "severity": "ticket"}},
		},
		{
			name:    "a LISTEN connection down for less than 5 minutes so far",
			changes: series{`mcpmesh_session_notify_connected{` + sess + `}`: "1+0x86 0+0x94"},
			want:    map[string]map[string]string{},
		},
		{
			name:    "GET streams keep coming back with ids the event store no longer holds",
			changes: series{`mcpmesh_session_resumptions_refused_total{` + sess + `}`: "0+5x180"},
			want:    map[string]map[string]string{"ResumptionsRefused": {"job": "mcpmesh-session", "severity": "ticket"}},
		},
		{
			name: "the same refusals among many open GET streams",
			changes: series{
				`mcpmesh_session_listen_streams{` + sess + `}`:            "10000+0x180",
				`mcpmesh_session_resumptions_refused_total{` + sess + `}`: "0+5x180",
			},
			want: map[string]map[string]string{},
		},
		{
			name: "the pool is exhausted",
			changes: series{
				`db_client_connection_count{` + pool + `, db_client_connection_state="idle"}`: "0+0x180",
				`db_client_connection_count{` + pool + `, db_client_connection_state="used"}`: "10+0x180",
			},
			want: map[string]map[string]string{"DatabasePoolSaturated": {"instance": "s-1", "severity": "ticket"}},
		},
		{
			name:    "acquires time out waiting for a connection",
			changes: series{`mcpmesh_db_pool_canceled_acquires_total{` + pool + `}`: "0+5x180"},
			want:    map[string]map[string]string{"DatabasePoolSaturated": {"instance": "s-1"}},
		},
		{
			name:    "no gateway is ready",
			changes: series{`up{job="mcpmesh-gateway", instance="gw-1"}`: ""},
			want:    map[string]map[string]string{"NoReadyReplicas": {"job": "mcpmesh-gateway"}},
		},
		{
			name:    "the only session replica does not answer scrapes",
			changes: series{`up{job="mcpmesh-session", instance="s-1"}`: "0+0x180"},
			want:    map[string]map[string]string{"NoReadyReplicas": {"job": "mcpmesh-session"}},
		},
		{
			name: "a gateway answers /readyz with 503",
			changes: series{
				`http_server_request_duration_seconds_count{` + gw + `, http_route="/readyz", http_response_status_code="200"}`: "12+0x180",
				`http_server_request_duration_seconds_count{` + gw + `, http_route="/readyz", http_response_status_code="503"}`: "0+12x180",
			},
			want: map[string]map[string]string{"GatewayNotReady": {"instance": "gw-1"}},
		},
		{
			name:    "a process restarts every 10 minutes",
			changes: series{`process_start_time_seconds{` + sess + `}`: "1000 1000 1000 1000 1000 1000 1000 1000 1000 1000 1600+0x9 2200+0x9 2800+0x9 3400+0x9 4000+0x9 4600+0x9 5200+0x9 5800+0x9 6400+0x9 7000+0x9"},
			want:    map[string]map[string]string{"ProcessRestarting": {"instance": "s-1"}},
		},
		{
			name:    "a container's working set is at 95% of its limit",
			changes: series{`container_memory_working_set_bytes{namespace="mcpmesh", pod="session-1", container="mcpmesh"}`: "510000000+0x180"},
			want:    map[string]map[string]string{"MemoryNearLimit": {"pod": "session-1"}},
		},
		{
			name: "a process is at 95% of its GOMEMLIMIT",
			changes: series{
				`go_gc_gomemlimit_bytes{` + sess + `}`:        "200000000+0x180",
				`process_resident_memory_bytes{` + sess + `}`: "190000000+0x180",
			},
			want: map[string]map[string]string{"MemoryNearLimit": {"instance": "s-1"}},
		},
	} {
		for name := range tc.want {
			covered[name] = true
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each scenario has its own storage and rule manager
			firing := firingAlerts(t, healthy.with(tc.changes))
			for name, instances := range firing {
				want, ok := tc.want[name]
				if !ok {
					t.Errorf("%s fired unexpectedly: %v", name, instances)
					continue
				}
				for _, l := range instances {
					for k, v := range want {
						if got := l.Get(k); got != v {
							t.Errorf("%s fired with %s=%q, want %q (labels %v)", name, k, got, v, l)
						}
					}
				}
			}
			for name := range tc.want {
				if len(firing[name]) == 0 {
					t.Errorf("%s did not fire", name)
				}
			}
		})
	}
	for _, r := range loadRules(t).alerts {
		if !covered[r.Alert] {
			t.Errorf("alert %s has no scenario that makes it fire", r.Alert)
		}
	}
}
