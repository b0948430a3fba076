package mesh

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

func TestServiceName(t *testing.T) {
	tests := []struct{ target, want string }{
		{"all", "mcpmesh-all"},
		{"session", "mcpmesh-session"},
		{"transport,gateway", "mcpmesh-transport+gateway"},
		{"registry,provider-everything,federation,session,transport,health,gateway", "mcpmesh-all"},
	}
	for _, tt := range tests {
		cfg := meshconfig.Default()
		cfg.Target = tt.target
		if got := ServiceName(cfg); got != tt.want {
			t.Errorf("ServiceName(%q) = %q, want %q", tt.target, got, tt.want)
		}
	}
}

// A process without a gateway serves its metrics, gRPC server metrics included, on
// the admin listener.
func TestAdminListenerServesMetrics(t *testing.T) {
	cfg := meshconfig.Default()
	cfg.Target = meshconfig.TargetRegistry
	cfg.GRPC.Listen = "127.0.0.1:0"
	cfg.Admin.Listen = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var level slog.LevelVar
	m, err := New(cfg, slog.New(slog.DiscardHandler), WithLogLevel(&level))
	if err != nil {
		t.Fatal(err)
	}
	if _, httpAddr := m.Addresses(); httpAddr != "" {
		t.Fatalf("a registry process serves gateway HTTP on %s", httpAddr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}()

	url := "http://" + m.AdminAddress() + "/metrics"
	var body []byte
	eventually.NoError(t, 10*time.Second, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if body, err = io.ReadAll(resp.Body); err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	}, "GET %s answers", url)
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	for _, name := range []string{"go_goroutines", "target_info"} {
		if families[name] == nil {
			t.Errorf("admin /metrics lacks %s", name)
		}
	}
	found := false
	for _, metric := range families["target_info"].GetMetric() {
		for _, l := range metric.GetLabel() {
			if l.GetName() == "service_name" && l.GetValue() == "mcpmesh-registry" {
				found = true
			}
		}
	}
	if !found {
		t.Error(`target_info lacks service_name="mcpmesh-registry"`)
	}

	// The log level can be read and changed at run time.
	levelURL := "http://" + m.AdminAddress() + "/loglevel"
	for _, tc := range []struct {
		method, body string
		wantStatus   int
		wantLevel    slog.Level
	}{
		{http.MethodGet, "", http.StatusOK, slog.LevelInfo},
		{http.MethodPut, "debug", http.StatusOK, slog.LevelDebug},
		{http.MethodPut, "loud", http.StatusBadRequest, slog.LevelDebug},
		{http.MethodPut, "warn\n", http.StatusOK, slog.LevelWarn},
	} {
		req, err := http.NewRequest(tc.method, levelURL, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tc.wantStatus || level.Level() != tc.wantLevel {
			t.Errorf("%s /loglevel %q: status %d, level %v; want %d, %v", tc.method, tc.body, resp.StatusCode, level.Level(), tc.wantStatus, tc.wantLevel)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}
