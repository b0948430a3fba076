package e2e

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

// ping runs `mcpmesh ping` with args and returns its exit code and output.
func ping(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, append([]string{"ping"}, args...)...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	default:
		t.Fatalf("run ping: %v\n%s", err, out)
		return -1, ""
	}
}

// pingUntil runs ping until it exits with want, and returns that run's output. The
// health service checks on a timer, so a change shows after a round or two.
func pingUntil(t *testing.T, want int, args ...string) string {
	t.Helper()
	var code int
	var out string
	if !eventually.Within(30*time.Second, func() bool { code, out = ping(t, args...); return code == want }) {
		t.Fatalf("ping %v: exit %d, want %d within 30s; last output:\n%s", args, code, want, out)
	}
	return out
}

// TestPing runs the binary's ping against a healthy mesh, one with a provider down,
// and one that has stopped.
func TestPing(t *testing.T) {
	fast := []string{"MCPMESH_HEALTH_CHECK_INTERVAL=100ms"}
	all := startWithEnv(t, "all", fast, "-target=all", "-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0")
	waitReady(t, all.HTTP)
	// A second provider in its own process, so that it can die while the mesh lives.
	spare := startWithEnv(t, "spare", []string{"MCPMESH_EVERYTHING_NAME=spare"},
		"-target=provider-everything", "-grpc.listen=127.0.0.1:0", "-peers.registry="+all.GRPC)

	t.Run("healthy mesh", func(t *testing.T) {
		out := pingUntil(t, 0, "-addr", all.GRPC)
		if !strings.Contains(out, "healthy: serving") {
			t.Fatalf("output %q, want it to say the mesh is serving", out)
		}
	})
	t.Run("gateway readiness over HTTP, as the Dockerfile HEALTHCHECK asks", func(t *testing.T) {
		if code, out := ping(t, "-addr", all.HTTP); code != 0 || !strings.Contains(out, "ready") {
			t.Fatalf("exit %d, output %q; want 0 and ready", code, out)
		}
	})
	t.Run("plain grpc.health.v1", func(t *testing.T) {
		if code, out := ping(t, "-plain", "-addr", spare.GRPC); code != 0 || !strings.Contains(out, "SERVING") {
			t.Fatalf("exit %d, output %q; want 0 and SERVING", code, out)
		}
		code, out := ping(t, "-plain", "-service", "no.such.Service", "-addr", spare.GRPC)
		if code != 1 || !strings.Contains(out, "no such service") {
			t.Fatalf("exit %d, output %q; want 1 naming the unknown service", code, out)
		}
	})
	t.Run("not the health service", func(t *testing.T) {
		code, out := ping(t, "-addr", spare.GRPC)
		if code != 1 || !strings.Contains(out, "does not serve mcpmesh.health.v1") {
			t.Fatalf("exit %d, output %q; want 1 saying the address has no health service", code, out)
		}
	})

	t.Run("provider down", func(t *testing.T) {
		spare.Kill()
		// Its lease outlives it, so the health service keeps checking it and finds it gone.
		out := pingUntil(t, 1, "-addr", all.GRPC)
		if !strings.Contains(out, "mesh is degraded") || !strings.Contains(out, "provider spare: not_serving") {
			t.Fatalf("output %q, want the degraded mesh and the provider named", out)
		}
		if code, out := ping(t, "-degraded-ok", "-addr", all.GRPC); code != 0 {
			t.Fatalf("-degraded-ok: exit %d, output %q; want 0 while only a provider is down", code, out)
		}
	})

	t.Run("mesh stopped", func(t *testing.T) {
		if err := all.Stop(20 * time.Second); err != nil {
			t.Fatal(err)
		}
		code, out := ping(t, "-addr", all.GRPC)
		if code != 1 || !strings.Contains(out, "cannot reach "+all.GRPC) {
			t.Fatalf("exit %d, output %q; want 1 saying the health service cannot be reached", code, out)
		}
		code, out = ping(t, "-addr", all.HTTP)
		if code != 1 || !strings.Contains(out, "cannot reach") {
			t.Fatalf("HTTP: exit %d, output %q; want 1 saying the gateway cannot be reached", code, out)
		}
	})
}
