package chart_test

import (
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	klabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"

	"github.com/mcpmesh/mcpmesh/deploy/chart"
	"github.com/mcpmesh/mcpmesh/deploy/internal/meshbin"
)

const (
	chartDir  = "../helm/mcpmesh"
	namespace = "mcpmesh"
)

var meshBinary string

func TestMain(m *testing.M) {
	log.SetOutput(io.Discard) // Helm's loader logs each symlink it follows (files/ -> deploy/observability)
	dir, err := os.MkdirTemp("", "mcpmesh-chart-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	meshBinary, err = meshbin.Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// valuesFiles are the chart's defaults and every ci/ profile.
func valuesFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(files) < 5 {
		t.Fatalf("ci values files: %v %v", files, err)
	}
	// The plain manifests' values (deploy/kubernetes) get every check too.
	return append([]string{"", filepath.Join("..", "kubernetes", "values.yaml")}, files...)
}

// TestPlainManifestsInSync: deploy/kubernetes/mcpmesh.yaml is what make manifests
// renders from the chart now.
func TestPlainManifestsInSync(t *testing.T) {
	want, err := chart.PlainManifest(chartDir, filepath.Join("..", "kubernetes", "values.yaml"), namespace)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "kubernetes", "mcpmesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatal("deploy/kubernetes/mcpmesh.yaml is stale: run make manifests")
	}
}

// rendered is one values file's objects, indexed for the checks.
type rendered struct {
	name        string
	deployments []*appsv1.Deployment
	jobs        []*batchv1.Job
	services    []*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	pdbs        []*policyv1.PodDisruptionBudget
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	policies    []*networkingv1.NetworkPolicy
	monitors    []*monitoringv1.ServiceMonitor
	rules       []*monitoringv1.PrometheusRule
	raw         []chart.Object
}

func render(t *testing.T, valuesFile string) rendered {
	t.Helper()
	var files []string
	if valuesFile != "" {
		files = []string{valuesFile}
	}
	out, err := chart.Render(chartDir, chart.Release{Name: "mcpmesh", Namespace: namespace}, files...)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	objs, err := chart.Decode(out)
	if err != nil {
		t.Fatalf("decode strictly: %v", err)
	}
	r := rendered{name: valuesFile, configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}, raw: objs}
	for _, o := range objs {
		switch x := o.Typed.(type) {
		case *appsv1.Deployment:
			r.deployments = append(r.deployments, x)
		case *batchv1.Job:
			r.jobs = append(r.jobs, x)
		case *corev1.Service:
			r.services = append(r.services, x)
		case *corev1.ConfigMap:
			r.configMaps[x.Name] = x
		case *corev1.Secret:
			r.secrets[x.Name] = x
		case *policyv1.PodDisruptionBudget:
			r.pdbs = append(r.pdbs, x)
		case *autoscalingv2.HorizontalPodAutoscaler:
			r.hpas = append(r.hpas, x)
		case *networkingv1.NetworkPolicy:
			r.policies = append(r.policies, x)
		case *monitoringv1.ServiceMonitor:
			r.monitors = append(r.monitors, x)
		case *monitoringv1.PrometheusRule:
			r.rules = append(r.rules, x)
		}
		if o.Typed != nil {
			if ns := metaOf(o).GetNamespace(); ns != namespace && o.Kind != "Namespace" {
				t.Errorf("%s %s is in namespace %q", o.Kind, o.Name, ns)
			}
		}
	}
	if len(r.deployments) == 0 {
		t.Fatal("no Deployment rendered")
	}
	return r
}

func metaOf(o chart.Object) metav1.Object {
	m, _ := o.Typed.(metav1.Object)
	if m == nil {
		return &metav1.ObjectMeta{}
	}
	return m
}

func forEachValuesFile(t *testing.T, check func(t *testing.T, r rendered)) {
	for _, f := range valuesFiles(t) {
		name := "defaults"
		if strings.Contains(f, "kubernetes") {
			name = "plain-manifests"
		} else if f != "" {
			name = strings.TrimSuffix(filepath.Base(f), "-values.yaml")
		}
		t.Run(name, func(t *testing.T) { check(t, render(t, f)) })
	}
}

// TestPodsAreRestricted evaluates every pod template (Deployments and the migration
// Job) against Pod Security Standards "restricted", latest version.
func TestPodsAreRestricted(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	restricted := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	forEachValuesFile(t, func(t *testing.T, r rendered) {
		pods := map[string]corev1.PodTemplateSpec{}
		for _, d := range r.deployments {
			pods["Deployment/"+d.Name] = d.Spec.Template
		}
		for _, j := range r.jobs {
			pods["Job/"+j.Name] = j.Spec.Template
		}
		for name, pod := range pods {
			for _, res := range evaluator.EvaluatePod(restricted, &pod.ObjectMeta, &pod.Spec) {
				if !res.Allowed {
					t.Errorf("%s violates restricted: %s: %s", name, res.ForbiddenReason, res.ForbiddenDetail)
				}
			}
			spec := pod.Spec
			if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
				t.Errorf("%s mounts a service-account token", name)
			}
			for _, c := range spec.Containers {
				sc := c.SecurityContext
				if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 65532 || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
					t.Errorf("%s container %s: want runAsUser 65532 (the image's numeric user) and a read-only root", name, c.Name)
				}
			}
		}
	})
}

// process is a container's configuration as the binary itself loads it.
type process struct {
	deployment string
	component  string
	container  corev1.Container
	config     meshbin.Config
	targets    []string
}

// dummyDatabaseURL stands for a database URL kept in a Secret the release does not
// render (an existing Secret, or the one CloudNativePG makes).
const dummyDatabaseURL = "postgres://mcpmesh:secret@db.example:5432/mcpmesh"

// environment resolves a container's envFrom and env as the kubelet would, from the
// rendered ConfigMaps and Secrets.
func environment(t *testing.T, r rendered, c corev1.Container) []string {
	t.Helper()
	var env []string
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Fatalf("container %s: envFrom other than a ConfigMap", c.Name)
		}
		cm, ok := r.configMaps[from.ConfigMapRef.Name]
		if !ok {
			t.Fatalf("container %s: envFrom ConfigMap %s is not rendered", c.Name, from.ConfigMapRef.Name)
		}
		keys := make([]string, 0, len(cm.Data))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			env = append(env, k+"="+cm.Data[k])
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			value := dummyDatabaseURL
			if s, ok := r.secrets[ref.Name]; ok {
				v, ok := s.StringData[ref.Key]
				if !ok {
					t.Errorf("container %s: Secret %s has no key %s", c.Name, ref.Name, ref.Key)
				}
				value = v
			}
			env = append(env, e.Name+"="+value)
		default:
			t.Errorf("container %s: env %s from an unexpected source", c.Name, e.Name)
		}
	}
	return env
}

// processes loads every Deployment's arguments and environment with the binary's own
// configuration loader (mcpmesh config print): a flag or variable it rejects fails.
func processes(t *testing.T, r rendered) []process {
	t.Helper()
	var out []process
	for _, d := range r.deployments {
		if len(d.Spec.Template.Spec.Containers) != 1 {
			t.Fatalf("%s: want one container", d.Name)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if len(c.Args) == 0 || c.Args[0] != "serve" {
			t.Fatalf("%s: args %v do not start with serve", d.Name, c.Args)
		}
		cfg, err := meshbin.PrintConfig(meshBinary, c.Args[1:], environment(t, r, c))
		if err != nil {
			t.Errorf("%s: the binary rejects its configuration: %v", d.Name, err)
			continue
		}
		targets := strings.Split(cfg.Target, ",")
		if cfg.Target == "all" {
			// The targets of -target=all, as `mcpmesh serve` lists them at start.
			targets = []string{"registry", "provider-everything", "federation", "session", "transport", "health", "gateway"}
		}
		out = append(out, process{deployment: d.Name, component: d.Labels["app.kubernetes.io/component"], container: c, config: cfg, targets: targets})
	}
	return out
}

func portOf(t *testing.T, addr string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return int32(n)
}

func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return d
}

// TestDeploymentsMatchTheBinary checks every Deployment against the configuration the
// binary loads from its arguments and environment: probes ask ports and paths that
// process serves, the metrics port is the one serving /metrics, the grace period
// outlasts drain plus shutdown, GOMEMLIMIT sits under the memory limit, rollouts keep
// every replica, and every peer address names a Service of a Deployment running that
// target.
func TestDeploymentsMatchTheBinary(t *testing.T) {
	forEachValuesFile(t, func(t *testing.T, r rendered) {
		procs := processes(t, r)
		services := map[string]*corev1.Service{}
		for _, s := range r.services {
			services[s.Name+"."+namespace+".svc.cluster.local"] = s
		}
		mesh := strings.Contains(r.name, "istio") || strings.Contains(r.name, "linkerd")
		for _, p := range procs {
			c := p.container
			runsGateway := slices.Contains(p.targets, "gateway")
			runsGRPC := slices.ContainsFunc(p.targets, func(s string) bool { return s != "gateway" })
			for name, probe := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
				switch {
				case probe == nil:
					t.Errorf("%s: no %s probe", p.deployment, name)
				case probe.HTTPGet != nil:
					if !runsGateway {
						t.Errorf("%s: %s probe over HTTP, but the process runs no gateway", p.deployment, name)
					}
					want := map[string]string{"startup": "/startupz", "readiness": "/readyz", "liveness": "/healthz"}[name]
					if probe.HTTPGet.Path != want {
						t.Errorf("%s: %s probe path %s, want %s", p.deployment, name, probe.HTTPGet.Path, want)
					}
					if got := containerPort(c, probe.HTTPGet.Port.StrVal); got != portOf(t, p.config.Gateway.Listen) {
						t.Errorf("%s: %s probe port %s (%d) is not gateway.listen %s", p.deployment, name, probe.HTTPGet.Port.String(), got, p.config.Gateway.Listen)
					}
				case probe.GRPC != nil:
					if runsGateway || !runsGRPC {
						t.Errorf("%s: gRPC %s probe on a process that serves HTTP probes", p.deployment, name)
					}
					if probe.GRPC.Port != portOf(t, p.config.GRPC.Listen) {
						t.Errorf("%s: %s probe on port %d, but grpc.listen is %s", p.deployment, name, probe.GRPC.Port, p.config.GRPC.Listen)
					}
					if name == "readiness" {
						if probe.GRPC.Service == nil || *probe.GRPC.Service == "" {
							t.Errorf("%s: readiness asks the whole server, not the service (which follows its dependencies); TestProbeTargetsServed checks the names", p.deployment)
						}
					} else if probe.GRPC.Service != nil && *probe.GRPC.Service != "" {
						t.Errorf("%s: %s probe asks %q; it must ask the server (\"\"), which a dependency outage never turns off", p.deployment, name, *probe.GRPC.Service)
					}
				case probe.Exec != nil:
					// gRPC over mutual TLS, which Kubernetes' gRPC probes cannot speak:
					// mcpmesh ping over TLS with the pod's certificate.
					cmd := probe.Exec.Command
					want := []string{"/usr/local/bin/mcpmesh", "ping", "-plain", "-addr", fmt.Sprintf("localhost:%d", portOf(t, p.config.GRPC.Listen))}
					if runsGateway || !runsGRPC || p.config.GRPC.TLS.CertFile == "" || len(cmd) < len(want) || !slices.Equal(cmd[:len(want)], want) {
						t.Errorf("%s: %s exec probe %v, want %v on a gRPC-only process with grpc.tls", p.deployment, name, cmd, want)
					}
					asksService := len(cmd) == len(want)+2 && cmd[len(want)] == "-service" && cmd[len(want)+1] != ""
					if (name == "readiness") != asksService {
						t.Errorf("%s: %s exec probe %v: readiness asks the service, the others the server", p.deployment, name, cmd)
					}
				default:
					t.Errorf("%s: %s probe is neither HTTP, gRPC nor mcpmesh ping", p.deployment, name)
				}
			}
			// /metrics: the gateway's listener when the process runs the gateway, else admin.listen.
			if runsGateway {
				if containerPort(c, "http") != portOf(t, p.config.Gateway.Listen) {
					t.Errorf("%s: port http is not gateway.listen", p.deployment)
				}
			} else if p.config.Admin.Listen == "" || containerPort(c, "metrics") != portOf(t, p.config.Admin.Listen) {
				t.Errorf("%s: port metrics %d does not serve /metrics (admin.listen %q)", p.deployment, containerPort(c, "metrics"), p.config.Admin.Listen)
			}
			if runsGRPC && containerPort(c, "grpc") != portOf(t, p.config.GRPC.Listen) {
				t.Errorf("%s: port grpc is not grpc.listen %s", p.deployment, p.config.GRPC.Listen)
			}
			// Shutdown: a SIGKILL must never cut the drain.
			d := findDeployment(r, p.deployment)
			grace := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
			need := max(mustDuration(t, p.config.GRPC.DrainDelay)+mustDuration(t, p.config.GRPC.ShutdownTimeout),
				mustDuration(t, p.config.Gateway.DrainDelay)+mustDuration(t, p.config.Gateway.ShutdownTimeout))
			if grace <= need {
				t.Errorf("%s: terminationGracePeriodSeconds %s <= drain + shutdown %s", p.deployment, grace, need)
			}
			if runsGateway && mustDuration(t, p.config.Gateway.DrainDelay) <= 0 {
				t.Errorf("%s: the gateway has no drain delay: its listener would close before endpoints drop it", p.deployment)
			}
			if runsGRPC && mustDuration(t, p.config.GRPC.DrainDelay) <= 0 {
				t.Errorf("%s: gRPC has no drain delay", p.deployment)
			}
			// GOMEMLIMIT below the memory limit.
			limit := c.Resources.Limits.Memory()
			var gomemlimit int64
			for _, e := range c.Env {
				if e.Name == "GOMEMLIMIT" {
					gomemlimit, _ = strconv.ParseInt(e.Value, 10, 64)
				}
			}
			if limit.IsZero() || gomemlimit <= 0 || gomemlimit >= limit.Value() || gomemlimit < limit.Value()*8/10 {
				t.Errorf("%s: GOMEMLIMIT %d for a memory limit of %s: want 80-99%% of it", p.deployment, gomemlimit, limit.String())
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
				t.Errorf("%s: no CPU or memory request", p.deployment)
			}
			if s := d.Spec.Strategy; s.Type != appsv1.RollingUpdateDeploymentStrategyType || s.RollingUpdate == nil || s.RollingUpdate.MaxUnavailable == nil || s.RollingUpdate.MaxUnavailable.IntValue() != 0 {
				t.Errorf("%s: want RollingUpdate with maxUnavailable 0", p.deployment)
			}
			// Peers: a Service that selects a Deployment running the peer target, on its gRPC port.
			for target, addr := range map[string]string{"transport": p.config.Peers.Transport, "session": p.config.Peers.Session, "registry": p.config.Peers.Registry, "health": p.config.Peers.Health} {
				if addr == "" {
					continue
				}
				host, port, _ := net.SplitHostPort(addr)
				svc, ok := services[host]
				if !ok {
					t.Errorf("%s: peers.%s=%s names no rendered Service", p.deployment, target, addr)
					continue
				}
				if headless := svc.Spec.ClusterIP == corev1.ClusterIPNone; headless == mesh {
					t.Errorf("%s: peers.%s dials %s (headless %v); want headless exactly when no mesh balances L7", p.deployment, target, svc.Name, headless)
				}
				if !serviceHasPort(svc, port) {
					t.Errorf("%s: peers.%s port %s is not a port of Service %s", p.deployment, target, port, svc.Name)
				}
				if backing := selected(r, svc.Spec.Selector); backing == nil || !slices.Contains(processFor(procs, backing.Name).targets, target) {
					t.Errorf("%s: peers.%s Service %s does not select a Deployment running %s", p.deployment, target, svc.Name, target)
				}
			}
		}
		// Every Service selects a Deployment and its target ports are container ports.
		for _, s := range r.services {
			d := selected(r, s.Spec.Selector)
			if d == nil {
				t.Errorf("Service %s selects no Deployment", s.Name)
				continue
			}
			for _, sp := range s.Spec.Ports {
				if containerPort(d.Spec.Template.Spec.Containers[0], sp.TargetPort.StrVal) == 0 {
					t.Errorf("Service %s port %s targets %s, which %s does not expose", s.Name, sp.Name, sp.TargetPort.String(), d.Name)
				}
			}
		}
		// The migration Job's arguments load too (migrate takes serve's flags).
		for _, j := range r.jobs {
			c := j.Spec.Template.Spec.Containers[0]
			if c.Args[0] != "migrate" {
				t.Errorf("Job %s does not run migrate: %v", j.Name, c.Args)
			}
			cfg, err := meshbin.PrintConfig(meshBinary, c.Args[1:], environment(t, r, c))
			if err != nil {
				t.Errorf("Job %s: %v", j.Name, err)
			} else if cfg.Database.URL == "" {
				t.Errorf("Job %s: no database.url", j.Name)
			} else {
				checkMigratesForEveryProcess(t, j.Name, cfg.Target, procs)
			}
			if hook := j.Annotations["helm.sh/hook"]; !strings.Contains(hook, "pre-upgrade") {
				t.Errorf("Job %s: hook %q; migrations must run before an upgrade's new pods", j.Name, hook)
			}
		}
	})
}

// tableOwners are the services whose tables `mcpmesh migrate` creates (mesh.OwnsTables);
// a process running one of them with a database refuses to start without its tables.
var tableOwners = []string{"registry", "session", "federation"}

// checkMigratesForEveryProcess fails when the migration Job's -target leaves out the
// tables of a service some Deployment runs ("all" runs every one of them).
func checkMigratesForEveryProcess(t *testing.T, job, jobTarget string, procs []process) {
	t.Helper()
	migrated := strings.Split(jobTarget, ",")
	for _, p := range procs {
		for _, target := range p.targets {
			for _, owner := range tableOwners {
				runs := target == owner || target == "all"
				if runs && !slices.Contains(migrated, owner) && !slices.Contains(migrated, "all") {
					t.Errorf("Job %s migrates %s, but %s runs %s, whose tables it leaves out", job, jobTarget, p.deployment, owner)
				}
			}
		}
	}
}

func serviceHasPort(s *corev1.Service, port string) bool {
	for _, p := range s.Spec.Ports {
		if strconv.Itoa(int(p.Port)) == port {
			return true
		}
	}
	return false
}

func findDeployment(r rendered, name string) *appsv1.Deployment {
	for _, d := range r.deployments {
		if d.Name == name {
			return d
		}
	}
	return nil
}

func processFor(procs []process, deployment string) process {
	for _, p := range procs {
		if p.deployment == deployment {
			return p
		}
	}
	return process{}
}

// selected is the one Deployment whose pods carry every label of selector.
func selected(r rendered, selector map[string]string) *appsv1.Deployment {
	var found *appsv1.Deployment
	for _, d := range r.deployments {
		if klabels.SelectorFromSet(selector).Matches(klabels.Set(d.Spec.Template.Labels)) {
			if found != nil {
				return nil
			}
			found = d
		}
	}
	return found
}

// providerCallers are the targets that dial the providers the registry lists: session
// (tool calls and resource reads), health (provider checks) and registry (probing and
// catalogue refreshes). Providers are not peers.* (their addresses come from the
// registry), so the NetworkPolicy must open these edges from this list.
var providerCallers = []string{"session", "health", "registry"}

// TestNetworkPolicyEdges: default deny for every pod of the release; each component's
// egress to other components is exactly the peers its configuration dials (plus the
// provider for the targets that call providers); its gRPC ingress is exactly from the
// components that dial it; DNS for all, the database only for the targets that use it.
func TestNetworkPolicyEdges(t *testing.T) {
	forEachValuesFile(t, func(t *testing.T, r rendered) {
		procs := processes(t, r)
		componentOf := map[string]string{} // target -> component running it
		for _, p := range procs {
			for _, tg := range p.targets {
				componentOf[tg] = p.component
			}
		}
		wantEgress := map[string][]string{}
		for _, p := range procs {
			var peers []string
			for target, addr := range map[string]string{"transport": p.config.Peers.Transport, "session": p.config.Peers.Session, "registry": p.config.Peers.Registry, "health": p.config.Peers.Health} {
				if addr != "" {
					peers = append(peers, componentOf[target])
				}
			}
			for _, tg := range p.targets {
				if slices.Contains(providerCallers, tg) && componentOf["provider-everything"] != p.component {
					peers = append(peers, componentOf["provider-everything"])
				}
			}
			slices.Sort(peers)
			wantEgress[p.component] = slices.Compact(peers)
		}
		wantIngress := map[string][]string{}
		for from, tos := range wantEgress {
			for _, to := range tos {
				wantIngress[to] = append(wantIngress[to], from)
			}
		}
		defaultDeny := false
		policies := map[string]*networkingv1.NetworkPolicy{}
		for _, np := range r.policies {
			sel := np.Spec.PodSelector.MatchLabels
			if _, perComponent := sel["app.kubernetes.io/component"]; !perComponent {
				if len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0 && len(np.Spec.PolicyTypes) == 2 {
					defaultDeny = true
				}
				continue
			}
			policies[sel["app.kubernetes.io/component"]] = np
		}
		if !defaultDeny {
			t.Error("no default-deny NetworkPolicy (both directions) for the release's pods")
		}
		for _, p := range procs {
			np, ok := policies[p.component]
			if !ok {
				t.Errorf("%s: no NetworkPolicy", p.component)
				continue
			}
			var egress, ingress []string
			dns, database := false, false
			for _, rule := range np.Spec.Egress {
				for _, peer := range rule.To {
					if c := componentLabel(peer); c != "" && peer.NamespaceSelector == nil {
						egress = append(egress, c)
					}
				}
				for _, port := range rule.Ports {
					if port.Port != nil && port.Port.IntValue() == 53 {
						dns = true
					}
					if port.Port != nil && port.Port.IntValue() == 5432 {
						database = true
					}
				}
			}
			for _, rule := range np.Spec.Ingress {
				for _, peer := range rule.From {
					if c := componentLabel(peer); c != "" {
						ingress = append(ingress, c)
						if len(rule.Ports) != 1 || rule.Ports[0].Port.String() != "grpc" {
							t.Errorf("%s: ingress from %s is not limited to the gRPC port", p.component, c)
						}
					}
				}
			}
			slices.Sort(egress)
			slices.Sort(ingress)
			want := wantIngress[p.component]
			slices.Sort(want)
			if !slices.Equal(egress, wantEgress[p.component]) {
				t.Errorf("%s: egress to %v, but it dials %v", p.component, egress, wantEgress[p.component])
			}
			if !slices.Equal(ingress, want) {
				t.Errorf("%s: gRPC ingress from %v, but it is dialed by %v", p.component, ingress, want)
			}
			if !dns {
				t.Errorf("%s: no DNS egress", p.component)
			}
			if usesDB := p.config.Database.URL != ""; database != usesDB {
				t.Errorf("%s: database egress %v, but database.url set is %v", p.component, database, usesDB)
			}
		}
	})
}

func componentLabel(peer networkingv1.NetworkPolicyPeer) string {
	if peer.PodSelector == nil {
		return ""
	}
	return peer.PodSelector.MatchLabels["app.kubernetes.io/component"]
}

// TestMonitoring: a ServiceMonitor per component scrapes the port serving /metrics with
// the job name the rules expect; the PrometheusRules are deploy/observability's files;
// every series a rule reads by job is scraped by one of the ServiceMonitors.
func TestMonitoring(t *testing.T) {
	source := map[string][]monitoringv1.RuleGroup{}
	for _, f := range []string{"recording", "alerts"} {
		b, err := os.ReadFile(filepath.Join("..", "observability", f+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var spec monitoringv1.PrometheusRuleSpec
		if err := yaml.UnmarshalStrict(b, &spec); err != nil {
			t.Fatalf("%s.yaml: %v", f, err)
		}
		source[f] = spec.Groups
	}
	forEachValuesFile(t, func(t *testing.T, r rendered) {
		if len(r.monitors) == 0 {
			return // monitoring off in this profile
		}
		procs := processes(t, r)
		jobs := map[string]bool{}
		for _, p := range procs {
			var svc *corev1.Service
			for _, s := range r.services {
				if s.Spec.ClusterIP != corev1.ClusterIPNone && s.Labels["app.kubernetes.io/component"] == p.component {
					svc = s
				}
			}
			var sm *monitoringv1.ServiceMonitor
			for _, m := range r.monitors {
				sel, err := metav1.LabelSelectorAsSelector(&m.Spec.Selector)
				if err != nil {
					t.Fatal(err)
				}
				if svc != nil && sel.Matches(klabels.Set(svc.Labels)) {
					sm = m
				}
			}
			if sm == nil {
				t.Errorf("%s: no ServiceMonitor selects its Service", p.component)
				continue
			}
			for _, s := range r.services {
				sel, _ := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
				if s != svc && sel.Matches(klabels.Set(s.Labels)) {
					t.Errorf("ServiceMonitor %s also selects %s: every replica would be scraped twice", sm.Name, s.Name)
				}
			}
			ep := sm.Spec.Endpoints[0]
			var target string
			for _, sp := range svc.Spec.Ports {
				if sp.Name == ep.Port {
					target = sp.TargetPort.StrVal
				}
			}
			metricsPort := containerPort(p.container, target)
			var want int32
			if slices.Contains(p.targets, "gateway") {
				want = portOf(t, p.config.Gateway.Listen)
			} else {
				want = portOf(t, p.config.Admin.Listen)
			}
			if metricsPort != want || ep.Path != "/metrics" {
				t.Errorf("%s: ServiceMonitor scrapes port %s (%d) path %s; /metrics is served on %d", p.component, ep.Port, metricsPort, ep.Path, want)
			}
			job := ""
			for _, rl := range ep.RelabelConfigs {
				if rl.TargetLabel == "job" && rl.Replacement != nil {
					job = *rl.Replacement
				}
			}
			if job != "mcpmesh-"+p.component {
				t.Errorf("%s: ServiceMonitor sets job %q, want mcpmesh-%s", p.component, job, p.component)
			}
			jobs[job] = true
		}
		if len(r.rules) == 0 {
			return
		}
		for _, pr := range r.rules {
			f := strings.TrimPrefix(pr.Name, "mcpmesh-")
			want, ok := source[f]
			if !ok {
				t.Errorf("PrometheusRule %s comes from no deploy/observability file", pr.Name)
				continue
			}
			got, _ := yaml.Marshal(pr.Spec.Groups)
			exp, _ := yaml.Marshal(want)
			if string(got) != string(exp) {
				t.Errorf("PrometheusRule %s differs from deploy/observability/%s.yaml", pr.Name, f)
			}
		}
		if len(r.rules) != len(source) {
			t.Errorf("%d PrometheusRules, want one per file of deploy/observability (%d)", len(r.rules), len(source))
		}
		// Every job a rule selects is scraped. Components the all-in-one layout folds
		// into one process are exempt from the per-component absent() checks.
		for _, groups := range source {
			for _, g := range groups {
				for _, rule := range g.Rules {
					expr, err := parser.NewParser(parser.Options{}).ParseExpr(rule.Expr.String())
					if err != nil {
						t.Fatalf("rule %s%s: %v", rule.Alert, rule.Record, err)
					}
					for _, vs := range parser.ExtractSelectors(expr) {
						checkSelectorScraped(t, rule.Alert+rule.Record, vs, jobs, len(procs) == 1)
					}
				}
			}
		}
	})
}

func checkSelectorScraped(t *testing.T, rule string, matchers []*labels.Matcher, jobs map[string]bool, allInOne bool) {
	t.Helper()
	var metric string
	var job *labels.Matcher
	for _, m := range matchers {
		switch m.Name {
		case model.MetricNameLabel:
			metric = m.Value
		case "job":
			job = m
		case "container":
			if m.Type == labels.MatchEqual && m.Value != "mcpmesh" {
				t.Errorf("rule %s reads container %q; the chart's container is mcpmesh", rule, m.Value)
			}
		}
	}
	if job == nil || strings.Contains(metric, ":") {
		return // recorded series, or cAdvisor and kube-state-metrics series
	}
	for j := range jobs {
		if job.Matches(j) {
			return
		}
	}
	if allInOne && job.Type == labels.MatchEqual {
		return
	}
	t.Errorf("rule %s reads %s{job%s%q}, which no ServiceMonitor's job (%v) matches", rule, metric, job.Type, job.Value, jobs)
}

// TestProductionProfiles: in every production profile each Deployment has a
// PodDisruptionBudget and a HorizontalPodAutoscaler (with behavior), at least two
// replicas, zone spread, and the database wired.
func TestProductionProfiles(t *testing.T) {
	for _, f := range valuesFiles(t) {
		if !strings.Contains(filepath.Base(f), "production") {
			continue
		}
		t.Run(strings.TrimSuffix(filepath.Base(f), "-values.yaml"), func(t *testing.T) {
			r := render(t, f)
			for _, d := range r.deployments {
				hasPDB := false
				for _, pdb := range r.pdbs {
					sel, _ := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
					hasPDB = hasPDB || sel.Matches(klabels.Set(d.Spec.Template.Labels))
				}
				if !hasPDB {
					t.Errorf("%s: no PodDisruptionBudget", d.Name)
				}
				var hpa *autoscalingv2.HorizontalPodAutoscaler
				for _, h := range r.hpas {
					if h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == d.Name {
						hpa = h
					}
				}
				switch {
				case hpa == nil:
					t.Errorf("%s: no HorizontalPodAutoscaler", d.Name)
				case hpa.Spec.Behavior == nil || hpa.Spec.Behavior.ScaleDown == nil || hpa.Spec.Behavior.ScaleUp == nil:
					t.Errorf("%s: HPA without scale-up and scale-down behavior", d.Name)
				case hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2:
					t.Errorf("%s: HPA minReplicas below 2", d.Name)
				}
				if d.Spec.Replicas != nil {
					t.Errorf("%s: replicas set next to an HPA (every apply would reset the scale)", d.Name)
				}
				zones := false
				for _, c := range d.Spec.Template.Spec.TopologySpreadConstraints {
					zones = zones || c.TopologyKey == "topology.kubernetes.io/zone"
				}
				if !zones {
					t.Errorf("%s: no spread across zones", d.Name)
				}
			}
			cnpg := map[string]chart.Object{}
			for _, o := range r.raw {
				if o.Typed == nil {
					cnpg[o.Kind] = o
				}
			}
			if strings.Contains(f, "cloudnativepg") {
				cluster, backup := cnpg["Cluster"], cnpg["ScheduledBackup"]
				if cluster.Name == "" || backup.Name == "" {
					t.Fatalf("want a CloudNativePG Cluster and ScheduledBackup, got %v", cnpg)
				}
				var b chart.CNPGScheduledBackup
				if err := yaml.Unmarshal(backup.Raw, &b); err != nil || b.Spec.Cluster.Name != cluster.Name {
					t.Errorf("ScheduledBackup backs up %q, not the Cluster %s", b.Spec.Cluster.Name, cluster.Name)
				}
				// The mesh reads the Secret CloudNativePG makes for the application user.
				for _, d := range r.deployments {
					for _, e := range d.Spec.Template.Spec.Containers[0].Env {
						if e.Name == "MCPMESH_DATABASE_URL" && (e.ValueFrom.SecretKeyRef.Name != cluster.Name+"-app" || e.ValueFrom.SecretKeyRef.Key != "uri") {
							t.Errorf("%s reads the database URL from %s/%s, not CloudNativePG's %s-app/uri", d.Name, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key, cluster.Name)
						}
					}
				}
			}
			if len(r.jobs) != 1 {
				t.Errorf("want the migration Job, got %d Jobs", len(r.jobs))
			}
		})
	}
}

// TestValuesSchemaRejectsMistakes: values.schema.json turns typical mistakes into an
// error at install time instead of a broken release.
func TestValuesSchemaRejectsMistakes(t *testing.T) {
	for name, values := range map[string]string{
		"unknown key":           "replicaCount: 3\n",
		"unknown mode":          "mode: both\n",
		"memory limit in bytes": "components:\n  gateway:\n    resources:\n      limits: {memory: 536870912}\n",
		"bad database url":      "database:\n  mode: external\n  external: {url: mysql://x}\n",
		"route without parent":  "httpRoute: {enabled: true}\n",
		"unknown mesh":          "serviceMesh: consul\n",
	} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "values.yaml")
			if err := os.WriteFile(f, []byte(values), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := chart.Render(chartDir, chart.Release{Name: "mcpmesh", Namespace: namespace}, f); err == nil {
				t.Errorf("values %q rendered without an error", values)
			}
		})
	}
}
