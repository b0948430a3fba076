package registry

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
)

func TestRegisterDescribesAndListsInOrderWithCollisionNames(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	alphaAddr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{
		Tools:     tools("echo", "shared"),
		Prompts:   prompts("greet", "solo"),
		Resources: resources("file:///shared", "file:///a"),
		ResourceTemplates: []*mcpv1.ResourceTemplate{
			{UriTemplate: "db://{id}", Name: "db"},
		},
	}))
	betaAddr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{
		Tools:     tools("zeta", "shared"),
		Prompts:   prompts("greet"),
		Resources: resources("file:///b", "file:///shared"),
		ResourceTemplates: []*mcpv1.ResourceTemplate{
			{UriTemplate: "db://{id}", Name: "db too"},
			{UriTemplate: "cache://{key}", Name: "cache"},
		},
	}))
	// Register beta first: order and collision winners must not depend on timing.
	beta := h.register(t, "beta", betaAddr, 0)
	h.register(t, "alpha", alphaAddr, 0)

	if beta.GetLeaseId() == "" || beta.GetLeaseSeconds() != 30 {
		t.Fatalf("lease = %q, %ds; want an id and the default 30s", beta.GetLeaseId(), beta.GetLeaseSeconds())
	}
	if got := beta.GetProvider(); got.GetToolCount() != 2 || got.GetResourceTemplateCount() != 2 || got.GetVersion() != "1.0.0" {
		t.Fatalf("registered provider = %v", got)
	}

	toolsResp, err := h.client.ListTools(t.Context(), &registryv1.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var toolNames, toolProviders []string
	for _, tv := range toolsResp.GetTools() {
		toolNames = append(toolNames, tv.GetName())
		toolProviders = append(toolProviders, tv.GetProvider())
	}
	assertEqual(t, "tool names", toolNames, []string{"alpha.shared", "beta.shared", "echo", "zeta"})
	assertEqual(t, "tool providers", toolProviders, []string{"alpha", "beta", "alpha", "beta"})
	if typ := toolsResp.GetTools()[2].GetInputSchema().GetFields()["type"].GetStringValue(); typ != "object" {
		t.Fatalf("input schema not converted to a Struct: %v", toolsResp.GetTools()[2].GetInputSchema())
	}
	if toolsResp.GetNextPageToken() != "" {
		t.Fatalf("single page has a next token %q", toolsResp.GetNextPageToken())
	}

	promptsResp, err := h.client.ListPrompts(t.Context(), &registryv1.ListPromptsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var promptNames []string
	for _, p := range promptsResp.GetPrompts() {
		promptNames = append(promptNames, p.GetName()+"@"+p.GetProvider()+":"+p.GetPrompt().GetName())
	}
	assertEqual(t, "prompts", promptNames, []string{"alpha.greet@alpha:greet", "beta.greet@beta:greet", "solo@alpha:solo"})

	resResp, err := h.client.ListResources(t.Context(), &registryv1.ListResourcesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var res []string
	for _, r := range resResp.GetResources() {
		res = append(res, r.GetResource().GetUri()+"@"+r.GetProvider())
	}
	// On a URI clash the provider whose name sorts first wins.
	assertEqual(t, "resources", res, []string{"file:///a@alpha", "file:///b@beta", "file:///shared@alpha"})

	tplResp, err := h.client.ListResourceTemplates(t.Context(), &registryv1.ListResourceTemplatesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var tpls []string
	for _, r := range tplResp.GetResourceTemplates() {
		tpls = append(tpls, r.GetResourceTemplate().GetUriTemplate()+"@"+r.GetProvider())
	}
	assertEqual(t, "templates", tpls, []string{"cache://{key}@beta", "db://{id}@alpha"})

	provs, err := h.client.ListProviders(t.Context(), &registryv1.ListProvidersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var provNames []string
	for _, p := range provs.GetProviders() {
		provNames = append(provNames, p.GetName())
	}
	assertEqual(t, "providers", provNames, []string{"alpha", "beta"})
	if a := provs.GetProviders()[0]; a.GetToolCount() != 2 || a.GetPromptCount() != 2 || a.GetResourceCount() != 2 || a.GetLeaseExpiresAt() == nil {
		t.Fatalf("alpha = %v", a)
	}
}

func TestReRegisterReplacesWithNewLease(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	p := newTestProvider(&mcpv1.Catalogue{Tools: tools("one")})
	addr, _ := serveProvider(t, p)
	first := h.register(t, "svc", addr, 0)
	p.setCatalogue(&mcpv1.Catalogue{Tools: tools("two")})
	second := h.register(t, "svc", addr, 0)
	if first.GetLeaseId() == second.GetLeaseId() {
		t.Fatal("re-registration kept the old lease id")
	}
	if _, err := h.client.Heartbeat(t.Context(), &registryv1.HeartbeatRequest{Name: "svc", LeaseId: first.GetLeaseId()}); err == nil {
		t.Fatal("old lease still accepted after re-registration")
	} else {
		wantCode(t, err, codes.NotFound)
	}
	resp, err := h.client.ListTools(t.Context(), &registryv1.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetTools()) != 1 || resp.GetTools()[0].GetName() != "two" {
		t.Fatalf("tools after re-registration = %v", resp.GetTools())
	}
}

func TestRegisterLeaseClamping(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	addr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{}))
	tests := []struct {
		requested int32
		granted   int32
	}{
		{0, 30}, {1, 5}, {5, 5}, {60, 60}, {300, 300}, {100000, 300},
	}
	for _, tt := range tests {
		got := h.register(t, "svc", addr, tt.requested).GetLeaseSeconds()
		if got != tt.granted {
			t.Errorf("lease_seconds %d granted %d, want %d", tt.requested, got, tt.granted)
		}
	}
}

func TestRegisterRejects(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Providers = []StaticProvider{{Name: "fixed", Address: refusedAddress(t)}}
	h := newHarness(t, cfg)
	addr, _ := serveProvider(t, newTestProvider(&mcpv1.Catalogue{}))
	down := refusedAddress(t)
	tests := []struct {
		name      string
		req       *registryv1.RegisterProviderRequest
		code      codes.Code
		msgHasAll []string
	}{
		{"empty name", &registryv1.RegisterProviderRequest{Address: addr}, codes.InvalidArgument, []string{"provider name"}},
		{"upper case", &registryv1.RegisterProviderRequest{Name: "Svc", Address: addr}, codes.InvalidArgument, []string{"Svc"}},
		{"dot in name", &registryv1.RegisterProviderRequest{Name: "a.b", Address: addr}, codes.InvalidArgument, []string{"a.b"}},
		{"too long", &registryv1.RegisterProviderRequest{Name: strings.Repeat("a", 64), Address: addr}, codes.InvalidArgument, nil},
		{"no address", &registryv1.RegisterProviderRequest{Name: "svc"}, codes.InvalidArgument, []string{"address"}},
		{"no port", &registryv1.RegisterProviderRequest{Name: "svc", Address: "localhost"}, codes.InvalidArgument, []string{"host:port"}},
		{"bad port", &registryv1.RegisterProviderRequest{Name: "svc", Address: "localhost:99999"}, codes.InvalidArgument, []string{"port"}},
		{"empty inproc name", &registryv1.RegisterProviderRequest{Name: "svc", Address: "inproc:"}, codes.InvalidArgument, nil},
		{"negative lease", &registryv1.RegisterProviderRequest{Name: "svc", Address: addr, LeaseSeconds: -1}, codes.InvalidArgument, []string{"lease_seconds"}},
		{"static name", &registryv1.RegisterProviderRequest{Name: "fixed", Address: addr}, codes.AlreadyExists, []string{"fixed"}},
		{"provider down", &registryv1.RegisterProviderRequest{Name: "svc", Address: down}, codes.Unavailable, []string{"svc", down}},
		{"nothing in process", &registryv1.RegisterProviderRequest{Name: "svc", Address: "inproc"}, codes.Unavailable, []string{"svc", "inproc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.RegisterProvider(t.Context(), tt.req)
			st := wantCode(t, err, tt.code)
			for _, part := range tt.msgHasAll {
				if !strings.Contains(st.Message(), part) {
					t.Errorf("message %q does not mention %q", st.Message(), part)
				}
			}
		})
	}
	provs, err := h.client.ListProviders(t.Context(), &registryv1.ListProvidersRequest{})
	if err != nil || len(provs.GetProviders()) != 0 {
		t.Fatalf("rejected registrations left providers: %v, %v", provs.GetProviders(), err)
	}
}

func TestDeregisterAndRefresh(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	p := newTestProvider(&mcpv1.Catalogue{Tools: tools("one")})
	addr, _ := serveProvider(t, p)
	lease := h.register(t, "svc", addr, 0).GetLeaseId()

	p.setCatalogue(&mcpv1.Catalogue{Tools: tools("one", "two")})
	ref, err := h.client.RefreshProvider(t.Context(), &registryv1.RefreshProviderRequest{Name: "svc"})
	if err != nil || ref.GetProvider().GetToolCount() != 2 {
		t.Fatalf("RefreshProvider = %v, %v; want 2 tools", ref, err)
	}
	if _, err := h.client.RefreshProvider(t.Context(), &registryv1.RefreshProviderRequest{Name: "nobody"}); err != nil {
		wantCode(t, err, codes.NotFound)
	} else {
		t.Fatal("refreshing an unknown provider succeeded")
	}
	// The lease survives a refresh.
	if _, err := h.client.Heartbeat(t.Context(), &registryv1.HeartbeatRequest{Name: "svc", LeaseId: lease}); err != nil {
		t.Fatalf("heartbeat after refresh: %v", err)
	}

	tests := []struct {
		name  string
		req   *registryv1.DeregisterProviderRequest
		code  codes.Code
		isErr bool
	}{
		{"missing lease", &registryv1.DeregisterProviderRequest{Name: "svc"}, codes.InvalidArgument, true},
		{"wrong lease", &registryv1.DeregisterProviderRequest{Name: "svc", LeaseId: "nope"}, codes.NotFound, true},
		{"unknown name", &registryv1.DeregisterProviderRequest{Name: "other", LeaseId: lease}, codes.NotFound, true},
		{"right lease", &registryv1.DeregisterProviderRequest{Name: "svc", LeaseId: lease}, codes.OK, false},
		{"twice", &registryv1.DeregisterProviderRequest{Name: "svc", LeaseId: lease}, codes.NotFound, true},
	}
	for _, tt := range tests {
		_, err := h.client.DeregisterProvider(t.Context(), tt.req)
		if tt.isErr {
			wantCode(t, err, tt.code)
		} else if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
	resp, err := h.client.ListTools(t.Context(), &registryv1.ListToolsRequest{})
	if err != nil || len(resp.GetTools()) != 0 {
		t.Fatalf("tools after deregistration = %v, %v", resp.GetTools(), err)
	}
}

func assertEqual(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}
