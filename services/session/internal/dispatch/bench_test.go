package dispatch

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/dial"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/store"
)

// BenchmarkToolsList measures a full page of 100 pre-rendered tools.
func BenchmarkToolsList(b *testing.B) {
	resp := &registryv1.WatchCatalogueResponse{Providers: []*registryv1.Provider{{Name: "p", Address: "inproc:p"}}}
	for i := range 100 {
		resp.Tools = append(resp.Tools, &registryv1.RoutedTool{Name: fmt.Sprintf("tool_%03d", i), Provider: "p", Tool: &mcpv1.Tool{
			Name: "t", Description: "does a thing with some words of description",
			InputSchema: []byte(`{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}`),
		}})
	}
	snap := catalogue.Build(resp)
	d := New(Settings{ServerVersion: "b", ToolCallTimeout: time.Second, PageSize: 100, CacheTTL: time.Minute},
		Deps{Catalogue: func() *catalogue.Snapshot { return snap }, Store: store.NewMemory(time.Hour, nil), Conns: dial.New(nil), Logger: slog.New(slog.DiscardHandler)})
	req := &Request{ProtocolVersion: "2026-07-28", Method: "tools/list", Params: []byte(`{"_meta":{}}`), RequestID: []byte("1")}
	emit := func(*sessionv1.HandleResponse) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Dispatch(b.Context(), req, emit); err != nil {
			b.Fatal(err)
		}
	}
}
