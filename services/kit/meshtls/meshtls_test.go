package meshtls_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls/meshtlstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// echoService is a real service the allow-list applies to (grpc.health.v1 itself
// stays open for probes): one unary method answering SERVING.
var echoService = grpc.ServiceDesc{
	ServiceName: "test.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Check",
		Handler: func(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			req := new(healthpb.HealthCheckRequest)
			if err := dec(req); err != nil {
				return nil, err
			}
			answer := func(context.Context, any) (any, error) {
				return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
			}
			return ic(ctx, req, &grpc.UnaryServerInfo{FullMethod: "/test.Echo/Check"}, answer)
		},
	}},
}

const (
	gatewayID = "spiffe://mesh.test/ns/mcp/sa/gateway"
	rogueID   = "spiffe://mesh.test/ns/other/sa/rogue"
)

// server starts a real gRPC server with TLS from cfg and the allow-list.
func server(t *testing.T, cfg meshtls.Config, allow meshtls.AllowList) string {
	t.Helper()
	files, err := meshtls.Load(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := meshtls.ServerOption(files)
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(creds, grpc.ChainUnaryInterceptor(allow.UnaryInterceptor()), grpc.ChainStreamInterceptor(allow.StreamInterceptor()))
	hs := health.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	s.RegisterService(&echoService, hs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// call makes one echo call over a fresh connection with opt.
func call(t *testing.T, addr string, opt grpc.DialOption) error {
	t.Helper()
	cc, err := grpc.NewClient(addr, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return cc.Invoke(ctx, "/test.Echo/Check", &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
}

func clientWith(t *testing.T, cfg meshtls.Config) grpc.DialOption {
	t.Helper()
	f, err := meshtls.Load(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return meshtls.DialOption(f)
}

func TestMutualTLSAllowList(t *testing.T) {
	dir := t.TempDir()
	ca := meshtlstest.NewCA(t, "mesh CA")
	caFile := ca.WriteCA(t, dir)
	srv := ca.Issue(t, dir, "session", "spiffe://mesh.test/ns/mcp/sa/session", "127.0.0.1")
	gw := ca.Issue(t, dir, "gateway", gatewayID)
	rogue := ca.Issue(t, dir, "rogue", rogueID)
	other := meshtlstest.NewCA(t, "another CA")
	otherDir := t.TempDir()
	stranger := other.Issue(t, otherDir, "stranger", gatewayID) // right name, wrong CA

	addr := server(t, meshtls.Config{CertFile: srv.CertFile, KeyFile: srv.KeyFile, CAFile: caFile, ClientAuth: meshtls.ClientAuthRequire},
		meshtls.AllowList{ByService: map[string][]string{"test.Echo": {"spiffe://mesh.test/ns/mcp/sa/*"}}})

	cases := []struct {
		name string
		opt  grpc.DialOption
		want codes.Code
	}{
		{"allowed peer", clientWith(t, meshtls.Config{CertFile: gw.CertFile, KeyFile: gw.KeyFile, CAFile: caFile}), codes.OK},
		{"plaintext peer", grpc.WithTransportCredentials(insecure.NewCredentials()), codes.Unavailable},
		{"peer without a certificate", clientWith(t, meshtls.Config{CAFile: caFile}), codes.Unavailable},
		{"peer of an unknown CA", clientWith(t, meshtls.Config{CertFile: stranger.CertFile, KeyFile: stranger.KeyFile, CAFile: caFile}), codes.Unavailable},
		{"peer not on the allow-list", clientWith(t, meshtls.Config{CertFile: rogue.CertFile, KeyFile: rogue.KeyFile, CAFile: caFile}), codes.PermissionDenied},
		{"server of an unknown CA", clientWith(t, meshtls.Config{CertFile: gw.CertFile, KeyFile: gw.KeyFile, CAFile: other.WriteCA(t, otherDir)}), codes.Unavailable},
		{"server name mismatch", clientWith(t, meshtls.Config{CertFile: gw.CertFile, KeyFile: gw.KeyFile, CAFile: caFile, ServerName: "registry.mesh.test"}), codes.Unavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := status.Code(call(t, addr, c.opt)); got != c.want {
				t.Fatalf("code %v, want %v", got, c.want)
			}
		})
	}
}

func TestRequestClientAuthWithoutCertificateIsUnauthenticated(t *testing.T) {
	dir := t.TempDir()
	ca := meshtlstest.NewCA(t, "mesh CA")
	caFile := ca.WriteCA(t, dir)
	srv := ca.Issue(t, dir, "registry", "127.0.0.1")
	addr := server(t, meshtls.Config{CertFile: srv.CertFile, KeyFile: srv.KeyFile, CAFile: caFile, ClientAuth: meshtls.ClientAuthRequest},
		meshtls.AllowList{Default: []string{gatewayID}})
	if got := status.Code(call(t, addr, clientWith(t, meshtls.Config{CAFile: caFile}))); got != codes.Unauthenticated {
		t.Fatalf("code %v, want Unauthenticated", got)
	}
}

// TestRotation replaces the server's certificate and the trusted CA while the server
// runs: new connections see the new files, without a restart.
func TestRotation(t *testing.T) {
	dir := t.TempDir()
	oldCA := meshtlstest.NewCA(t, "old CA")
	caFile := oldCA.WriteCA(t, dir)
	srv := oldCA.Issue(t, dir, "server", "127.0.0.1")
	oldClient := oldCA.Issue(t, dir, "client", gatewayID)
	addr := server(t, meshtls.Config{CertFile: srv.CertFile, KeyFile: srv.KeyFile, CAFile: caFile}, meshtls.AllowList{Default: []string{gatewayID}})

	clientDir := t.TempDir()
	clientCA := oldCA.WriteCA(t, clientDir)
	oldOpt := clientWith(t, meshtls.Config{CertFile: oldClient.CertFile, KeyFile: oldClient.KeyFile, CAFile: clientCA})
	if err := call(t, addr, oldOpt); err != nil {
		t.Fatalf("before rotation: %v", err)
	}

	// Rotate to a new CA on the server: its certificate and the CA it trusts.
	newCA := meshtlstest.NewCA(t, "new CA")
	newCA.WriteCA(t, dir)
	newCA.Issue(t, dir, "server", "127.0.0.1")
	if err := call(t, addr, oldOpt); status.Code(err) != codes.Unavailable {
		t.Fatalf("old client after the server rotated: %v, want Unavailable (new server certificate, unknown to it)", err)
	}
	// The client rotates too, in place: the same dial option follows its files.
	newCA.WriteCA(t, clientDir)
	newCA.Issue(t, dir, "client", gatewayID)
	if err := call(t, addr, oldOpt); err != nil {
		t.Fatalf("after both rotated: %v", err)
	}
}

func TestBrokenRotationKeepsTheLastGoodFiles(t *testing.T) {
	dir := t.TempDir()
	ca := meshtlstest.NewCA(t, "mesh CA")
	caFile := ca.WriteCA(t, dir)
	srv := ca.Issue(t, dir, "server", "127.0.0.1")
	cli := ca.Issue(t, dir, "client", gatewayID)
	addr := server(t, meshtls.Config{CertFile: srv.CertFile, KeyFile: srv.KeyFile, CAFile: caFile}, meshtls.AllowList{})
	meshtlstest.Corrupt(t, srv.CertFile)
	if err := call(t, addr, clientWith(t, meshtls.Config{CertFile: cli.CertFile, KeyFile: cli.KeyFile, CAFile: caFile})); err != nil {
		t.Fatalf("a half-written certificate must not take the server down: %v", err)
	}
}

func TestMatchIdentity(t *testing.T) {
	cases := []struct {
		pattern, id string
		want        bool
	}{
		{gatewayID, gatewayID, true},
		{"spiffe://mesh.test/ns/mcp/sa/*", gatewayID, true},
		{"spiffe://mesh.test/ns/mcp/sa/*", rogueID, false},
		{"spiffe://mesh.test/ns/mcp/*", gatewayID, false}, // * stays within a segment
		{"*.mesh.svc", "gateway.mesh.svc", true},
		{"*.mesh.svc", "a.gateway.mesh.svc", false},
		{"gateway.mesh.svc", "gateway.mesh.svc.evil", false},
	}
	for _, c := range cases {
		if got := meshtls.MatchIdentity(c.pattern, c.id); got != c.want {
			t.Errorf("MatchIdentity(%q, %q) = %v, want %v", c.pattern, c.id, got, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []meshtls.Config{
		{CertFile: "c.pem", ClientAuth: meshtls.ClientAuthNone},                          // no key
		{CertFile: "c.pem", KeyFile: "k.pem", ClientAuth: meshtls.ClientAuthRequire},     // no CA to verify clients
		{CertFile: "c.pem", KeyFile: "k.pem", CAFile: "ca.pem", ClientAuth: "sometimes"}, // unknown mode
	}
	for _, c := range bad {
		if err := c.Validate("grpc.tls"); err == nil {
			t.Errorf("%+v: accepted", c)
		}
	}
	if err := meshtls.DefaultConfig().Validate("grpc.tls"); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
