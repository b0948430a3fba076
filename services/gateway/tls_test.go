package gateway_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/kit/meshtls/meshtlstest"
)

// TestHTTPSWithRotation serves the gateway over TLS from files, then replaces the
// certificate: the next connection gets the new one, without a restart.
func TestHTTPSWithRotation(t *testing.T) {
	dir := t.TempDir()
	ca := meshtlstest.NewCA(t, "edge CA")
	first := ca.Issue(t, dir, "gateway", "127.0.0.1")

	logger := slog.New(slog.DiscardHandler)
	peers := grpcserver.New(grpcserver.Settings{Logger: logger})
	peers.Register(&transportv1.TransportService_ServiceDesc, newTestTransport())
	t.Cleanup(func() { peers.Shutdown(context.Background()) })
	cfg := gateway.DefaultConfig()
	cfg.TLS = gateway.TLSConfig{CertFile: first.CertFile, KeyFile: first.KeyFile}
	gw, err := gateway.New(cfg, gateway.Deps{Telemetry: kit.TelemetrySettings{Logger: logger}, Transport: transportv1.NewTransportServiceClient(peers.InProcess())})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- gw.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})

	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	get := func() *http.Response {
		t.Helper()
		// A new client each time: a new connection, a new handshake.
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
		defer client.CloseIdleConnections()
		resp, err := client.Get("https://" + lis.Addr().String() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := get()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("over TLS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	if got := resp.TLS.PeerCertificates[0].SerialNumber; got.Cmp(first.Cert.SerialNumber) != 0 {
		t.Fatalf("serves %s, want %s", got, first.Cert.SerialNumber)
	}
	rotated := ca.Issue(t, dir, "gateway", "127.0.0.1")
	if got := get().TLS.PeerCertificates[0].SerialNumber; got.Cmp(rotated.Cert.SerialNumber) != 0 {
		t.Fatalf("after rotation serves %s, want the new %s", got, rotated.Cert.SerialNumber)
	}
	plain, err := http.Get("http://" + lis.Addr().String() + "/healthz")
	if err == nil {
		plain.Body.Close()
		if plain.StatusCode == http.StatusOK {
			t.Fatal("plaintext HTTP answered 200 on the TLS listener")
		}
	}
}
