package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"github.com/mcpmesh/mcpmesh/services/gateway"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"github.com/mcpmesh/mcpmesh/services/kit/telemetry"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness is a gateway in front of real gRPC peers.
type harness struct {
	t         *testing.T
	transport *testTransport
	gateway   *gateway.Service
	server    *httptest.Server
	client    *http.Client
	metrics   *telemetry.Telemetry
}

type harnessOptions struct {
	inProcess bool // in-process channel instead of loopback gRPC
	configure func(*gateway.Config)
	logger    *slog.Logger // nil discards
	ready     func(context.Context) error
	wrap      func(http.Handler) http.Handler
	jwks      gateway.JWKSSource // served as the assertion keys when set
}

func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	peers := grpcserver.New(grpcserver.Settings{Logger: logger, DefaultDeadline: 5 * time.Second})
	tr := newTestTransport()
	peers.Register(&transportv1.TransportService_ServiceDesc, tr)
	peers.Register(&registryv1.RegistryService_ServiceDesc, testRegistry{})
	peers.Register(&healthv1.HealthService_ServiceDesc, testHealth{})
	peers.Register(&sessionv1.SessionService_ServiceDesc, testSession{})

	conn := peers.InProcess()
	if o.inProcess {
		// The server was never served, but its stream workers run until it stops.
		t.Cleanup(func() { peers.Shutdown(context.Background()) })
	} else {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- peers.Serve(lis) }()
		cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		conn = cc
		t.Cleanup(func() {
			_ = cc.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			peers.Shutdown(ctx)
			if err := <-served; err != nil {
				t.Errorf("serve peers: %v", err)
			}
		})
	}

	cfg := gateway.DefaultConfig()
	cfg.KeepaliveInterval = time.Hour // tests that want keepalives set their own
	if o.configure != nil {
		o.configure(&cfg)
	}
	tel, err := telemetry.Setup(context.Background(), telemetry.Settings{
		ServiceName: "mcpmesh-gateway-test", SampleRatio: 1, Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	gwLogger := logger
	if o.logger != nil {
		gwLogger = o.logger
	}
	gw, err := gateway.New(cfg, gateway.Deps{
		Telemetry:      tel.Settings(gwLogger),
		Transport:      transportv1.NewTransportServiceClient(conn),
		Registry:       registryv1.NewRegistryServiceClient(conn),
		Session:        sessionv1.NewSessionServiceClient(conn),
		Health:         healthv1.NewHealthServiceClient(conn),
		Ready:          o.ready,
		MetricsHandler: tel.MetricsHandler(),
		Middleware:     o.wrap,
		AssertionKeys:  o.jwks,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	client := srv.Client()
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	h := &harness{transport: tr, gateway: gw, server: srv, client: client, metrics: tel}
	if tt, ok := t.(*testing.T); ok {
		h.t = tt
	}
	return h
}

// request builds a request to the test server.
func (h *harness) request(method, path, body string, headers map[string]string) *http.Request {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.server.URL+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	return req
}

// do sends a request and reads the whole response.
func (h *harness) do(req *http.Request) (*http.Response, []byte) {
	h.t.Helper()
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp, body
}

// mcpHeaders are what a well-behaved MCP client sends on a POST.
func mcpHeaders(extra map[string]string) map[string]string {
	h := map[string]string{
		"Content-Type": "application/json",
		"Accept":       "application/json, text/event-stream",
	}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

func rpc(method string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"` + method + `","params":{}}`
}
