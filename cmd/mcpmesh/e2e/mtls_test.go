package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls/meshtlstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/tools/proc"
)

const meshID = "spiffe://mesh.test/ns/mcp/sa/"

// tlsMesh is the six processes with mutual TLS between them, each with its own
// certificate and the same CA, a registry that accepts the everything provider only
// from its identity, and every service open to the mesh's identities only.
type tlsMesh struct {
	*mesh
	dir string
	ca  *meshtlstest.CA
	// moreProviders may register too: provider name → its identity.
	moreProviders map[string]string
	// extraYAML is appended to every process's configuration.
	extraYAML string
}

// writeTLSConfig writes name's configuration file: its certificate and the mesh's rules.
func (m *tlsMesh) writeTLSConfig(t *testing.T, name string) string {
	t.Helper()
	leaf := m.ca.Issue(t, m.dir, name, meshID+name, "127.0.0.1")
	yaml := fmt.Sprintf(`grpc:
  tls:
    cert_file: %s
    key_file: %s
    ca_file: %s
    client_auth: require
    allowed_peers: ["%s*"]
registry:
  provider_identities:
    everything: %sprovider
`, leaf.CertFile, leaf.KeyFile, filepath.Join(m.dir, "ca.pem"), meshID, meshID)
	for name, id := range m.moreProviders {
		yaml += fmt.Sprintf("    %s: %s\n", name, id)
	}
	yaml += m.extraYAML
	p := filepath.Join(m.dir, name+".yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func startSixWithTLS(t *testing.T) *tlsMesh {
	dir := t.TempDir()
	m := &tlsMesh{dir: dir, ca: meshtlstest.NewCA(t, "mesh CA")}
	m.ca.WriteCA(t, dir)
	m.startSix(t, "127.0.0.1:0")
	waitReady(t, m.base)
	return m
}

// startSix starts the six processes, the gateway listening on gatewayListen.
func (m *tlsMesh) startSix(t *testing.T, gatewayListen string) {
	cfg := func(name string) string { return "-config=" + m.writeTLSConfig(t, name) }
	const anyPort = "-grpc.listen=127.0.0.1:0"
	reg := start(t, "registry", cfg("registry"), "-target=registry", anyPort)
	prov := start(t, "provider", cfg("provider"), "-target=provider-everything", anyPort, "-peers.registry="+reg.GRPC)
	sess := start(t, "session", cfg("session"), "-target=session", anyPort, "-peers.registry="+reg.GRPC)
	tr := start(t, "transport", cfg("transport"), "-target=transport", anyPort, "-peers.session="+sess.GRPC)
	hl := start(t, "health", cfg("health"), "-target=health", anyPort, "-peers.registry="+reg.GRPC,
		"-peers.transport="+tr.GRPC, "-peers.session="+sess.GRPC)
	gw := start(t, "gateway", cfg("gateway"), "-target=gateway", "-gateway.listen="+gatewayListen,
		"-peers.transport="+tr.GRPC, "-peers.registry="+reg.GRPC, "-peers.session="+sess.GRPC, "-peers.health="+hl.GRPC)
	m.mesh = &mesh{base: gw.HTTP, processes: map[string]*proc.Process{
		"registry": reg, "provider": prov, "session": sess, "transport": tr, "health": hl, "gateway": gw,
	}}
}

// registryCall dials the registry with opt and makes one call.
func registryCall(t *testing.T, addr string, opt grpc.DialOption, call func(context.Context, registryv1.RegistryServiceClient) error) error {
	t.Helper()
	cc, err := grpc.NewClient(addr, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return call(ctx, registryv1.NewRegistryServiceClient(cc))
}

// as is a client option presenting a certificate for identity, signed by ca.
func (m *tlsMesh) as(t *testing.T, ca *meshtlstest.CA, identity string) grpc.DialOption {
	t.Helper()
	dir := t.TempDir()
	leaf := ca.Issue(t, dir, "client", identity)
	f, err := meshtls.Load(meshtls.Config{CertFile: leaf.CertFile, KeyFile: leaf.KeyFile, CAFile: filepath.Join(m.dir, "ca.pem")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return meshtls.DialOption(f)
}

func TestSixProcessesWithMutualTLS(t *testing.T) {
	m := startSixWithTLS(t)
	rec := recorder(t)
	t.Run("an MCP client calls a tool through six processes", func(t *testing.T) { runSDKScenario(t, m.base, "", rec) })

	regAddr := m.processes["registry"].GRPC
	list := func(ctx context.Context, c registryv1.RegistryServiceClient) error {
		_, err := c.ListProviders(ctx, &registryv1.ListProvidersRequest{})
		return err
	}
	rogueRegistration := func(ctx context.Context, c registryv1.RegistryServiceClient) error {
		_, err := c.RegisterProvider(ctx, &registryv1.RegisterProviderRequest{Name: "everything", Address: m.processes["registry"].GRPC})
		return err
	}
	stranger := meshtlstest.NewCA(t, "another CA")
	refusals := []struct {
		name string
		opt  grpc.DialOption
		call func(context.Context, registryv1.RegistryServiceClient) error
		want codes.Code
	}{
		{"a mesh identity may call the registry", m.as(t, m.ca, meshID+"gateway"), list, codes.OK},
		{"a plaintext peer is refused", grpc.WithTransportCredentials(insecure.NewCredentials()), list, codes.Unavailable},
		{"a peer of an unknown CA is refused", m.as(t, stranger, meshID+"gateway"), list, codes.Unavailable},
		{"a peer not on the allow-list is refused", m.as(t, m.ca, "spiffe://mesh.test/ns/other/sa/gateway"), list, codes.PermissionDenied},
		{"a rogue provider registration is refused", m.as(t, m.ca, meshID+"rogue"), rogueRegistration, codes.PermissionDenied},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			if got := status.Code(registryCall(t, regAddr, r.opt, r.call)); got != r.want {
				t.Fatalf("code %v, want %v", got, r.want)
			}
		})
	}

	t.Run("the registry's certificate rotates during the run", func(t *testing.T) {
		rotated := m.ca.Issue(t, m.dir, "registry", meshID+"registry", "127.0.0.1")
		eventually.NoError(t, 10*time.Second, func() error {
			serial, err := m.servedSerial(t, regAddr)
			if err != nil {
				return err
			}
			if serial != rotated.Cert.SerialNumber.String() {
				return fmt.Errorf("registry serves certificate %s, want the rotated %s", serial, rotated.Cert.SerialNumber)
			}
			return nil
		}, "the registry serves its rotated certificate")
		// The mesh keeps working: new connections take the new certificate.
		if err := registryCall(t, regAddr, m.as(t, m.ca, meshID+"gateway"), list); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
		runSDKScenario(t, m.base, "", rec)
	})
}

// servedSerial connects to addr with mutual TLS, as a mesh peer, and returns the
// serial of the certificate the server presents.
func (m *tlsMesh) servedSerial(t *testing.T, addr string) (string, error) {
	leaf := m.ca.Issue(t, t.TempDir(), "probe", meshID+"gateway")
	f, err := meshtls.Load(meshtls.Config{CertFile: leaf.CertFile, KeyFile: leaf.KeyFile, CAFile: filepath.Join(m.dir, "ca.pem")}, nil)
	if err != nil {
		return "", err
	}
	cfg := meshtls.ClientConfig(f)
	cfg.NextProtos = []string{"h2"}
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
}
