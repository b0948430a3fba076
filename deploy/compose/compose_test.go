// Package compose_test checks deploy/compose/compose.yaml with compose-spec's own
// loader against the binary, and runs its topology as local processes.
package compose_test

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"

	"github.com/mcpmesh/mcpmesh/deploy/image"
	"github.com/mcpmesh/mcpmesh/deploy/internal/meshbin"
	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"
)

var meshBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mcpmesh-compose-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if meshBinary, err = meshbin.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := pgtest.Run(m)
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// load reads compose.yaml with every profile, as `docker compose --profile '*'` would.
func load(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"compose.yaml"},
		cli.WithName("mcpmesh"), cli.WithProfiles([]string{"*"}), cli.WithEnv([]string{"OTEL_EXPORTER_OTLP_ENDPOINT="}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose-go rejects compose.yaml: %v", err)
	}
	return p
}

// meshService is one service running the mcpmesh image, resolved to what the process
// would see: the image's ENV under the service's environment, secrets' paths mapped
// to their files on this machine.
type meshService struct {
	name    string
	svc     types.ServiceConfig
	command []string
	env     []string
}

func meshServices(t *testing.T, p *types.Project) []meshService {
	t.Helper()
	root, err := meshbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	df, err := image.ParseDockerfile(filepath.Join(root, "deploy", "Dockerfile"), "dev")
	if err != nil {
		t.Fatal(err)
	}
	var out []meshService
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		svc := p.Services[name]
		if !strings.HasPrefix(svc.Image, "mcpmesh:") {
			continue
		}
		secrets := map[string]string{}
		for _, s := range svc.Secrets {
			target := s.Target
			if target == "" {
				target = "/run/secrets/" + s.Source
			}
			secrets[target] = p.Secrets[s.Source].File
		}
		env := map[string]string{}
		for _, kv := range df.Runtime.Env {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		for k, v := range svc.Environment {
			if v != nil {
				env[k] = *v
			}
		}
		var list []string
		for k, v := range env {
			if host, ok := secrets[v]; ok {
				v = host
			}
			list = append(list, k+"="+v)
		}
		slices.Sort(list)
		out = append(out, meshService{name: name, svc: svc, command: svc.Command, env: list})
	}
	if len(out) != 8 {
		t.Fatalf("want migrate, the all-in-one and six services on the mcpmesh image, got %d", len(out))
	}
	return out
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return p
}

// TestComposeFile: every command and environment is accepted by the binary's
// configuration loader; the environment alone (what the health check reads) names
// the same target and listeners as the command; every peer names a service running
// that target on its gRPC port; every mounted file exists; Prometheus scrapes the port
// serving /metrics of each service, under the job name the rules expect.
func TestComposeFile(t *testing.T) {
	p := load(t)
	configs := map[string]meshbin.Config{}
	for _, s := range meshServices(t, p) {
		if len(s.command) == 0 || (s.command[0] != "serve" && s.command[0] != "migrate") {
			t.Errorf("%s: command %v is neither serve nor migrate", s.name, s.command)
			continue
		}
		cfg, err := meshbin.PrintConfig(meshBinary, s.command[1:], s.env)
		if err != nil {
			t.Errorf("%s: the binary rejects its configuration: %v", s.name, err)
			continue
		}
		if s.command[0] == "migrate" {
			if cfg.Database.URL == "" {
				t.Errorf("%s: no database.url", s.name)
			}
			if s.svc.Restart != "no" {
				t.Errorf("%s: a one-shot must not restart (restart %q)", s.name, s.svc.Restart)
			}
			continue
		}
		configs[s.name] = cfg
		envOnly, err := meshbin.PrintConfig(meshBinary, nil, s.env)
		if err != nil {
			t.Errorf("%s: the environment alone does not load (ping -self reads only the environment): %v", s.name, err)
		} else if envOnly.Target != cfg.Target || envOnly.GRPC.Listen != cfg.GRPC.Listen || envOnly.Gateway.Listen != cfg.Gateway.Listen {
			t.Errorf("%s: the environment says target %s, gRPC %s, HTTP %s; the command %s, %s, %s: the health check would ask the wrong port",
				s.name, envOnly.Target, envOnly.GRPC.Listen, envOnly.Gateway.Listen, cfg.Target, cfg.GRPC.Listen, cfg.Gateway.Listen)
		}
		if hc := s.svc.HealthCheck; hc == nil || hc.Disable || !slices.Equal([]string(hc.Test), []string{"CMD", image.BinaryPath, "ping", "-self"}) {
			t.Errorf("%s: health check %+v, want the image's ping -self", s.name, hc)
		}
		if s.svc.Deploy == nil || s.svc.Deploy.Resources.Limits == nil || s.svc.Deploy.Resources.Limits.MemoryBytes == 0 {
			t.Errorf("%s: no memory limit", s.name)
		}
		if s.svc.Restart == "" || s.svc.Restart == "no" {
			t.Errorf("%s: no restart policy", s.name)
		}
		if s.svc.User != "65532:65532" || !s.svc.ReadOnly {
			t.Errorf("%s: want user 65532:65532 and a read-only root", s.name)
		}
		if cfg.Database.URL != "" {
			if dep, ok := s.svc.DependsOn["migrate"]; !ok || dep.Condition != types.ServiceConditionCompletedSuccessfully {
				t.Errorf("%s: uses the database but does not wait for migrate to complete", s.name)
			}
		}
	}
	for name, cfg := range configs {
		for target, addr := range map[string]string{"transport": cfg.Peers.Transport, "session": cfg.Peers.Session, "registry": cfg.Peers.Registry, "health": cfg.Peers.Health} {
			if addr == "" {
				continue
			}
			host, port, _ := net.SplitHostPort(addr)
			peer, ok := configs[host]
			if !ok {
				t.Errorf("%s: peers.%s=%s names no mcpmesh service", name, target, addr)
				continue
			}
			if !slices.Contains(strings.Split(peer.Target, ","), target) && peer.Target != "all" {
				t.Errorf("%s: peers.%s=%s, but %s runs %s", name, target, addr, host, peer.Target)
			}
			if port != portOf(t, peer.GRPC.Listen) {
				t.Errorf("%s: peers.%s port %s, but %s listens for gRPC on %s", name, target, port, host, peer.GRPC.Listen)
			}
		}
	}
	for name, svc := range p.Services {
		for dep := range svc.DependsOn {
			if _, ok := p.Services[dep]; !ok {
				t.Errorf("%s depends on %s, which is no service", name, dep)
			}
		}
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s: %v", name, v.Source, err)
			}
		}
		if svc.Deploy == nil || svc.Deploy.Resources.Limits == nil {
			t.Errorf("%s: no resource limits", name)
		}
	}
	for name, s := range p.Secrets {
		if _, err := os.Stat(s.File); err != nil {
			t.Errorf("secret %s: %v", name, err)
		}
	}
	checkPrometheus(t, p, configs)
}

// checkPrometheus: every scrape target is a service's /metrics port, and every mcpmesh
// service is scraped; the rule files Prometheus loads are mounted.
func checkPrometheus(t *testing.T, p *types.Project, configs map[string]meshbin.Config) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var prom struct {
		RuleFiles     []string `json:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `json:"job_name"`
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &prom); err != nil {
		t.Fatal(err)
	}
	mounted := map[string]bool{}
	for _, v := range p.Services["prometheus"].Volumes {
		mounted[v.Target] = true
	}
	for _, f := range prom.RuleFiles {
		if !mounted[f] {
			t.Errorf("prometheus loads %s, which is not mounted", f)
		}
	}
	scraped := map[string]bool{}
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, port, _ := net.SplitHostPort(target)
				cfg, ok := configs[host]
				if !ok {
					t.Errorf("job %s scrapes %s: no such mcpmesh service", sc.JobName, target)
					continue
				}
				want := cfg.Admin.Listen
				if cfg.Target == "all" || strings.Contains(cfg.Target, "gateway") {
					want = cfg.Gateway.Listen
				}
				if want == "" || port != portOf(t, want) {
					t.Errorf("job %s scrapes %s, but /metrics of %s is on %q", sc.JobName, target, host, want)
				}
				if sc.JobName != "mcpmesh-"+cfg.Target {
					t.Errorf("job %s scrapes %s, which runs %s: the rules expect job mcpmesh-%s", sc.JobName, target, cfg.Target, cfg.Target)
				}
				scraped[host] = true
			}
		}
	}
	for name := range configs {
		if !scraped[name] {
			t.Errorf("service %s is not scraped", name)
		}
	}
}
