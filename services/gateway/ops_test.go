package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestProbes(t *testing.T) {
	tests := []struct {
		name       string
		ready      func(context.Context) error
		path       string
		wantStatus int
		wantBody   string
	}{
		{"liveness", nil, "/healthz", 200, "ok"},
		{"ready without check", nil, "/readyz", 200, "ok"},
		{"ready check passes", func(context.Context) error { return nil }, "/readyz", 200, "ok"},
		{"ready check fails", func(context.Context) error { return errors.New("session service not serving") }, "/readyz", 503, "session service not serving"},
		{"ready check has a deadline", func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("no deadline")
			}
			return nil
		}, "/readyz", 200, "ok"},
		{"startup before Serve", nil, "/startupz", 503, "starting"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{inProcess: true, ready: tc.ready})
			h.t = t
			resp, body := h.do(h.request(http.MethodGet, tc.path, "", nil))
			if resp.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
				t.Fatalf("status %d body %q, want %d containing %q", resp.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t, harnessOptions{inProcess: true})
	h.t = t
	h.do(h.request(http.MethodPost, "/mcp", rpc("json"), mcpHeaders(nil)))
	h.do(h.request(http.MethodPost, "/v1/tools/echo:call", `{}`, map[string]string{"Content-Type": "application/json"}))
	h.do(h.request(http.MethodGet, "/no/such/path/123", "", nil))
	families := scrapeMetrics(t, h)

	counts := requestCounts(families)
	for _, want := range []string{
		"200 POST /mcp",
		"200 POST /v1/tools/{name=*}:call",
		"404 GET /",
	} {
		if counts[want] != 1 {
			t.Errorf("http_server_request_duration_seconds count of %s = %v; have %v", want, counts[want], counts)
		}
	}
	// The attributes of the HTTP semantic conventions, none taken from the Host header
	// (a client could multiply the series with it).
	wantLabels := "http_request_method,http_response_status_code,http_route,network_protocol_name,network_protocol_version,url_scheme"
	for _, m := range families["http_server_request_duration_seconds"].GetMetric() {
		var names []string
		for _, l := range m.GetLabel() {
			names = append(names, l.GetName())
		}
		if got := strings.Join(names, ","); got != wantLabels {
			t.Errorf("http_server_request_duration_seconds labels %s, want %s", got, wantLabels)
		}
	}
	// One HTTP request metric, not two that count the same requests.
	for _, duplicate := range []string{"mcpmesh_http_requests_total", "mcpmesh_http_request_duration_seconds", "http_server_request_body_size_bytes"} {
		if families[duplicate] != nil {
			t.Errorf("%s is exposed besides http_server_request_duration_seconds", duplicate)
		}
	}
	streams := families["mcpmesh_mcp_streams_open"]
	if streams == nil || streams.GetType() != dto.MetricType_GAUGE || len(streams.GetMetric()) != 1 || streams.GetMetric()[0].GetGauge().GetValue() != 0 {
		t.Errorf("mcpmesh_mcp_streams_open: %v, want one gauge at 0", streams)
	}
	limited := map[string]float64{}
	for _, m := range families["mcpmesh_gateway_rate_limited_total"].GetMetric() {
		limited[labels(m)] = m.GetCounter().GetValue()
	}
	if len(limited) != 2 || limited["route=mcp"] != 0 || limited["route=rest"] != 0 {
		t.Errorf("mcpmesh_gateway_rate_limited_total: %v, want route=mcp and route=rest at 0 from the start", limited)
	}
}

// scrapeMetrics reads /metrics through the gateway and parses it as Prometheus does.
func scrapeMetrics(t *testing.T, h *harness) map[string]*dto.MetricFamily {
	t.Helper()
	resp, body := h.do(h.request(http.MethodGet, "/metrics", "", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return families
}

// requestCounts reads the request counts of http_server_request_duration_seconds by
// "code method route".
func requestCounts(families map[string]*dto.MetricFamily) map[string]uint64 {
	counts := map[string]uint64{}
	for _, m := range families["http_server_request_duration_seconds"].GetMetric() {
		var code, method, route string
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "http_response_status_code":
				code = l.GetValue()
			case "http_request_method":
				method = l.GetValue()
			case "http_route":
				route = l.GetValue()
			}
		}
		counts[code+" "+method+" "+route] += m.GetHistogram().GetSampleCount()
	}
	return counts
}

func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

// TestServeAndShutdown runs the real server: startup turns ready, an open GET stream
// ends when shutdown begins, and liveness turns 503.
func TestServeAndShutdown(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	peers := grpcserver.New(grpcserver.Settings{Logger: logger})
	tr := newTestTransport()
	peers.Register(&transportv1.TransportService_ServiceDesc, tr)
	t.Cleanup(func() { peers.Shutdown(context.Background()) })

	cfg := gateway.DefaultConfig()
	cfg.ShutdownTimeout = 5 * time.Second
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
	base := "http://" + lis.Addr().String()
	client := &http.Client{}
	defer client.CloseIdleConnections()

	get := func(path string) int {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get("/startupz"); s != 200 {
		t.Fatalf("/startupz = %d after Serve", s)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/mcp", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", "sess-1")
	stream, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	r := bufio.NewReader(stream.Body)
	if ev, err := readEvent(r); err != nil || ev.id != "g1" {
		t.Fatalf("first event = %+v, %v", ev, err)
	}

	if err := gw.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := io.ReadAll(r); err != nil {
		t.Errorf("GET stream did not end cleanly at shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v after shutdown", err)
	}
	select {
	case <-tr.canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the Listen stream was not canceled at shutdown")
	}
	// The server no longer listens, but the handler still answers the probes honestly.
	rec := &statusRecorder{header: http.Header{}}
	gw.Handler().ServeHTTP(rec, httptestRequest(t, "/healthz"))
	if rec.status != http.StatusServiceUnavailable {
		t.Errorf("/healthz after shutdown = %d, want 503", rec.status)
	}
	rec = &statusRecorder{header: http.Header{}}
	gw.Handler().ServeHTTP(rec, httptestRequest(t, "/readyz"))
	if rec.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz after shutdown = %d, want 503", rec.status)
	}
}

type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header         { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusRecorder) WriteHeader(code int)        { r.status = code }

func httptestRequest(t *testing.T, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://gateway"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(*gateway.Config)
		wantKeys []string
	}{
		{"defaults", func(*gateway.Config) {}, nil},
		{"allowed origins", func(c *gateway.Config) {
			c.AllowedOrigins = []string{"https://a.example", "http://localhost:3000", "*"}
		}, nil},
		{"allowed hosts", func(c *gateway.Config) {
			c.AllowedHosts = []string{"mcp.example.com", "mcp.example.com:8443", "10.0.0.1", "::1", "[::1]", "[::1]:8080", "*"}
		}, nil},
		{"security settings", func(c *gateway.Config) {
			c.CORS.AllowedOrigins = []string{"https://app.example.com"}
			c.Limits.PerPrincipal = gateway.PrincipalLimits{RPS: 5, Burst: 10, Concurrency: 4}
			c.TLS = gateway.TLSConfig{CertFile: "tls.crt", KeyFile: "tls.key"}
		}, nil},
		{"bad security settings", func(c *gateway.Config) {
			c.CORS.AllowedOrigins = []string{"*", "app.example.com"}
			c.Limits.PerPrincipal.Concurrency = -1
			c.TLS.CertFile = "tls.crt"
		}, []string{"gateway.cors.allowed_origins[0]", "gateway.cors.allowed_origins[1]", "gateway.limits.per_principal", "gateway.tls.key_file"}},
		{"bad allowed hosts", func(c *gateway.Config) {
			c.AllowedHosts = []string{"", "http://a.example", "a.example:", "a.example:99999", "[::1", "a b", "a:b:c", "[::1]x"}
		}, []string{
			"gateway.allowed_hosts[0]", "gateway.allowed_hosts[1]", "gateway.allowed_hosts[2]", "gateway.allowed_hosts[3]",
			"gateway.allowed_hosts[4]", "gateway.allowed_hosts[5]", "gateway.allowed_hosts[6]", "gateway.allowed_hosts[7]",
		}},
		{"everything wrong", func(c *gateway.Config) {
			c.Listen = "nope"
			c.MaxBodyBytes = 0
			c.AllowedOrigins = []string{"a.example", "https://a.example/path", "https://a.example/"}
			c.KeepaliveInterval = 0
			c.ReadHeaderTimeout = -1
			c.IdleTimeout = 0
			c.ShutdownTimeout = 0
			c.RateLimit.RequestsPerSecond = -1
			c.RateLimit.Burst = -1
			c.Admission.MaxInFlightPerCPU = 0
			c.Admission.QueueTimeout = 0
		}, []string{
			"gateway.listen", "gateway.max_body_bytes", "gateway.allowed_origins[0]", "gateway.allowed_origins[1]",
			"gateway.allowed_origins[2]", "gateway.keepalive_interval", "gateway.read_header_timeout",
			"gateway.idle_timeout", "gateway.shutdown_timeout", "gateway.rate_limit.requests_per_second",
			"gateway.rate_limit.burst", "gateway.admission.max_in_flight_per_cpu", "gateway.admission.queue_timeout",
		}},
		{"rate limit on without burst", func(c *gateway.Config) { c.RateLimit.RequestsPerSecond = 0.5 }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := gateway.DefaultConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if len(tc.wantKeys) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, k := range tc.wantKeys {
				if !strings.Contains(err.Error(), k+":") {
					t.Errorf("error does not name %s: %v", k, err)
				}
			}
		})
	}
}

func TestNewRequiresTransport(t *testing.T) {
	if _, err := gateway.New(gateway.DefaultConfig(), gateway.Deps{}); err == nil {
		t.Fatal("New without a transport client must fail")
	}
	cfg := gateway.DefaultConfig()
	cfg.MaxBodyBytes = 0
	if _, err := gateway.New(cfg, gateway.Deps{}); err == nil || !strings.Contains(err.Error(), "max_body_bytes") {
		t.Fatalf("New must validate the config, got %v", err)
	}
}

func TestMiddlewareWrapsEveryRoute(t *testing.T) {
	wrap := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Wrapped", r.URL.Path)
			next.ServeHTTP(w, r)
		})
	}
	h := newHarness(t, harnessOptions{inProcess: true, wrap: wrap})
	h.t = t
	for _, path := range []string{"/healthz", "/metrics", "/no/such/path"} {
		resp, _ := h.do(h.request(http.MethodGet, path, "", nil))
		if got := resp.Header.Get("X-Wrapped"); got != path {
			t.Errorf("GET %s: X-Wrapped = %q, want the middleware to see the request", path, got)
		}
	}
}

// TestDrainDelayKeepsListening: during gateway.drain_delay the replica answers, over
// its still-open listener, /readyz 503 (so balancers take it out) before it drains.
func TestDrainDelayKeepsListening(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.DrainDelay = 3 * time.Second
	logger := slog.New(slog.DiscardHandler)
	peers := grpcserver.New(grpcserver.Settings{Logger: logger})
	peers.Register(&transportv1.TransportService_ServiceDesc, newTestTransport())
	t.Cleanup(func() { peers.Shutdown(context.Background()) })
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
	base := "http://" + lis.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	status := func(path string) (int, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if s, err := status("/startupz"); err != nil || s != http.StatusOK {
		t.Fatalf("/startupz = %d, %v", s, err)
	}
	shut := make(chan error, 1)
	go func() { shut <- gw.Shutdown(context.Background()) }()
	eventually.True(t, cfg.DrainDelay, func() bool {
		s, err := status("/readyz")
		if err != nil {
			t.Fatalf("listener closed during the drain delay: %v", err)
		}
		return s == http.StatusServiceUnavailable
	}, "/readyz turns 503 during the drain delay")
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while /readyz had just turned 503; want it to wait for the drain delay", err)
	default:
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v after shutdown", err)
	}
}
