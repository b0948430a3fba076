package mesh

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/services/kit/pgtest"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
)

// TestMain starts PostgreSQL lazily for the tests that ask for a database and checks
// for leaked goroutines (pgtest.Main runs goleak).
// The test binary is also the stdio upstream of the federation tests (see
// runStdioUpstream).
func TestMain(m *testing.M) {
	if os.Getenv(stdioUpstreamEnv) != "" {
		runStdioUpstream()
		return
	}
	pgtest.Main(m)
}

func allInOne(t testing.TB) meshconfig.Config {
	t.Helper()
	cfg := meshconfig.Default()
	cfg.GRPC.Listen = "127.0.0.1:0"
	cfg.Gateway.Listen = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// start runs an in-process mesh until the test ends and returns its base URL.
func start(t testing.TB) string {
	t.Helper()
	return startWith(t, allInOne(t))
}

// startWith runs an in-process mesh of cfg until the test ends and returns its base URL.
func startWith(t testing.TB, cfg meshconfig.Config) string {
	t.Helper()
	_, base := startMesh(t, cfg)
	return base
}

// startMesh is startWith that also returns the mesh.
func startMesh(t testing.TB, cfg meshconfig.Config) (*Mesh, string) {
	t.Helper()
	return startMeshLogging(t, cfg, slog.New(slog.DiscardHandler))
}

// startMeshLogging is startMesh logging to logger.
func startMeshLogging(t testing.TB, cfg meshconfig.Config, logger *slog.Logger) (*Mesh, string) {
	t.Helper()
	m, err := New(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	_, httpAddr := m.Addresses()
	base := "http://" + httpAddr
	waitReady(t, base)
	return m, base
}

// waitReady waits (bounded) until the gateway at base answers /readyz with 200.
func waitReady(t testing.TB, base string) {
	t.Helper()
	eventually.NoError(t, 10*time.Second, func() error {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz answered %d", resp.StatusCode)
		}
		return nil
	}, "the mesh at %s is ready", base)
}

// TestRunAndShutdown starts the whole mesh in process, serves a request and shuts down
// without leaking goroutines (TestMain checks).
func TestRunAndShutdown(t *testing.T) {
	base := start(t)
	// The provider registers in the background; wait for it to show.
	eventually.True(t, 10*time.Second, func() bool {
		resp, err := http.Get(base + "/v1/providers")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/providers: %d %s", resp.StatusCode, body)
		}
		return strings.Contains(string(body), "everything")
	}, "GET /v1/providers lists the everything provider")
}

func TestNewReportsBusyPort(t *testing.T) {
	cfg := allInOne(t)
	first, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	grpcAddr, _ := first.Addresses()
	cfg.GRPC.Listen = grpcAddr
	if _, err := New(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "gRPC") {
		t.Fatalf("want an error naming the gRPC listener, got %v", err)
	}
}

// FuzzMCPEndpoint posts arbitrary bodies and header values to /mcp of a real
// in-process mesh: it must never crash, always answer with a known status, and keep
// serving.
func FuzzMCPEndpoint(f *testing.F) {
	seeds := []struct{ body, version, session, method, name string }{
		{`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"f","version":"1"}}}`, "", "", "", ""},
		{`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, "2025-11-25", "nope", "", ""},
		{`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`, "2026-07-28", "", "tools/call", "echo"},
		{`{"jsonrpc":"2.0","id":4,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`, "2026-07-28", "", "server/discover", ""},
		{`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, "", "", "", ""},
		{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, "2025-11-25", "x", "", ""},
		{`{`, "", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.body, s.version, s.session, s.method, s.name)
	}
	base := start(f)
	client := &http.Client{Timeout: 30 * time.Second}
	known := map[int]bool{200: true, 202: true, 204: true, 400: true, 404: true, 405: true, 406: true, 413: true, 415: true}
	f.Fuzz(func(t *testing.T, body, version, session, method, name string) {
		req, err := http.NewRequest(http.MethodPost, base+"/mcp", bytes.NewBufferString(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		for k, v := range map[string]string{"MCP-Protocol-Version": version, "Mcp-Session-Id": session, "Mcp-Method": method, "Mcp-Name": name} {
			if v != "" {
				req.Header[k] = []string{v}
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Skipf("request not sendable: %v", err) // invalid header bytes are refused by the client
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if !known[resp.StatusCode] {
			t.Fatalf("status %d for body %q", resp.StatusCode, body)
		}
	})
}
