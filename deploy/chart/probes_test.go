package chart_test

import (
	"bufio"
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
)

// TestProbeTargetsServed starts the binary with every target in one process and asks
// it what the split profile's probes ask: each readiness probe's grpc.health.v1
// service must be known and SERVING, and the gateway's probe paths must answer 200, so
// no probe points at a name or route the process does not serve.
func TestProbeTargetsServed(t *testing.T) {
	r := render(t, filepath.Join(chartDir, "ci", "split-values.yaml"))
	services := map[string]bool{}
	paths := map[string]bool{}
	for _, d := range r.deployments {
		c := d.Spec.Template.Spec.Containers[0]
		for _, p := range []*struct{ grpc, http string }{probeOf(c.StartupProbe), probeOf(c.ReadinessProbe), probeOf(c.LivenessProbe)} {
			if p.http != "" {
				paths[p.http] = true
			} else {
				services[p.grpc] = true
			}
		}
	}
	if len(services) < 6 || len(paths) != 3 {
		t.Fatalf("probes ask gRPC services %v and paths %v", services, paths)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, meshBinary, "-target=all", "-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0", "-log.level=warn")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	var httpBase, grpcAddr string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && (httpBase == "" || grpcAddr == "") {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[0] == "MCP" && f[1] == "endpoint":
			httpBase = strings.TrimSuffix(f[2], "/mcp")
		case len(f) >= 2 && f[0] == "gRPC":
			grpcAddr = f[1]
		}
	}
	if httpBase == "" || grpcAddr == "" {
		t.Fatalf("the banner did not name the addresses (http %q, grpc %q)", httpBase, grpcAddr)
	}
	go func() {
		for sc.Scan() {
		}
	}()

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(20 * time.Second)
	for svc := range services {
		for {
			callCtx, stop := context.WithTimeout(ctx, 2*time.Second)
			resp, err := health.Check(callCtx, &healthpb.HealthCheckRequest{Service: svc})
			stop()
			if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("grpc.health.v1 %q: %v %v", svc, resp.GetStatus(), err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for path := range paths {
		for {
			resp, err := client.Get(httpBase + path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v %v", path, resp, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	resp, err := client.Get(httpBase + "/metrics")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %v", resp, err)
	}
	resp.Body.Close()
}

// probeOf is what a probe asks: an HTTP path, or a grpc.health.v1 service name.
func probeOf(p *corev1.Probe) *struct{ grpc, http string } {
	out := &struct{ grpc, http string }{}
	switch {
	case p.HTTPGet != nil:
		out.http = p.HTTPGet.Path
	case p.GRPC != nil && p.GRPC.Service != nil:
		out.grpc = *p.GRPC.Service
	}
	return out
}
