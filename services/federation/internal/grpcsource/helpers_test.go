package grpcsource_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/shoptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTimeout bounds waits for something that happens at once when all is well.
const waitTimeout = 10 * time.Second

func shopSettings(addr string) grpcsource.Settings {
	return grpcsource.Settings{Name: "shop", Address: addr, Plaintext: true, Services: []string{shoptest.ShopService}}
}

// runSource runs a source until the test ends, without waiting for its descriptors.
func runSource(t testing.TB, s grpcsource.Settings) *grpcsource.Source {
	t.Helper()
	src, err := grpcsource.New(s, grpcsource.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = src.Stop(ctx)
	})
	return src
}

// startSource is runSource, waiting for the first catalogue.
func startSource(t testing.TB, s grpcsource.Settings) *grpcsource.Source {
	t.Helper()
	src := runSource(t, s)
	select {
	case <-src.CatalogueChanged():
	case <-time.After(waitTimeout):
		t.Fatal("no catalogue: the descriptors were not read")
	}
	return src
}

// refresh reads the descriptors once.
func refresh(t *testing.T, src *grpcsource.Source) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_, err := src.Refresh(ctx)
	return err
}

// serveAddr puts the source behind a real gRPC server, as the mesh reaches
// providers, and returns its address.
func serveAddr(t testing.TB, src *grpcsource.Source) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	providerv1.RegisterProviderServiceServer(srv, src)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// serve is serveAddr with a ProviderService client.
func serve(t testing.TB, src *grpcsource.Source) providerv1.ProviderServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(serveAddr(t, src), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return providerv1.NewProviderServiceClient(conn)
}

// call runs a tool and returns its events and final result.
type callOutcome struct {
	progress []*mcpv1.Progress
	logs     []*mcpv1.LogMessage
	result   *mcpv1.ToolResult
}

func call(t *testing.T, client providerv1.ProviderServiceClient, tool, args string, rc *mcpv1.RequestContext, md ...string) (callOutcome, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if len(md) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, md...)
	}
	stream, err := client.CallTool(ctx, &providerv1.CallToolRequest{Name: tool, Arguments: []byte(args), Context: rc})
	if err != nil {
		return callOutcome{}, err
	}
	var out callOutcome
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, err
		}
		switch e := ev.GetEvent().(type) {
		case *providerv1.CallToolResponse_Progress:
			out.progress = append(out.progress, e.Progress)
		case *providerv1.CallToolResponse_Log:
			out.logs = append(out.logs, e.Log)
		case *providerv1.CallToolResponse_Result:
			out.result = e.Result
		}
	}
	if out.result == nil {
		t.Fatal("the call ended without a result")
	}
	return out, nil
}

// text is the text of a result's only content block.
func text(t *testing.T, r *mcpv1.ToolResult) string {
	t.Helper()
	var blocks []struct{ Type, Text string }
	if err := json.Unmarshal(r.GetContent(), &blocks); err != nil || len(blocks) != 1 || blocks[0].Type != "text" {
		t.Fatalf("content %s: want one text block", r.GetContent())
	}
	return blocks[0].Text
}

func object(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return m
}
