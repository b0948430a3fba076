package catalogue

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/grpcserver"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTemplateMatch(t *testing.T) {
	tests := []struct {
		template, uri string
		want          bool
	}{
		{"file:///{path}", "file:///a.txt", true},
		{"file:///{path}", "file:///a/b.txt", false},
		{"file:///{+path}", "file:///a/b.txt", true},
		{"file:///{path}", "file:///", false},
		{"db://{table}/rows/{id}", "db://users/rows/7", true},
		{"db://{table}/rows/{id}", "db://users/rows/7/x", false},
		{"db://{table}/rows/{id}", "db://users/cols/7", false},
		{"x://{a}.json", "x://b.json", true},
		{"x://{a}.json", "x://b.json.bak", false},
		{"x://{a}{b}", "x://ab", false},  // adjacent expressions: not matchable
		{"x://{?q}", "x://?q=1", false},  // query operators: not supported
		{"x://fixed", "x://fixed", true}, // no expression at all
		{"x://{unclosed", "x://{unclosed", false},
	}
	for _, tt := range tests {
		m := parseTemplate(tt.template)
		if got := m != nil && m.match(tt.uri); got != tt.want {
			t.Errorf("%s matches %s = %v, want %v", tt.template, tt.uri, got, tt.want)
		}
	}
}

func snapshotFixture() *registryv1.WatchCatalogueResponse {
	return &registryv1.WatchCatalogueResponse{
		Revision:  3,
		Providers: []*registryv1.Provider{{Name: "b", Address: "b:1", Instructions: "B."}, {Name: "a", Address: "a:1", Instructions: " A. "}},
		Tools: []*registryv1.RoutedTool{
			{Name: "zeta", Provider: "a", Tool: &mcpv1.Tool{Name: "z", InputSchema: []byte(`not json`)}},
			{Name: "alpha", Provider: "b", Tool: &mcpv1.Tool{Name: "a1", InputSchema: []byte(`{"type":"object","properties":{}}`), Annotations: []byte(`[]`)}},
			{Name: "alpha", Provider: "a", Tool: &mcpv1.Tool{Name: "dup"}},
			{Name: "mid", Provider: "gone", Tool: &mcpv1.Tool{Name: "m"}},
		},
		ResourceTemplates: []*registryv1.RoutedResourceTemplate{
			{Provider: "a", ResourceTemplate: &mcpv1.ResourceTemplate{UriTemplate: "mem://{id}", Name: "mem"}},
		},
		Resources: []*registryv1.RoutedResource{{Provider: "b", Resource: &mcpv1.Resource{Uri: "mem://fixed", Name: "f", Size: 12}}},
	}
}

func TestBuild(t *testing.T) {
	s := Build(snapshotFixture())
	if s.Instructions != "A.\n\nB." {
		t.Errorf("instructions = %q", s.Instructions)
	}
	var names []string
	for _, e := range s.Tools {
		names = append(names, e.Key)
	}
	if len(names) != 3 || names[0] != "alpha" || names[1] != "mid" || names[2] != "zeta" {
		t.Fatalf("tools = %v", names)
	}
	alpha, ok := s.Tool("alpha")
	if !ok || alpha.Route != (Route{Provider: "b", Address: "b:1", Name: "a1"}) {
		t.Errorf("alpha routes to %+v", alpha.Route)
	}
	if mid, _ := s.Tool("mid"); mid.Route.Address != "" {
		t.Errorf("a tool of an unlisted provider has address %q", mid.Route.Address)
	}
	for _, e := range s.Tools {
		for c := range numClasses {
			if !json.Valid(e.JSON[c]) {
				t.Errorf("%s class %d renders invalid JSON %s", e.Key, c, e.JSON[c])
			}
		}
	}
	if zeta, _ := s.Tool("zeta"); string(zeta.Render(ClassLegacy)) != `{"name":"zeta","inputSchema":{"type":"object"}}` {
		t.Errorf("bad schema not replaced: %s", zeta.Render(ClassLegacy))
	}
	if e, ok := s.Resource("mem://fixed"); !ok || e.Key != "mem://fixed" {
		t.Errorf("exact resource routed to %v", e)
	}
	if e, ok := s.Resource("mem://other"); !ok || e.Key != "mem://{id}" || e.Route.Address != "a:1" {
		t.Errorf("templated resource routed to %v", e)
	}
	if _, ok := s.Resource("other://x"); ok {
		t.Error("unknown URI routed")
	}
	page, more := Page(s.Tools, "", 2)
	if len(page) != 2 || !more {
		t.Errorf("first page %d more=%v", len(page), more)
	}
	page, more = Page(s.Tools, "alpha", 2)
	if len(page) != 2 || page[0].Key != "mid" || more {
		t.Errorf("page after alpha: %d more=%v", len(page), more)
	}
	// A cursor whose key vanished from the catalogue still continues in order.
	page, _ = Page(s.Tools, "beta", 5)
	if len(page) != 2 || page[0].Key != "mid" {
		t.Errorf("page after a vanished key starts at %v", page)
	}
}

// flakyRegistry fails the first watches, then serves a snapshot.
type flakyRegistry struct {
	registryv1.UnimplementedRegistryServiceServer
	calls atomic.Int32
}

func (r *flakyRegistry) WatchCatalogue(_ *registryv1.WatchCatalogueRequest, stream grpc.ServerStreamingServer[registryv1.WatchCatalogueResponse]) error {
	if r.calls.Add(1) <= 2 {
		return status.Error(codes.Unavailable, "warming up")
	}
	if err := stream.Send(snapshotFixture()); err != nil {
		return err
	}
	<-stream.Context().Done()
	return nil
}

func TestWatcherReconnects(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	server := grpcserver.New(grpcserver.Settings{Logger: logger})
	reg := &flakyRegistry{}
	server.Register(&registryv1.RegistryService_ServiceDesc, reg)
	defer server.Shutdown(context.Background())

	w := NewWatcher(registryv1.NewRegistryServiceClient(server.InProcess()), logger)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	eventually.True(t, 10*time.Second, func() bool { return w.Current() != nil }, "a snapshot arrives after reconnecting")
	if got := w.Current().Revision; got != 3 || reg.calls.Load() < 3 {
		t.Errorf("revision %d after %d watches", got, reg.calls.Load())
	}
}
