package mesh

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/meshtls/meshtlstest"
)

// TestAdminListenerWithMutualTLS serves the admin listener over mutual TLS with an
// allow-list and a bearer token: only a client whose certificate the CA signed and
// whose identity is on the list, and which sends the token, reads /metrics,
// /loglevel and the upstream admin API; a certificate of the CA off the list gets 403, no certificate or one of
// another CA fails the handshake, plain HTTP gets nothing.
func TestAdminListenerWithMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, rogue := meshtlstest.NewCA(t, "admin-ca"), meshtlstest.NewCA(t, "rogue-ca")
	server := ca.Issue(t, dir, "admin", "127.0.0.1", "spiffe://test/mesh")
	scraper := ca.Issue(t, dir, "scraper", "spiffe://test/ns/monitoring/sa/prometheus")
	stranger := ca.Issue(t, dir, "stranger", "spiffe://test/ns/default/sa/app")
	impostor := rogue.Issue(t, dir, "impostor", "spiffe://test/ns/monitoring/sa/prometheus")
	tokenFile := filepath.Join(dir, "admin-token")
	const token = "admin-token-0123456789abcdef"
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg := allInOne(t)
	cfg.Admin.Listen = "127.0.0.1:0"
	cfg.Admin.Auth.BearerTokenFile = tokenFile
	cfg.Admin.TLS.CertFile, cfg.Admin.TLS.KeyFile = server.CertFile, server.KeyFile
	cfg.Admin.TLS.CAFile = ca.WriteCA(t, dir)
	cfg.Admin.TLS.AllowedPeers = []string{"spiffe://test/ns/monitoring/sa/*"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var level slog.LevelVar
	m, err := New(cfg, slog.New(slog.DiscardHandler), WithLogLevel(&level))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	waitReady(t, "http://"+httpAddress(m))
	admin := m.AdminAddress()

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.CertPEM)
	client := func(leaf *meshtlstest.Leaf) *http.Client {
		c := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		if leaf != nil {
			cert, err := tls.LoadX509KeyPair(leaf.CertFile, leaf.KeyFile)
			if err != nil {
				t.Fatal(err)
			}
			c.Certificates = []tls.Certificate{cert}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: c}}
	}
	get := func(c *http.Client, url, bearer string) (int, error) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	https := "https://" + admin
	for _, tc := range []struct {
		name   string
		client *http.Client
		url    string
		bearer string
		want   int // 0: the connection fails
	}{
		{"allowed certificate and token: /metrics", client(&scraper), https + "/metrics", token, http.StatusOK},
		{"allowed certificate and token: /loglevel", client(&scraper), https + "/loglevel", token, http.StatusOK},
		{"allowed certificate, no token", client(&scraper), https + "/metrics", "", http.StatusUnauthorized},
		{"allowed certificate and token: the upstream admin API", client(&scraper), https + "/v1/admin/upstreams", token, http.StatusOK},
		{"the upstream admin API without the token", client(&scraper), https + "/v1/admin/upstreams", "", http.StatusUnauthorized},
		{"the upstream admin API off the allow-list", client(&stranger), https + "/v1/admin/upstreams", token, http.StatusForbidden},
		{"certificate of the CA off the allow-list", client(&stranger), https + "/metrics", token, http.StatusForbidden},
		{"certificate of another CA", client(&impostor), https + "/metrics", token, 0},
		{"no client certificate", client(nil), https + "/metrics", token, 0},
		{"plain HTTP", http.DefaultClient, "http://" + admin + "/metrics", token, http.StatusBadRequest},
	} {
		got, err := get(tc.client, tc.url, tc.bearer)
		if tc.want == 0 {
			if err == nil {
				t.Errorf("%s: answered %d, want a failed handshake", tc.name, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, got, err, tc.want)
		}
	}

	// The server certificate is re-read when it changes.
	old := server.Cert.SerialNumber
	rotated := ca.Issue(t, dir, "admin", "127.0.0.1", "spiffe://test/mesh")
	c := client(&scraper)
	resp, err := c.Get(https + "/healthz-not-served")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got := resp.TLS.PeerCertificates[0].SerialNumber; got.Cmp(rotated.Cert.SerialNumber) != 0 || got.Cmp(old) == 0 {
		t.Errorf("after rotation the admin listener serves serial %v, want %v", got, rotated.Cert.SerialNumber)
	}
}

// httpAddress is the gateway's bound address.
func httpAddress(m *Mesh) string {
	_, addr := m.Addresses()
	return addr
}
