package registry

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls/meshtlstest"
)

const spiffe = "spiffe://mesh.test/ns/mcp/sa/"

// tlsRegistry serves a registry over mutual TLS on loopback and returns a function
// that dials it with a certificate for identity ("" for none).
func tlsRegistry(t *testing.T, cfg Config) func(identity string) registryv1.RegistryServiceClient {
	t.Helper()
	dir := t.TempDir()
	ca := meshtlstest.NewCA(t, "mesh CA")
	caFile := ca.WriteCA(t, dir)
	srvCert := ca.Issue(t, dir, "registry", spiffe+"registry", "127.0.0.1")
	files, err := meshtls.Load(meshtls.Config{CertFile: srvCert.CertFile, KeyFile: srvCert.KeyFile, CAFile: caFile, ClientAuth: meshtls.ClientAuthRequest}, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := meshtls.ServerOption(files)
	if err != nil {
		t.Fatal(err)
	}
	logger := testLogger(t)
	dialer := dial.New(nil)
	t.Cleanup(func() { _ = dialer.Close() })
	svc, err := New(cfg, Deps{Telemetry: kit.TelemetrySettings{Logger: logger}, Conns: dialer})
	if err != nil {
		t.Fatal(err)
	}
	srv := grpcserver.New(grpcserver.Settings{Logger: logger, ExtraOptions: []grpc.ServerOption{creds}})
	svc.Register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		_ = svc.Stop(ctx)
	})
	return func(identity string) registryv1.RegistryServiceClient {
		c := meshtls.Config{CAFile: caFile}
		if identity != "" {
			leaf := ca.Issue(t, t.TempDir(), "client", identity)
			c.CertFile, c.KeyFile = leaf.CertFile, leaf.KeyFile
		}
		f, err := meshtls.Load(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		cc, err := grpc.NewClient(lis.Addr().String(), meshtls.DialOption(f))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cc.Close() })
		return registryv1.NewRegistryServiceClient(cc)
	}
}

func toolsCatalogue(names ...string) *mcpv1.Catalogue {
	cat := &mcpv1.Catalogue{}
	for _, n := range names {
		cat.Tools = append(cat.Tools, &mcpv1.Tool{Name: n, InputSchema: []byte(`{"type":"object"}`)})
	}
	return cat
}

func registerAs(t *testing.T, c registryv1.RegistryServiceClient, name, addr string) codes.Code {
	t.Helper()
	_, err := c.RegisterProvider(t.Context(), &registryv1.RegisterProviderRequest{Name: name, Address: addr})
	if err != nil {
		t.Logf("RegisterProvider(%s): %v", name, err)
	}
	return status.Code(err)
}

func TestRegistrationAllowedIdentitiesAndOwnership(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ProviderIdentities = map[string]string{"weather": spiffe + "weather", "*": spiffe + "provider-*"}
	as := tlsRegistry(t, cfg)
	weather, _ := serveProvider(t, newTestProvider(toolsCatalogue("forecast")))
	forecastToo, _ := serveProvider(t, newTestProvider(toolsCatalogue("forecast", "other")))
	otherOnly := newTestProvider(toolsCatalogue("other"))
	alpha, _ := serveProvider(t, otherOnly)

	steps := []struct {
		name, identity, provider, addr string
		want                           codes.Code
	}{
		{"the allowed identity registers its name", spiffe + "weather", "weather", weather, codes.OK},
		{"a rogue provider is refused", "spiffe://mesh.test/ns/other/sa/rogue", "weather", weather, codes.PermissionDenied},
		{"a rogue provider cannot use a free name", "spiffe://mesh.test/ns/other/sa/rogue", "evil", weather, codes.PermissionDenied},
		{"no certificate is refused", "", "beta", alpha, codes.PermissionDenied},
		{"another allowed identity cannot take the name", spiffe + "provider-a", "weather", alpha, codes.PermissionDenied},
		{"tool-name takeover is refused", spiffe + "provider-a", "alpha", forecastToo, codes.PermissionDenied},
		{"own tools are fine", spiffe + "provider-a", "alpha", alpha, codes.OK},
		{"re-registration by the owner is fine", spiffe + "provider-a", "alpha", alpha, codes.OK},
		{"a provider's name belongs to its identity", spiffe + "provider-b", "alpha", alpha, codes.PermissionDenied},
	}
	for _, s := range steps {
		if got := registerAs(t, as(s.identity), s.provider, s.addr); got != s.want {
			t.Fatalf("%s: code %v, want %v", s.name, got, s.want)
		}
	}

	// A refresh cannot bring a tool name another identity owns either.
	otherOnly.setCatalogue(toolsCatalogue("other", "forecast"))
	_, err := as(spiffe+"provider-a").RefreshProvider(t.Context(), &registryv1.RefreshProviderRequest{Name: "alpha"})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("refresh adding another identity's tool: %v, want PermissionDenied", err)
	}
	list, err := as(spiffe+"weather").ListTools(t.Context(), &registryv1.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tool := range list.GetTools() {
		got[tool.GetName()] = tool.GetProvider()
	}
	if got["forecast"] != "weather" || got["other"] != "alpha" || len(got) != 2 {
		t.Fatalf("tools %v, want forecast from weather and other from alpha, unqualified", got)
	}
}

func TestOwnershipWithoutIdentityList(t *testing.T) {
	as := tlsRegistry(t, DefaultConfig())
	one, _ := serveProvider(t, newTestProvider(toolsCatalogue("add")))
	two, _ := serveProvider(t, newTestProvider(toolsCatalogue("add")))
	if got := registerAs(t, as(spiffe+"math"), "math", one); got != codes.OK {
		t.Fatalf("first registration: %v", got)
	}
	if got := registerAs(t, as(spiffe+"other"), "calc", two); got != codes.PermissionDenied {
		t.Fatalf("same tool name from another identity: %v, want PermissionDenied", got)
	}
	if got := registerAs(t, as(spiffe+"other"), "math", two); got != codes.PermissionDenied {
		t.Fatalf("same provider name from another identity: %v, want PermissionDenied", got)
	}
	if got := registerAs(t, as(spiffe+"math"), "math-2", two); got != codes.OK {
		t.Fatalf("the owner's second provider with the same tool: %v, want OK (qualified names)", got)
	}
}
