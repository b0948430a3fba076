package session

import (
	"encoding/json"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// restPage is one page of a unary List RPC: the names (or URIs) and providers shown
// and the next page token.
type restPage struct {
	names, providers []string
	next             string
}

// restListAll pages through a unary List RPC as p, checking that every page token is
// the cursor MCP gives for the same page, and returns the names (or URIs) shown.
func (h *harness) restListAll(t *testing.T, p *principal.Principal, page func(token string) (restPage, error)) []string {
	t.Helper()
	var names []string
	token := ""
	for range 20 {
		pg, err := page(token)
		if err != nil {
			t.Fatalf("%s: list page %q: %v", p.Subject, token, err)
		}
		if len(pg.names) > 3 {
			t.Fatalf("page of %d entries, page size is 3", len(pg.names))
		}
		for _, prov := range pg.providers {
			if prov == "" {
				t.Errorf("entry without its provider on page %q: %v", token, pg.names)
			}
		}
		names = append(names, pg.names...)
		if token = pg.next; token == "" {
			return names
		}
	}
	t.Fatal("listing does not end")
	return nil
}

// TestRESTListingsAgreeWithMCP: the unary List RPCs (GET /v1/tools and its siblings)
// show a principal exactly what the MCP listings show it, under the same policy: a
// tool the policy hides over /mcp is hidden over REST too.
func TestRESTListingsAgreeWithMCP(t *testing.T) {
	h := newAuthzHarness(t, testRules, nil)
	for _, who := range []*principal.Principal{alice, bob} {
		ctx := as(t, who)
		sess := h.initializeAs(t, who)
		tools := h.restListAll(t, who, func(token string) (restPage, error) {
			r, err := h.client.ListTools(ctx, &sessionv1.ListToolsRequest{PageToken: token})
			var pg restPage
			for _, x := range r.GetTools() {
				pg.names, pg.providers = append(pg.names, x.GetName()), append(pg.providers, x.GetProvider())
			}
			pg.next = r.GetNextPageToken()
			return pg, err
		})
		if want := h.listAll(t, who, sess, "tools/list", "tools", "name"); !slices.Equal(tools, want) {
			t.Errorf("%s: REST tools %v, MCP tools/list %v", who.Subject, tools, want)
		}
		resources := h.restListAll(t, who, func(token string) (restPage, error) {
			r, err := h.client.ListResources(ctx, &sessionv1.ListResourcesRequest{PageToken: token})
			var pg restPage
			for _, x := range r.GetResources() {
				pg.names, pg.providers = append(pg.names, x.GetResource().GetUri()), append(pg.providers, x.GetProvider())
			}
			pg.next = r.GetNextPageToken()
			return pg, err
		})
		if want := h.listAll(t, who, sess, "resources/list", "resources", "uri"); !slices.Equal(resources, want) {
			t.Errorf("%s: REST resources %v, MCP resources/list %v", who.Subject, resources, want)
		}
		templates := h.restListAll(t, who, func(token string) (restPage, error) {
			r, err := h.client.ListResourceTemplates(ctx, &sessionv1.ListResourceTemplatesRequest{PageToken: token})
			var pg restPage
			for _, x := range r.GetResourceTemplates() {
				pg.names, pg.providers = append(pg.names, x.GetResourceTemplate().GetUriTemplate()), append(pg.providers, x.GetProvider())
			}
			pg.next = r.GetNextPageToken()
			return pg, err
		})
		if want := h.listAll(t, who, sess, "resources/templates/list", "resourceTemplates", "uriTemplate"); !slices.Equal(templates, want) {
			t.Errorf("%s: REST templates %v, MCP resources/templates/list %v", who.Subject, templates, want)
		}
		prompts := h.restListAll(t, who, func(token string) (restPage, error) {
			r, err := h.client.ListPrompts(ctx, &sessionv1.ListPromptsRequest{PageToken: token})
			var pg restPage
			for _, x := range r.GetPrompts() {
				pg.names, pg.providers = append(pg.names, x.GetName()), append(pg.providers, x.GetProvider())
			}
			pg.next = r.GetNextPageToken()
			return pg, err
		})
		if want := h.listAll(t, who, sess, "prompts/list", "prompts", "name"); !slices.Equal(prompts, want) {
			t.Errorf("%s: REST prompts %v, MCP prompts/list %v", who.Subject, prompts, want)
		}
	}
	// The case the listings exist for: policy denies bob the fillers and echo.
	r, err := h.client.ListTools(as(t, bob), &sessionv1.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range r.GetTools() {
		if tool.GetName() == "echo" || tool.GetName() == "filler_0" {
			t.Errorf("bob sees %s over REST, which policy denies him", tool.GetName())
		}
	}
}

// TestRESTListingPages: page_size only shrinks pages, a token from tools/list
// continues a REST listing (and the other way round), and bad paging input is
// INVALID_ARGUMENT.
func TestRESTListingPages(t *testing.T) {
	h := newHarness(t, true, nil)
	ctx := as(t, alice)
	first, err := h.client.ListTools(ctx, &sessionv1.ListToolsRequest{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.GetTools()) != 2 || first.GetNextPageToken() == "" {
		t.Fatalf("page_size 2: %d tools, next %q", len(first.GetTools()), first.GetNextPageToken())
	}
	big, err := h.client.ListTools(ctx, &sessionv1.ListToolsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(big.GetTools()) != 3 {
		t.Errorf("page_size 1000 gave %d tools, want the session's page size, 3", len(big.GetTools()))
	}
	// A REST token is an MCP cursor: tools/list continues from it exactly as REST does.
	ev, err := h.handleAs(t, alice, stateful(h.initializeAs(t, alice), "tools/list", `{"cursor":"`+first.GetNextPageToken()+`"}`))
	if err != nil || ev.err != nil {
		t.Fatalf("tools/list with a REST token: %v %v", err, ev.err)
	}
	var mcpPage struct {
		Tools      []struct{ Name string } `json:"tools"`
		NextCursor string                  `json:"nextCursor"`
	}
	if err := json.Unmarshal(ev.rawResult, &mcpPage); err != nil {
		t.Fatal(err)
	}
	second, err := h.client.ListTools(ctx, &sessionv1.ListToolsRequest{PageToken: first.GetNextPageToken()})
	if err != nil {
		t.Fatal(err)
	}
	var restNames, mcpNames []string
	for _, tool := range second.GetTools() {
		restNames = append(restNames, tool.GetName())
	}
	for _, tool := range mcpPage.Tools {
		mcpNames = append(mcpNames, tool.Name)
	}
	if len(restNames) == 0 || !slices.Equal(restNames, mcpNames) || second.GetNextPageToken() != mcpPage.NextCursor {
		t.Errorf("after the same token: REST %v next %q, MCP %v next %q", restNames, second.GetNextPageToken(), mcpNames, mcpPage.NextCursor)
	}
	for _, req := range []*sessionv1.ListToolsRequest{{PageToken: "not a cursor"}, {PageSize: -1}} {
		_, err := h.client.ListTools(ctx, req)
		if status.Code(err) != codes.InvalidArgument || status.Convert(err).Message() == "" {
			t.Errorf("%v: %v, want InvalidArgument with a message", req, err)
		}
	}
}

// TestObservedRESTListing: a REST listing is traced as the MCP method it shares a
// path with, and a bad page token carries the JSON-RPC code tools/list would answer.
func TestObservedRESTListing(t *testing.T) {
	h := newObservedHarness(t)
	if _, err := h.client.ListTools(t.Context(), &sessionv1.ListToolsRequest{}); err != nil {
		t.Fatal(err)
	}
	got := attrs(h.span(t, "tools/list"))
	if got["mcp.method.name"] != "tools/list" {
		t.Errorf("span attributes %v, want mcp.method.name tools/list", got)
	}
	if _, ok := got["error.type"]; ok {
		t.Errorf("a successful listing has error.type %q", got["error.type"])
	}
	if _, err := h.client.ListPrompts(t.Context(), &sessionv1.ListPromptsRequest{PageToken: "not a cursor"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad page token: %v, want InvalidArgument", err)
	}
	if got := attrs(h.span(t, "prompts/list")); got["error.type"] != "-32602" {
		t.Errorf("bad page token: span attributes %v, want error.type -32602", got)
	}
}
