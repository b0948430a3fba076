// Package meshtest runs the examples against a real mesh: it builds the mcpmesh
// binary, starts it with -target=all on free ports, serves a provider registered with
// its registry, and connects the official Go SDK client to its /mcp endpoint.
package meshtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/sdk/provider"
	"github.com/mcpmesh/mcpmesh/tools/proc"
)

// binary is the mcpmesh binary that Main built.
var binary string

// Main is a test package's TestMain: it builds the mcpmesh binary once, runs the tests
// and removes the binary.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "mcpmesh-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := 1
	if binary, err = build(context.Background(), dir); err == nil {
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// build builds the mcpmesh binary from this checkout into dir and returns its path.
func build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "mcpmesh")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "..", "cmd", "mcpmesh")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build mcpmesh: %w", err)
	}
	return bin, nil
}

// Mesh is a running mesh.
type Mesh struct {
	// Registry is the registry's gRPC address, for provider.ServeOptions.Registry.
	Registry string
	// Endpoint is the MCP endpoint, <gateway>/mcp.
	Endpoint string
}

// Start runs the mesh binary as one process until the test ends.
func Start(t *testing.T) *Mesh {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p, err := proc.Start(ctx, "mcpmesh", binary, nil, "-target=all", "-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(20 * time.Second); err != nil {
			t.Errorf("mcpmesh: %v", err)
		}
		if t.Failed() {
			t.Logf("---- mcpmesh logs ----\n%s", p.Logs())
		}
	})
	return &Mesh{Registry: p.GRPC, Endpoint: p.HTTP + "/mcp"}
}

// Serve serves srv on a free port, registered with the mesh's registry, until the
// test ends.
func (m *Mesh) Serve(t *testing.T, srv *provider.Server) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- srv.Serve(ctx, lis, provider.ServeOptions{Registry: m.Registry, Lease: 5 * time.Second})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("provider %s: %v", srv.Name(), err)
		}
	})
}

// Connect opens an MCP session with the mesh; opts may set the client's handlers
// (elicitation, sampling) and so its capabilities.
func (m *Mesh) Connect(t *testing.T, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "examples-test", Version: "1.0.0"}, opts)
	session, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: m.Endpoint}, nil)
	if err != nil {
		t.Fatalf("connect to %s: %v", m.Endpoint, err)
	}
	t.Cleanup(func() { _ = session.Close() })
	return session
}

// WaitForTool waits until the mesh lists the tool (registration and the session's
// catalogue refresh are asynchronous) and returns it. Each attempt is a new MCP
// session: a client may cache a list it was given.
func (m *Mesh) WaitForTool(t *testing.T, name string) *mcp.Tool {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tool, err := m.findTool(t.Context(), name)
		if tool != nil {
			return tool
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mesh did not list %s within 20s (last error: %v)", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// findTool looks through every page of tools/list, in a session of its own.
func (m *Mesh) findTool(ctx context.Context, name string) (*mcp.Tool, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "examples-test", Version: "1.0.0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: m.Endpoint}, nil)
	if err != nil {
		return nil, err
	}
	defer func() { _ = session.Close() }()
	for tool, err := range session.Tools(ctx, nil) {
		if err != nil {
			return nil, err
		}
		if tool.Name == name {
			return tool, nil
		}
	}
	return nil, nil
}
