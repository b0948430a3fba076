package grpcsource_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/shoptest"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/tools/proc"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// meshBinary builds cmd/mcpmesh once per test binary.
func meshBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "grpcsource-mesh-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "mcpmesh")
		cmd := exec.Command("go", "build", "-o", binary, ".")
		cmd.Dir = filepath.Join("..", "..", "..", "..", "cmd", "mcpmesh")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build mcpmesh: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// TestShopThroughTheMesh runs the whole mesh (-target=all) with the shop configured
// in federation.grpc of its configuration file, and calls the shop's methods as
// tools through /mcp with the Go SDK client and through REST.
func TestShopThroughTheMesh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the mcpmesh binary")
	}
	bin := meshBinary(t)
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(bin)) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	config := filepath.Join(t.TempDir(), "mesh.yaml")
	yaml := fmt.Sprintf(`federation:
  grpc:
    - name: shop
      address: %s
      plaintext: true
      services: [%s]
`, shoptest.Start(t, shoptest.ReflectionV1), shoptest.ShopService)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := proc.Start(ctx, "all", bin, nil, "-target=all", "-config="+config, "-grpc.listen=127.0.0.1:0", "-gateway.listen=127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(20 * time.Second); err != nil {
			t.Errorf("mesh: %v", err)
		}
		if t.Failed() {
			t.Logf("---- mesh logs ----\n%s", p.Logs())
		}
	})

	// A client connects once the process is ready, as behind a Kubernetes Service:
	// /readyz waits for the shop's first reading and for its tools to reach the
	// session's catalogue. Without it a 2026-07-28 client that lists before the shop
	// registers keeps that listing for its ttlMs, and the list_changed that follows can
	// come before its subscriptions/listen is in place (the protocol has no catch-up);
	// TestFederationGRPCServiceStartedLate covers a service that arrives later.
	eventually.NoError(t, 20*time.Second, func() error {
		resp, err := http.Get(p.HTTP + "/readyz")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %d %s", resp.StatusCode, body)
		}
		return nil
	}, "the mesh is ready")

	var mu sync.Mutex
	var progress []float64
	client := mcp.NewClient(&mcp.Implementation{Name: "grpcsource-test", Version: "1.0.0"}, &mcp.ClientOptions{
		// The client speaks 2026-07-28 and keeps a listing for its ttlMs: it must hear
		// that the list changed when the shop's tools arrive after its first listing.
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, req.Params.Progress)
		},
	})
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: p.HTTP + "/mcp", MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()

	// The process is ready, so the shop's tools are in the session's catalogue.
	names := map[string]string{}
	eventually.NoError(t, 20*time.Second, func() error {
		for tool, err := range session.Tools(ctx, nil) {
			if err != nil {
				return err
			}
			for _, want := range shopTools {
				if strings.HasSuffix(tool.Name, want) {
					names[want] = tool.Name
				}
			}
		}
		if len(names) < len(shopTools) {
			return fmt.Errorf("listed: %v", names)
		}
		return nil
	}, "the shop's tools are listed")

	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: names["ShopService.EchoOrder"], Arguments: map[string]any{
		"id": "o-9", "totalCents": "77", "createdAt": "2026-03-04T05:06:07Z", "stock": map[string]any{"lyon": 2},
		"category": map[string]any{"name": "a", "children": []any{map[string]any{"name": "b"}}}, "voucherCode": "V1",
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := res.StructuredContent.(map[string]any)
	if res.IsError || got["id"] != "o-9" || got["totalCents"] != "77" || got["voucherCode"] != "V1" {
		t.Errorf("EchoOrder over /mcp: isError %v, structuredContent %v", res.IsError, res.StructuredContent)
	}

	// Two members of a oneof break the input schema: the session refuses before the
	// service is called.
	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: names["ShopService.EchoOrder"], Arguments: map[string]any{
		"id": "o", "voucherCode": "V1", "card": map[string]any{"number": "1"},
	}})
	if err == nil && !res.IsError {
		t.Error("two oneof members were accepted")
	}

	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: names["ShopService.GetOrder"], Arguments: map[string]any{"id": "missing"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || len(res.Content) != 1 || res.Content[0].(*mcp.TextContent).Text != "NOT_FOUND: order missing does not exist" {
		t.Errorf("failing method over /mcp: %+v", res)
	}

	res, err = session.CallTool(ctx, &mcp.CallToolParams{Name: names["ShopService.WatchOrder"], Arguments: map[string]any{"count": 3},
		Meta: mcp.Meta{"progressToken": "w-1"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = res.StructuredContent.(map[string]any)
	if msgs, _ := got["messages"].([]any); res.IsError || len(msgs) != 3 {
		t.Errorf("streaming method over /mcp: %+v", res)
	}
	// The client hands notifications to its handler apart from the result: wait for
	// the last one.
	eventually.NoError(t, waitTimeout, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(progress) != 3 || progress[2] != 3 {
			return fmt.Errorf("progress %v, want 1, 2, 3", progress)
		}
		return nil
	}, "every message of the stream is reported as progress")

	// REST: the same tools by name.
	resp, err := http.Post(p.HTTP+"/v1/tools/"+names["ShopService.GetOrder"]+":call", "application/json", strings.NewReader(`{"arguments":{"id":"o-3"}}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	var rest map[string]any
	if err := json.Unmarshal(body, &rest); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("REST call: %s %s", resp.Status, body)
	}
	sc, _ := rest["structuredContent"].(map[string]any)
	if rest["isError"] == true || sc["id"] != "o-3" || sc["status"] != "STATUS_PAID" {
		t.Errorf("REST result %s, want the order o-3", body)
	}
}
