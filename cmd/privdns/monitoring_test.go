package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.yaml.in/yaml/v3"

	"github.com/privdns/privdns/resolver/metrics"
)

// The dashboard and the alert rules in deploy/ are read by Grafana and
// Prometheus, never by the Go build: these checks hold them to the metrics
// privdns registers (names and labels), run promtool on them, and parse
// the dashboard as Grafana would.

var (
	rulesFile     = filepath.Join(deployRoot, "deploy", "prometheus", "privdns-rules.yaml")
	rulesTestFile = filepath.Join(deployRoot, "deploy", "prometheus", "privdns-rules.test.yaml")
	dashboardFile = filepath.Join(deployRoot, "deploy", "grafana", "privdns-dashboard.json")
)

// specOnly are metrics the SPEC names that privdns does not register yet,
// with their labels: the dashboard and alerts may watch for them already.
var specOnly = map[string][]string{}

// describer records what collectors describe instead of registering them.
type describer struct {
	series map[string][]string // every series name, histograms' _bucket, _sum and _count too
	base   map[string]bool     // the names collectors describe
}

var descRE = regexp.MustCompile(`fqName: "([^"]+)".*constLabels: \{(.*)\}, variableLabels: \{(.*)\}\}$`)

func (d *describer) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for desc := range ch {
		m := descRE.FindStringSubmatch(desc.String())
		if m == nil {
			return fmt.Errorf("cannot read %s", desc)
		}
		var labels []string
		for _, l := range strings.Split(m[2], ",") {
			if name, _, ok := strings.Cut(l, "="); ok {
				labels = append(labels, name)
			}
		}
		for _, l := range strings.Split(m[3], ",") {
			if l != "" {
				labels = append(labels, strings.TrimSuffix(strings.TrimPrefix(l, "c("), ")"))
			}
		}
		d.series[m[1]] = labels
		d.base[m[1]] = true
		// A histogram's series; the describer cannot tell one from a
		// gauge, and the extra names do no harm.
		d.series[m[1]+"_bucket"] = append(slices.Clone(labels), "le")
		d.series[m[1]+"_sum"] = labels
		d.series[m[1]+"_count"] = labels
	}
	return nil
}

func (d *describer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := d.Register(c); err != nil {
			panic(err)
		}
	}
}

func (d *describer) Unregister(prometheus.Collector) bool { return true }

// exportedSeries are the series names privdns's /metrics can hold, each
// with its labels: what serve registers, plus specOnly.
func exportedSeries(t *testing.T) map[string][]string { return describeExported(t).series }

func describeExported(t *testing.T) *describer {
	t.Helper()
	d := &describer{series: map[string][]string{}, base: map[string]bool{}}
	if _, err := metrics.New(d); err != nil {
		t.Fatal(err)
	}
	for _, c := range []prometheus.Collector{buildInfo(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := d.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	for name, labels := range specOnly {
		d.series[name] = labels
		d.base[name] = true
	}
	return d
}

var (
	seriesRE  = regexp.MustCompile(`\b(?:privdns|go|process)_[a-zA-Z0-9_]+`)
	matcherRE = regexp.MustCompile(`\{([^}]*)\}`)
	labelRE   = regexp.MustCompile(`(\w+)\s*(?:=~|!~|!=|=)`)
	groupRE   = regexp.MustCompile(`\b(?:by|without|on|ignoring)\s*\(([^)]*)\)`)

	aggregationRE = regexp.MustCompile(`\b(?:sum|min|max|avg|count)\s*(?:by|without|\()`)
)

// exprProblems names the series and labels of a PromQL expression that
// privdns does not export. Labels count when one of the expression's
// series has them (or they are Prometheus's own: instance, job).
func exprProblems(expr string, known map[string][]string) []string {
	var problems []string
	labels := map[string]bool{"instance": true, "job": true}
	names := seriesRE.FindAllString(expr, -1)
	if len(names) == 0 {
		problems = append(problems, "reads no privdns series")
	}
	for _, name := range names {
		ls, ok := known[name]
		if !ok {
			problems = append(problems, "unknown series "+name)
		}
		for _, l := range ls {
			labels[l] = true
		}
	}
	var used []string
	for _, m := range matcherRE.FindAllStringSubmatch(expr, -1) {
		for _, l := range labelRE.FindAllStringSubmatch(m[1], -1) {
			used = append(used, l[1])
		}
	}
	for _, m := range groupRE.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(m[1], ",") {
			used = append(used, strings.TrimSpace(l))
		}
	}
	for _, l := range used {
		if l != "" && l != "__name__" && !labels[l] {
			problems = append(problems, "label "+l+" is on none of "+strings.Join(names, ", "))
		}
	}
	return problems
}

func TestExprProblemsCatchesUnknownSeriesAndLabels(t *testing.T) {
	known := exportedSeries(t)
	for expr, want := range map[string]string{
		`rate(privdns_requests_total{network="a"}[5m])`:                                             "",
		`sum by (zone) (rate(privdns_responses_total[5m]))`:                                         "label zone is on none of privdns_responses_total",
		`rate(privdns_request_total[5m])`:                                                           "unknown series privdns_request_total",
		`histogram_quantile(0.9, sum by (le) (rate(privdns_upstream_duration_seconds_bucket[5m])))`: "",
		`up == 0`: "reads no privdns series",
	} {
		got := strings.Join(exprProblems(expr, known), "; ")
		if got != want {
			t.Errorf("%s: %q, want %q", expr, got, want)
		}
	}
}

type alertRule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadAlertRules(t *testing.T) []alertRule {
	t.Helper()
	text, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name  string      `yaml:"name"`
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(text, &file); err != nil {
		t.Fatal(err)
	}
	var rules []alertRule
	for _, g := range file.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

func TestAlertRulesWatchWhatPrivdnsExports(t *testing.T) {
	known := exportedSeries(t)
	rules := loadAlertRules(t)
	var names []string
	for _, r := range rules {
		names = append(names, r.Alert)
		for _, p := range exprProblems(r.Expr, known) {
			t.Errorf("%s: %s", r.Alert, p)
		}
		if r.Labels["severity"] != "warning" && r.Labels["severity"] != "critical" {
			t.Errorf("%s: severity %q, want warning or critical", r.Alert, r.Labels["severity"])
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("%s: a summary and a description tell the person paged what to do", r.Alert)
		}
		if aggregationRE.MatchString(r.Expr) && !strings.Contains(r.Expr, "by (instance") {
			t.Errorf("%s: aggregated without instance: one alert should name one privdns", r.Alert)
		}
	}
	// What issue 13 asks to be alerted on.
	for alert, series := range map[string]string{
		"PrivdnsFallbackSpike":      `outcome="fallback"`,
		"PrivdnsUpstreamDown":       "privdns_upstream_healthy",
		"PrivdnsConfigReloadFailed": `privdns_config_reloads_total{result="failure"}`,
		"PrivdnsHighServfailRatio":  `rcode="SERVFAIL"`,
		"PrivdnsLimitsHit":          "privdns_limited_total",
	} {
		i := slices.Index(names, alert)
		if i < 0 || !strings.Contains(rules[i].Expr, series) {
			t.Errorf("no alert %s on %s (alerts: %v)", alert, series, names)
		}
	}
}

// promtool returns the path of promtool, skipping the test without it
// unless PRIVDNS_REQUIRE_PROMTOOL is set (CI sets it).
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("PRIVDNS_REQUIRE_PROMTOOL") != "" {
			t.Fatal("promtool not installed (apt-get install prometheus)")
		}
		t.Skip("promtool not installed (apt-get install prometheus)")
	}
	return path
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(promtool(t), args...).CombinedOutput()
	if err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestAlertRulesPassPromtool(t *testing.T) {
	runPromtool(t, "check", "rules", rulesFile)
	runPromtool(t, "test", "rules", rulesTestFile)
}

type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	text, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(strings.NewReader(string(text)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// grafanaVars stand for the dashboard's variables when its expressions are
// checked outside Grafana.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "$instance", ".+")

func TestDashboardShowsEverySeriesPrivdnsExports(t *testing.T) {
	d := loadDashboard(t)
	exported := describeExported(t)
	known := exported.series
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: Grafana needs both to import it", d.UID, d.Title)
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Type+":"+v.Name)
	}
	if !slices.Contains(vars, "datasource:datasource") || !slices.Contains(vars, "query:instance") {
		t.Errorf("variables %v, want a datasource and an instance picker", vars)
	}
	ids := map[int]bool{}
	var all []string
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("%q: gridPos %+v is outside the 24-column grid", p.Title, g)
		}
		for _, q := range d.Panels {
			h := q.GridPos
			if q.ID < p.ID && g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				t.Errorf("%q overlaps %q", p.Title, q.Title)
			}
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("%q: datasource %q and %d queries; want ${datasource} and at least one", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, target := range p.Targets {
			all = append(all, target.Expr)
			if !strings.Contains(target.Expr, `instance=~"$instance"`) {
				t.Errorf("%q: %s ignores the instance picker", p.Title, target.Expr)
			}
			for _, problem := range exprProblems(target.Expr, known) {
				t.Errorf("%q: %s", p.Title, problem)
			}
		}
	}
	joined := strings.Join(all, "\n")
	for name := range exported.base {
		if strings.HasPrefix(name, "privdns_") && !strings.Contains(joined, name) {
			t.Errorf("no panel shows %s", name)
		}
	}
}

// TestDashboardQueriesParse hands every dashboard query to promtool as a
// recording rule: promtool parses PromQL, Grafana does not until it runs.
func TestDashboardQueriesParse(t *testing.T) {
	bin := promtool(t)
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for _, p := range loadDashboard(t).Panels {
		for i, target := range p.Targets {
			rules = append(rules, rule{Record: fmt.Sprintf("dashboard:panel%d:%d", p.ID, i), Expr: grafanaVars.Replace(target.Expr)})
		}
	}
	text, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "check", "rules", file).CombinedOutput(); err != nil {
		t.Errorf("the dashboard's queries do not parse: %v\n%s", err, out)
	}
}
