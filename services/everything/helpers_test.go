package everything

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/kit"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// serve runs the provider on a real gRPC server over loopback and returns a client.
func serve(t *testing.T) (providerv1.ProviderServiceClient, *Provider) {
	t.Helper()
	p, err := New(DefaultConfig(), Deps{Telemetry: kit.TelemetrySettings{Logger: discardLogger()}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := grpcserver.New(grpcserver.Settings{Logger: discardLogger()})
	p.Register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return providerv1.NewProviderServiceClient(conn), p
}

// callTool runs a tool and collects every event of its stream.
func callTool(t *testing.T, c providerv1.ProviderServiceClient, req *providerv1.CallToolRequest) ([]*providerv1.CallToolResponse, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := c.CallTool(ctx, req)
	if err != nil {
		return nil, err
	}
	var events []*providerv1.CallToolResponse
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return events, err
		}
		events = append(events, ev)
	}
}

// lastResult returns the final result event, failing when the stream did not end in one.
func lastResult(t *testing.T, events []*providerv1.CallToolResponse) *mcpv1.ToolResult {
	t.Helper()
	if len(events) == 0 || events[len(events)-1].GetResult() == nil {
		t.Fatalf("stream did not end with a result: %v", events)
	}
	return events[len(events)-1].GetResult()
}

// block is a decoded content block (any type).
type block struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Data     string `json:"data"`
	MimeType string `json:"mimeType"`
	URI      string `json:"uri"`
	Name     string `json:"name"`
	Resource *struct {
		URI      string `json:"uri"`
		MimeType string `json:"mimeType"`
		Text     string `json:"text"`
		Blob     string `json:"blob"`
	} `json:"resource"`
}

func decodeBlocks(t *testing.T, raw []byte) []block {
	t.Helper()
	var blocks []block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatalf("content is not a JSON array of blocks: %v: %s", err, raw)
	}
	return blocks
}

// recordingEmitter collects events for handler-level tests.
type recordingEmitter struct {
	progress   []float64
	onProgress func()
}

func (e *recordingEmitter) Progress(ctx context.Context, p, _ float64, _ string) error {
	e.progress = append(e.progress, p)
	if e.onProgress != nil {
		e.onProgress()
	}
	return ctx.Err()
}

func (e *recordingEmitter) Log(context.Context, string, string) error { return nil }

func newInProcessServer(p *Provider) *grpcserver.Server {
	srv := grpcserver.New(grpcserver.Settings{Logger: discardLogger()})
	p.Register(srv)
	return srv
}
