package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/config"
)

// runPing asks whether the mesh is healthy and exits 0 when it is, 1 otherwise,
// printing the reason: for container HEALTHCHECKs, exec probes and operators.
//
// -addr picks what is asked:
//   - host:port (the default: the health service of this machine's configuration):
//     the mcpmesh.health.v1 aggregate, which names every unhealthy component and why;
//   - http:// or https:// URL: a gateway's /readyz (what the Dockerfile HEALTHCHECK
//     uses);
//   - host:port with -plain: the process's own grpc.health.v1 status (-service names
//     one service; empty asks for the whole server), for targets without the health
//     service.
//
// -self asks the process configured by this environment (MCPMESH_*), whatever its
// target: its gateway's /readyz when it runs the gateway, else its own grpc.health.v1.
// The image's HEALTHCHECK uses it, so one health check fits every target.
func runPing(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("mcpmesh ping [flags]",
		"Asks a running mesh whether it is healthy: exit 0 when it is, 1 with the reason when not.\n"+
			"-addr may be the gRPC port (the health service's aggregate, naming each failing component),\n"+
			"the gateway's HTTP port or an http(s):// URL (its /readyz).")
	addr := fs.String("addr", defaultHealthAddress(environ),
		"what to ask: the gRPC port (host:port) for the health service's aggregate, or the gateway's HTTP port (host:port or http://host:port) for its /readyz")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for an answer")
	plain := fs.Bool("plain", false, "ask -addr's grpc.health.v1 status instead of the mesh aggregate")
	service := fs.String("service", "", "with -plain: the grpc.health.v1 service name to check (empty: the whole server)")
	degradedOK := fs.Bool("degraded-ok", false, "exit 0 when the mesh is degraded (only providers unhealthy)")
	self := fs.Bool("self", false, "ask the process this environment configures: its gateway's /readyz, or its grpc.health.v1 when it runs no gateway")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if *self {
		*addr, *plain = selfAddress(environ)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	creds, err := transportCredentials(environ)
	if err != nil {
		fmt.Fprintln(stdout, "unhealthy:", err)
		return exitError{code: 1}
	}

	var report string
	switch {
	case strings.HasPrefix(*addr, "http://") || strings.HasPrefix(*addr, "https://"):
		report, err = "ready", pingReadyz(ctx, *addr, *timeout)
	case *plain:
		report, err = pingGRPCHealth(ctx, *addr, *service, *timeout, creds)
	default:
		report, err = pingMesh(ctx, *addr, *timeout, *degradedOK, creds)
	}
	if errors.Is(err, errHTTPPort) {
		// -addr is the gateway's HTTP port, not the gRPC one: ask its /readyz instead.
		report, err = "ready", pingReadyz(ctx, "http://"+*addr, *timeout)
	}
	if err != nil {
		fmt.Fprintln(stdout, "unhealthy:", err)
		return exitError{code: 1}
	}
	fmt.Fprintln(stdout, report)
	return nil
}

// defaultHealthAddress is where this machine's configuration (environment only: ping
// takes no -config) puts the health service: peers.health when set, else this
// process's grpc.listen, with an unspecified host replaced by loopback.
func defaultHealthAddress(environ []string) string {
	cfg := meshconfig.Default()
	if loaded, err := config.Load(meshconfig.Default(), config.Sources{Environ: environ}); err == nil {
		cfg = loaded.Value
	}
	if peer := cfg.PeerAddress(meshconfig.TargetHealth); peer != "" {
		return peer
	}
	return loopback(cfg.GRPC.Listen)
}

// selfAddress is what -self asks, from the environment's configuration: the gateway's
// base URL when the process runs the gateway, else its gRPC listener (plain is true).
func selfAddress(environ []string) (addr string, plain bool) {
	cfg := meshconfig.Default()
	if loaded, err := config.Load(meshconfig.Default(), config.Sources{Environ: environ}); err == nil {
		cfg = loaded.Value
	}
	if cfg.Runs(meshconfig.TargetGateway) {
		return "http://" + loopback(cfg.Gateway.Listen), false
	}
	return loopback(cfg.GRPC.Listen), true
}

// loopback turns a listen address into one to dial from the same host: an unspecified
// host becomes 127.0.0.1.
func loopback(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// transportCredentials are the environment's grpc.tls client settings (ping runs next
// to the process, with its certificate), or plaintext when none are set.
func transportCredentials(environ []string) (grpc.DialOption, error) {
	loaded, err := config.Load(meshconfig.Default(), config.Sources{Environ: environ})
	if err != nil || !loaded.Value.GRPC.TLS.ClientEnabled() {
		return grpc.WithTransportCredentials(insecure.NewCredentials()), nil //nolint:nilerr // no usable TLS settings: plaintext, as the process itself
	}
	files, err := meshtls.Load(loaded.Value.GRPC.TLS, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, fmt.Errorf("grpc.tls: %w", err)
	}
	return meshtls.DialOption(files), nil
}

// dialHealth opens a client to addr with creds.
func dialHealth(addr string, creds grpc.DialOption) (*grpc.ClientConn, error) {
	if addr == "" {
		return nil, errors.New("no address: set -addr")
	}
	conn, err := grpc.NewClient(addr, creds)
	if err != nil {
		return nil, fmt.Errorf("bad address %q: %w", addr, err)
	}
	return conn, nil
}

// pingMesh asks the health service for the aggregate and explains any component that
// is not serving.
func pingMesh(ctx context.Context, addr string, timeout time.Duration, degradedOK bool, creds grpc.DialOption) (string, error) {
	conn, err := dialHealth(addr, creds)
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close() }()
	resp, err := healthv1.NewHealthServiceClient(conn).Check(ctx, &healthv1.CheckRequest{})
	if err != nil {
		return "", rpcFailure(addr, timeout, "mcpmesh.health.v1", err)
	}
	status := resp.GetStatus()
	if status == healthv1.Status_STATUS_SERVING || (degradedOK && status == healthv1.Status_STATUS_DEGRADED) {
		return "healthy: " + statusName(status) + " (" + fmt.Sprint(len(resp.GetComponents())) + " components checked)", nil
	}
	return "", errors.New(explain(resp))
}

// explain names the mesh status and every component that is not serving, one per line.
func explain(resp *healthv1.CheckResponse) string {
	var b strings.Builder
	b.WriteString("mesh is " + statusName(resp.GetStatus()))
	bad := 0
	for _, c := range resp.GetComponents() {
		if c.GetStatus() == healthv1.Status_STATUS_SERVING {
			continue
		}
		bad++
		b.WriteString("\n  " + kindName(c.GetKind()) + " " + c.GetName() + ": " + statusName(c.GetStatus()))
		if msg := c.GetMessage(); msg != "" {
			b.WriteString(": " + msg)
		}
		if a := c.GetAddress(); a != "" {
			b.WriteString(" (at " + a + ")")
		}
	}
	if bad == 0 {
		b.WriteString(" (no component reported yet: the first round of checks may not have run)")
	}
	return b.String()
}

func statusName(s healthv1.Status) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "STATUS_"))
}

func kindName(k healthv1.ComponentKind) string {
	return strings.ToLower(strings.TrimPrefix(k.String(), "COMPONENT_KIND_"))
}

// pingGRPCHealth asks addr's grpc.health.v1 for service.
func pingGRPCHealth(ctx context.Context, addr, service string, timeout time.Duration, creds grpc.DialOption) (string, error) {
	conn, err := dialHealth(addr, creds)
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close() }()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return "", rpcFailure(addr, timeout, "grpc.health.v1", err)
	}
	name := service
	if name == "" {
		name = "server"
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return "", fmt.Errorf("%s at %s is %s", name, addr, resp.GetStatus())
	}
	return "healthy: " + name + " SERVING", nil
}

// errHTTPPort marks a gRPC call that reached an HTTP/1.1 server (the gateway's port).
var errHTTPPort = errors.New("an HTTP/1.1 server answered")

// rpcFailure says why a health call got no answer, in words an operator can act on.
func rpcFailure(addr string, timeout time.Duration, api string, err error) error {
	switch status.Code(err) {
	case codes.DeadlineExceeded:
		return fmt.Errorf("no answer from %s within %s", addr, timeout)
	case codes.Unavailable:
		msg := status.Convert(err).Message()
		switch {
		case strings.Contains(msg, "looked like an HTTP/1.1 header"):
			return fmt.Errorf("%s: %w", addr, errHTTPPort)
		case strings.Contains(msg, "connection refused"):
			return fmt.Errorf("cannot reach %s: connection refused (nothing listens there: is mcpmesh running, and is this its -grpc.listen or -gateway.listen port?)", addr)
		}
		return fmt.Errorf("cannot reach %s: %s", addr, msg)
	case codes.Unimplemented:
		return fmt.Errorf("%s does not serve %s (point -addr at the health service, or use -plain, or an http:// gateway URL)", addr, api)
	case codes.NotFound:
		return fmt.Errorf("%s knows no such service: %s", addr, status.Convert(err).Message())
	default:
		return fmt.Errorf("%s: %s: %s", addr, status.Code(err), status.Convert(err).Message())
	}
}

// pingReadyz asks a gateway's readiness probe.
func pingReadyz(ctx context.Context, base string, timeout time.Duration) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/readyz", nil)
	if err != nil {
		return fmt.Errorf("bad address %q: %w", base, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no answer from %s within %s", base, timeout)
		}
		return fmt.Errorf("cannot reach %s: %w", base, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
