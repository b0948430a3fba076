package release

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// amRoute is the part of an Alertmanager route the check needs.
type amRoute struct {
	Receiver string    `yaml:"receiver"`
	Matchers []string  `yaml:"matchers"`
	Continue bool      `yaml:"continue"`
	Routes   []amRoute `yaml:"routes"`
}

// TestAlertmanagerExample: docs/operations/alertmanager.yaml routes every severity the
// alerts of deploy/observability/alerts.yaml use (page to the pager, ticket to the
// ticket queue), every receiver a route names exists, and the inhibition rules name
// alerts that exist. (Alertmanager's own parser is not linked here: its module would
// move the versions the release tools are built with.)
func TestAlertmanagerExample(t *testing.T) {
	root := repoRoot(t)
	var am struct {
		Route        amRoute `yaml:"route"`
		InhibitRules []struct {
			SourceMatchers []string `yaml:"source_matchers"`
			TargetMatchers []string `yaml:"target_matchers"`
		} `yaml:"inhibit_rules"`
		Receivers []struct {
			Name string `yaml:"name"`
		} `yaml:"receivers"`
	}
	readYAML(t, filepath.Join(root, "docs", "operations", "alertmanager.yaml"), &am)
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, filepath.Join(root, "deploy", "observability", "alerts.yaml"), &rules)

	var receivers []string
	for _, r := range am.Receivers {
		receivers = append(receivers, r.Name)
	}
	var walk func(amRoute)
	walk = func(r amRoute) {
		if !slices.Contains(receivers, r.Receiver) {
			t.Errorf("route to receiver %q, which is not defined (have %v)", r.Receiver, receivers)
		}
		for _, child := range r.Routes {
			walk(child)
		}
	}
	walk(am.Route)

	wantReceiver := map[string]string{"page": "pager", "ticket": "ticket-queue"}
	alerts := map[string]bool{}
	for _, g := range rules.Groups {
		for _, rule := range g.Rules {
			if rule.Alert == "" {
				continue
			}
			alerts[rule.Alert] = true
			severity := rule.Labels["severity"]
			want, ok := wantReceiver[severity]
			if !ok {
				t.Errorf("alert %s: severity %q, want page or ticket", rule.Alert, severity)
				continue
			}
			if got := firstReceiver(am.Route, severity); got != want {
				t.Errorf("alert %s (severity %s) is routed to %q, want %q", rule.Alert, severity, got, want)
			}
		}
	}
	if len(alerts) == 0 {
		t.Fatal("deploy/observability/alerts.yaml: no alerts read")
	}
	alertName := regexp.MustCompile(`alertname=~?"([^"]+)"`)
	for _, rule := range am.InhibitRules {
		for _, m := range append(slices.Clone(rule.SourceMatchers), rule.TargetMatchers...) {
			sub := alertName.FindStringSubmatch(m)
			if sub == nil {
				continue
			}
			for _, name := range regexp.MustCompile(`\|`).Split(sub[1], -1) {
				if !alerts[name] {
					t.Errorf("inhibit rule matcher %s names alert %s, which alerts.yaml does not define", m, name)
				}
			}
		}
	}
}

// firstReceiver is the receiver of the first child route whose matchers select the
// severity (the routes here match on severity only).
func firstReceiver(r amRoute, severity string) string {
	for _, child := range r.Routes {
		if slices.Contains(child.Matchers, `severity="`+severity+`"`) {
			return child.Receiver
		}
	}
	return r.Receiver
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
