package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"

	"github.com/mcpmesh/mcpmesh/sdk/provider/content"
)

func notesFeatures() []Feature {
	folders := []string{"work", "home", "wishlist"}
	return []Feature{
		Resource("notes://readme", "readme", func(_ context.Context, uri string) ([]content.ResourceContents, error) {
			return TextContents(uri, "text/plain", "Notes live under notes://{folder}/{id}."), nil
		}, MimeType("text/plain")),
		ResourceTemplate("notes://{folder}/{id}", "note", func(_ context.Context, uri string, vars map[string]string) ([]content.ResourceContents, error) {
			if vars["folder"] == "secret" {
				return nil, fmt.Errorf("%w: no folder %q", ErrNotFound, vars["folder"])
			}
			return JSONContents(uri, vars)
		}, Described("One note."), CompletedBy(func(_ context.Context, arg, _ string, _ map[string]string) ([]string, error) {
			if arg == "folder" {
				return folders, nil
			}
			return nil, nil
		})),
		Prompt("summarize", "Summarizes a folder.", []PromptArgument{{Name: "folder", Required: true}, {Name: "style"}},
			func(_ context.Context, args map[string]string) ([]PromptMessage, error) {
				return []PromptMessage{UserMessage(content.Text("Summarize " + args["folder"] + " " + args["style"]))}, nil
			}, CompletedBy(func(context.Context, string, string, map[string]string) ([]string, error) { return folders, nil })),
	}
}

func TestResourcesAndTemplates(t *testing.T) {
	c, _ := serve(t, Options{}, notesFeatures()...)
	tests := []struct {
		uri      string
		want     string
		wantCode codes.Code
	}{
		{"notes://readme", `[{"uri":"notes://readme","mimeType":"text/plain","text":"Notes live under notes://{folder}/{id}."}]`, codes.OK},
		{"notes://work/a%20b", `"text":"{\"folder\":\"work\",\"id\":\"a b\"}"`, codes.OK},
		{"notes://work/a/b", "", codes.NotFound}, // a variable is one segment
		{"notes://secret/1", "", codes.NotFound},
		{"other://x", "", codes.NotFound},
	}
	for _, tt := range tests {
		resp, err := c.ReadResource(context.Background(), &providerv1.ReadResourceRequest{Uri: tt.uri})
		if status.Code(err) != tt.wantCode || !strings.Contains(string(resp.GetContents()), tt.want) {
			t.Errorf("read %s: %s, %v", tt.uri, resp.GetContents(), err)
		}
	}
}

func TestPromptsAndCompletion(t *testing.T) {
	c, _ := serve(t, Options{}, notesFeatures()...)
	ctx := context.Background()
	resp, err := c.GetPrompt(ctx, &providerv1.GetPromptRequest{Name: "summarize", Arguments: map[string]string{"folder": "work", "style": "briefly"}})
	if err != nil || resp.GetDescription() != "Summarizes a folder." ||
		string(resp.GetMessages()) != `[{"role":"user","content":{"type":"text","text":"Summarize work briefly"}}]` {
		t.Errorf("prompt: %v, %v", resp, err)
	}
	if _, err := c.GetPrompt(ctx, &providerv1.GetPromptRequest{Name: "summarize"}); status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), `needs argument "folder"`) {
		t.Errorf("missing argument: %v", err)
	}
	for _, tc := range []struct {
		ref, arg, value, want string
		wantCode              codes.Code
	}{
		{`{"type":"ref/resource","uri":"notes://{folder}/{id}"}`, "folder", "w", "[work wishlist] 2", codes.OK},
		{`{"type":"ref/resource","uri":"notes://{folder}/{id}"}`, "id", "", "[] 0", codes.OK},
		{`{"type":"ref/prompt","name":"summarize"}`, "folder", "H", "[home] 1", codes.OK},
		{`{"type":"ref/prompt","name":"nope"}`, "folder", "", "", codes.NotFound},
		{`{"type":"ref/other"}`, "folder", "", "", codes.InvalidArgument},
	} {
		r, err := c.Complete(ctx, &providerv1.CompleteRequest{Ref: []byte(tc.ref), ArgumentName: tc.arg, ArgumentValue: tc.value})
		if status.Code(err) != tc.wantCode || (err == nil && fmt.Sprint(r.GetValues(), " ", r.GetTotal()) != tc.want) {
			t.Errorf("complete %s %s=%q: %v, %v", tc.ref, tc.arg, tc.value, r, err)
		}
	}
}

// TestWatchAndCatalogueChanges: ResourceChanged reaches WatchResources streams;
// removing a tool signals CatalogueChanged and leaves the catalogue.
func TestWatchAndCatalogueChanges(t *testing.T) {
	c, srv := serve(t, Options{}, append(notesFeatures(), Tool("add", "", add))...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := c.WatchResources(ctx, &providerv1.WatchResourcesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// The stream is subscribed once the server handles it; publish until one arrives.
	got := make(chan *providerv1.WatchResourcesResponse, 1)
	go func() {
		if ev, err := stream.Recv(); err == nil {
			got <- ev
		}
		close(got)
	}()
	var ev *providerv1.WatchResourcesResponse
	for ev == nil {
		srv.ResourceChanged("notes://work/1")
		select {
		case ev = <-got:
			if ev == nil {
				t.Fatal("stream ended")
			}
		case <-timeAfterShort():
		}
	}
	if ev.GetUri() != "notes://work/1" || ev.GetChangeId() == "" {
		t.Errorf("change %v", ev)
	}
	if !srv.RemoveTool("add") || srv.RemoveTool("add") {
		t.Error("RemoveTool: want true, then false")
	}
	select {
	case <-srv.CatalogueChanged():
	default:
		t.Error("no catalogue change signalled")
	}
	d, _ := c.Describe(ctx, &providerv1.DescribeRequest{})
	if len(d.GetCatalogue().GetTools()) != 0 || len(d.GetCatalogue().GetResourceTemplates()) != 1 || len(d.GetCatalogue().GetPrompts()) != 1 {
		t.Errorf("catalogue after removal: %v", d.GetCatalogue())
	}
}

func TestAssertionVerifier(t *testing.T) {
	c, _ := serve(t, Options{VerifyAssertion: func(_ context.Context, token string) error {
		if token != "good" {
			return fmt.Errorf("signature of %q does not verify", token)
		}
		return nil
	}}, notesFeatures()...)
	for _, tc := range []struct {
		token    string
		wantCode codes.Code
	}{{"", codes.Unauthenticated}, {"forged", codes.Unauthenticated}, {"good", codes.OK}} {
		ctx := context.Background()
		if tc.token != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, AssertionHeader, tc.token)
		}
		_, err := c.ReadResource(ctx, &providerv1.ReadResourceRequest{Uri: "notes://readme"})
		if status.Code(err) != tc.wantCode || strings.Contains(fmt.Sprint(err), "signature") {
			t.Errorf("token %q: %v, want %v without the verifier's reason", tc.token, err, tc.wantCode)
		}
	}
	if _, err := c.Describe(context.Background(), &providerv1.DescribeRequest{}); err != nil {
		t.Errorf("Describe comes from the mesh and needs no assertion: %v", err)
	}
}

func TestServeReportsHealth(t *testing.T) {
	srv, err := New(Options{Name: "health"})
	if err != nil {
		t.Fatal(err)
	}
	conn := serveOn(t, srv, ServeOptions{})
	resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: providerv1.ProviderService_ServiceDesc.ServiceName})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health: %v, %v", resp, err)
	}
}

func TestURITemplateMatch(t *testing.T) {
	tpl, err := parseURITemplate("test://template/{id}/data")
	if err != nil {
		t.Fatal(err)
	}
	for uri, want := range map[string]string{
		"test://template/123/data":   "map[id:123] true",
		"test://template/a%2Fb/data": "map[id:a/b] true",
		"test://template//data":      "map[] false",
		"test://template/1/2/data":   "map[] false",
		"test://template/1/data/x":   "map[] false",
	} {
		vars, ok := tpl.match(uri)
		if got := fmt.Sprint(vars, " ", ok); got != want {
			t.Errorf("%s: %s, want %s", uri, got, want)
		}
	}
	for _, bad := range []string{"x://{", "x://}", "x://{a}{b}", "x://{+a}", "x://plain"} {
		if _, err := parseURITemplate(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
