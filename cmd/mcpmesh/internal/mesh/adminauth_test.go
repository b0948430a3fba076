package mesh

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
)

// With callers authenticated, /metrics leaves the public listener for the admin one,
// which requires its own bearer token (rotated in the file without a restart); probes
// stay open.
func TestOperationalSurfacesWithAuthOn(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(tokenFile, []byte("first-admin-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := meshconfig.Default()
	cfg.GRPC.Listen = "127.0.0.1:0"
	cfg.Gateway.Listen = "127.0.0.1:0"
	cfg.Admin.Listen = "127.0.0.1:0"
	cfg.Admin.Auth.BearerTokenFile = tokenFile
	cfg.Auth.Mode = "oauth"
	var level slog.LevelVar
	m, err := New(cfg, slog.New(slog.DiscardHandler), WithLogLevel(&level))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}()
	_, public := m.Addresses()
	status := func(url, token string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	admin := "http://" + m.AdminAddress()
	checks := []struct {
		name, url, token string
		want             int
	}{
		{"public /metrics is gone", "http://" + public + "/metrics", "", http.StatusNotFound},
		{"probes stay open", "http://" + public + "/healthz", "", http.StatusOK},
		{"admin /metrics without the token", admin + "/metrics", "", http.StatusUnauthorized},
		{"admin /metrics with a wrong token", admin + "/metrics", "not-the-admin-token", http.StatusUnauthorized},
		{"admin /loglevel without the token", admin + "/loglevel", "", http.StatusUnauthorized},
		{"admin /metrics with the token", admin + "/metrics", "first-admin-token-0123456789", http.StatusOK},
		{"admin /loglevel with the token", admin + "/loglevel", "first-admin-token-0123456789", http.StatusOK},
	}
	for _, c := range checks {
		if got := status(c.url, c.token); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// Rotate the token: the old one stops working, the new one works.
	if err := os.WriteFile(tokenFile, []byte("second-admin-token-abcdefghijkl\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := status(admin+"/metrics", "first-admin-token-0123456789"); got != http.StatusUnauthorized {
		t.Errorf("old token after rotation: %d, want 401", got)
	}
	if got := status(admin+"/metrics", "second-admin-token-abcdefghijkl"); got != http.StatusOK {
		t.Errorf("new token after rotation: %d, want 200", got)
	}
}
