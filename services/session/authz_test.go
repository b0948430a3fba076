package session

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

var (
	alice = &principal.Principal{Subject: "alice", Issuer: "https://idp.example", ClientID: "ide", Method: principal.MethodOAuth,
		Scopes: []string{"files", "math"}, Claims: map[string]any{"team": "core"}}
	bob = &principal.Principal{Subject: "bob", Issuer: "https://idp.example", Method: principal.MethodOAuth,
		Claims: map[string]any{"team": "sales"}}
)

// testRules cover the harness's catalogue: echo needs a scope, the fillers a claim,
// block an argument, mem:// resources a scope, greet a prompt argument; everything
// else (gone, input, flaky, the template) falls to the default, deny.
var testRules = PolicyConfig{Rules: []PolicyRule{
	{Name: "echo", Tools: []string{"echo"}, RequireScopes: []string{"math"}},
	{Name: "fillers", Tools: []string{"filler_*"}, Allow: `principal.claims.team == "core"`},
	{Name: "block", Tools: []string{"block"}, Allow: `has(arguments.ok) && arguments.ok == true`},
	{Name: "memory", Resources: []string{"mem://*"}, RequireScopes: []string{"files"}},
	{Name: "greet", Prompts: []string{"greet"}, Allow: `!has(arguments.who) || arguments.who != "mallory"`},
}}

// newAuthzHarness runs the harness with pol; adjust may change the rest of the
// authorization settings.
func newAuthzHarness(t *testing.T, pol PolicyConfig, adjust func(*Deps)) *harness {
	t.Helper()
	return newHarnessDeps(t, nil, catalogueFixture, nil, func(d *Deps) {
		d.Authorization = DefaultAuthorization()
		d.Authorization.Policy = pol
		if adjust != nil {
			adjust(d)
		}
	})
}

// initializeAs opens a stateful session owned by p.
func (h *harness) initializeAs(t *testing.T, p *principal.Principal) *sessionv1.Session {
	t.Helper()
	resp, err := h.client.Initialize(as(t, p), &sessionv1.InitializeRequest{
		Params: []byte(`{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test","version":"1"}}`),
	})
	if err != nil {
		t.Fatalf("initialize as %s: %v", p.Subject, err)
	}
	return resp.GetSession()
}

func as(t *testing.T, p *principal.Principal) context.Context {
	return principal.NewContext(t.Context(), p)
}

// denial returns the reason and scopes of a PermissionDenied, failing on anything else.
func denial(t *testing.T, err error) (reason, scopes string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.PermissionDenied {
		t.Fatalf("status %v %q, want PermissionDenied", st.Code(), st.Message())
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == authDomain {
			return info.GetReason(), info.GetMetadata()["scopes"]
		}
	}
	t.Fatalf("no %s ErrorInfo in %v", authDomain, st.Details())
	return "", ""
}

// handleAs runs a Handle call as p and returns the result or the stream's error.
func (h *harness) handleAs(t *testing.T, p *principal.Principal, req *sessionv1.HandleRequest) (handled, error) {
	t.Helper()
	stream, err := h.client.Handle(as(t, p), req)
	if err != nil {
		return handled{}, err
	}
	var ev handled
	for {
		resp, err := stream.Recv()
		if err != nil {
			if err.Error() == "EOF" {
				return ev, nil
			}
			return ev, err
		}
		if r := resp.GetResult(); r != nil {
			ev.rawResult = r
		}
		if e := resp.GetError(); e != nil {
			ev.err = e
		}
	}
}

// TestPolicyOnEveryEntryPoint: the same rules answer alike through Handle (both
// generations) and the unary REST calls, for tools, resources, prompts and completion.
func TestPolicyOnEveryEntryPoint(t *testing.T) {
	h := newAuthzHarness(t, testRules, nil)
	// A session belongs to its creator: each principal has its own.
	sessions := map[*principal.Principal]*sessionv1.Session{alice: h.initializeAs(t, alice), bob: h.initializeAs(t, bob)}
	type call struct {
		name   string
		method string
		params string
	}
	tests := []struct {
		call
		who        *principal.Principal
		wantReason string // "" means allowed
		wantScopes string
	}{
		{call{"tool allowed", "tools/call", `{"name":"echo","arguments":{}}`}, alice, "", ""},
		{call{"tool short of scope", "tools/call", `{"name":"echo","arguments":{}}`}, bob, reasonInsufficientScope, "math"},
		{call{"tool claim", "tools/call", `{"name":"filler_1","arguments":{}}`}, alice, "", ""},
		{call{"tool claim denied", "tools/call", `{"name":"filler_1","arguments":{}}`}, bob, reasonPolicyDenied, ""},
		{call{"tool argument denied", "tools/call", `{"name":"block","arguments":{"ok":false}}`}, alice, reasonPolicyDenied, ""},
		{call{"tool by default", "tools/call", `{"name":"gone","arguments":{}}`}, alice, reasonPolicyDenied, ""},
		{call{"unknown tool looks like a denied one", "tools/call", `{"name":"nope","arguments":{}}`}, alice, reasonPolicyDenied, ""},
		{call{"resource", "resources/read", `{"uri":"mem://a"}`}, alice, "", ""},
		{call{"resource short of scope", "resources/read", `{"uri":"mem://a"}`}, bob, reasonInsufficientScope, "files"},
		{call{"unknown resource under a scoped pattern", "resources/read", `{"uri":"mem://nothing"}`}, bob, reasonInsufficientScope, "files"},
		{call{"prompt", "prompts/get", `{"name":"greet","arguments":{"who":"bob"}}`}, bob, "", ""},
		{call{"prompt argument denied", "prompts/get", `{"name":"greet","arguments":{"who":"mallory"}}`}, alice, reasonPolicyDenied, ""},
		{call{"completion of a denied prompt", "completion/complete",
			`{"ref":{"type":"ref/prompt","name":"greet"},"argument":{"name":"who","value":"m"},"context":{"arguments":{"who":"mallory"}}}`}, alice, reasonPolicyDenied, ""},
		{call{"completion of a resource short of scope", "completion/complete",
			`{"ref":{"type":"ref/resource","uri":"mem://a"},"argument":{"name":"x","value":""}}`}, bob, reasonInsufficientScope, "files"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reqs := map[string]*sessionv1.HandleRequest{
				"stateful":  stateful(sessions[tc.who], tc.method, tc.params),
				"stateless": stateless(tc.method, strings.Replace(tc.params, "{", "{"+statelessMeta+",", 1)),
			}
			for gen, req := range reqs {
				ev, err := h.handleAs(t, tc.who, req)
				if tc.wantReason == "" {
					// Allowed: the provider answers (filler's provider fails, which is
					// a JSON-RPC error, not a denial).
					if err != nil || (ev.err != nil && ev.err.GetCode() != -32603) {
						t.Fatalf("%s: %v %v", gen, err, ev.err)
					}
					continue
				}
				reason, scopes := denial(t, err)
				if reason != tc.wantReason || scopes != tc.wantScopes {
					t.Errorf("%s: %s %q, want %s %q", gen, reason, scopes, tc.wantReason, tc.wantScopes)
				}
				if st := status.Convert(err); strings.Contains(st.Message(), "echo") || strings.Contains(st.Message(), "filler") ||
					strings.Contains(st.Message(), "mem://") || strings.Contains(st.Message(), "rule") {
					t.Errorf("%s: the denial tells what exists: %q", gen, st.Message())
				}
			}
		})
	}
	// The REST API's unary calls go through the same dispatcher.
	_, err := h.client.CallTool(as(t, bob), &sessionv1.CallToolRequest{Name: "echo"})
	if reason, scopes := denial(t, err); reason != reasonInsufficientScope || scopes != "math" {
		t.Errorf("REST CallTool: %s %q", reason, scopes)
	}
	_, err = h.client.ReadResource(as(t, bob), &sessionv1.ReadResourceRequest{Uri: "mem://a"})
	if reason, _ := denial(t, err); reason != reasonInsufficientScope {
		t.Errorf("REST ReadResource: %s", reason)
	}
	_, err = h.client.GetPrompt(as(t, alice), &sessionv1.GetPromptRequest{Name: "greet", Arguments: map[string]string{"who": "mallory"}})
	if reason, _ := denial(t, err); reason != reasonPolicyDenied {
		t.Errorf("REST GetPrompt: %s", reason)
	}
	if _, err := h.client.CallTool(as(t, alice), &sessionv1.CallToolRequest{Name: "echo"}); err != nil {
		t.Errorf("REST CallTool allowed: %v", err)
	}
	// A denied and an unknown tool: the very same status.
	_, denied := h.client.CallTool(as(t, bob), &sessionv1.CallToolRequest{Name: "filler_2"})
	_, unknown := h.client.CallTool(as(t, bob), &sessionv1.CallToolRequest{Name: "filler_99"})
	if a, b := status.Convert(denied).Proto(), status.Convert(unknown).Proto(); a.String() != b.String() {
		t.Errorf("denied %v and unknown %v differ", a, b)
	}
}

// listAll pages through a listing as p and returns the names (or URIs) shown.
func (h *harness) listAll(t *testing.T, p *principal.Principal, sess *sessionv1.Session, method, member, key string) []string {
	t.Helper()
	var names []string
	cursor := ""
	for range 20 {
		params := `{}`
		if cursor != "" {
			params = `{"cursor":"` + cursor + `"}`
		}
		ev, err := h.handleAs(t, p, stateful(sess, method, params))
		if err != nil || ev.err != nil {
			t.Fatalf("%s: %v %v", method, err, ev.err)
		}
		var page map[string]json.RawMessage
		_ = json.Unmarshal(ev.rawResult, &page)
		var entries []map[string]any
		_ = json.Unmarshal(page[member], &entries)
		if len(entries) > 3 {
			t.Fatalf("page of %d entries, page size is 3", len(entries))
		}
		for _, e := range entries {
			names = append(names, e[key].(string))
		}
		cursor = ""
		_ = json.Unmarshal(page["nextCursor"], &cursor)
		if cursor == "" {
			return names
		}
	}
	t.Fatal("listing does not end")
	return nil
}

// TestListingsShowWhatThePrincipalMayUse: scope and claim rules hide entries; a rule
// whose condition needs the arguments cannot be decided at list time and shows.
func TestListingsShowWhatThePrincipalMayUse(t *testing.T) {
	h := newAuthzHarness(t, testRules, nil)
	for _, tc := range []struct {
		who                       *principal.Principal
		tools, resources, prompts []string
	}{
		{alice, []string{"block", "echo", "filler_0", "filler_1", "filler_2", "filler_3", "filler_4"},
			[]string{"mem://a", "mem://missing-at-provider"}, []string{"greet"}},
		{bob, []string{"block"}, nil, []string{"greet"}},
	} {
		sess := h.initializeAs(t, tc.who)
		if got := h.listAll(t, tc.who, sess, "tools/list", "tools", "name"); !slices.Equal(got, tc.tools) {
			t.Errorf("%s tools: %v, want %v", tc.who.Subject, got, tc.tools)
		}
		if got := h.listAll(t, tc.who, sess, "resources/list", "resources", "uri"); !slices.Equal(got, tc.resources) {
			t.Errorf("%s resources: %v, want %v", tc.who.Subject, got, tc.resources)
		}
		if got := h.listAll(t, tc.who, sess, "prompts/list", "prompts", "name"); !slices.Equal(got, tc.prompts) {
			t.Errorf("%s prompts: %v, want %v", tc.who.Subject, got, tc.prompts)
		}
		if got := h.listAll(t, tc.who, sess, "resources/templates/list", "resourceTemplates", "uriTemplate"); len(got) != 0 {
			t.Errorf("%s templates: %v, want none (default deny)", tc.who.Subject, got)
		}
		// The listing differs per principal: a shared cache must not hand it on.
		ev, err := h.handleAs(t, tc.who, stateless("tools/list", `{`+statelessMeta+`}`))
		if err != nil || ev.err != nil {
			t.Fatalf("stateless tools/list as %s: %v %v", tc.who.Subject, err, ev.err)
		}
		var result struct {
			CacheScope string `json:"cacheScope"`
		}
		if err := json.Unmarshal(ev.rawResult, &result); err != nil || result.CacheScope != "private" {
			t.Errorf("stateless tools/list as %s under a policy: %s, want cacheScope private", tc.who.Subject, ev.rawResult)
		}
	}
}

// TestPolicyReload: SetPolicy changes the rules for the next request; rules that do not
// compile are refused and the old ones stay.
func TestPolicyReload(t *testing.T) {
	h := newAuthzHarness(t, PolicyConfig{}, nil)
	call := func() error {
		_, err := h.client.CallTool(as(t, bob), &sessionv1.CallToolRequest{Name: "echo"})
		return err
	}
	if err := call(); err != nil {
		t.Fatalf("without rules: %v", err)
	}
	if err := h.svc.SetPolicy(testRules); err != nil {
		t.Fatal(err)
	}
	if reason, _ := denial(t, call()); reason != reasonInsufficientScope {
		t.Fatalf("after reload: %s", reason)
	}
	bad := PolicyConfig{Rules: []PolicyRule{{Name: "broken", Tools: []string{"*"}, Allow: `principal.subject ==`}}}
	if err := h.svc.SetPolicy(bad); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("bad rules: %v", err)
	}
	if reason, _ := denial(t, call()); reason != reasonInsufficientScope {
		t.Fatalf("bad rules replaced good ones: %s", reason)
	}
}

// TestNoPrincipalIsAnonymous: a call without a principal is decided as the anonymous
// principal (no scopes, no claims), never as allowed.
func TestNoPrincipalIsAnonymous(t *testing.T) {
	h := newAuthzHarness(t, testRules, nil)
	_, err := h.client.CallTool(t.Context(), &sessionv1.CallToolRequest{Name: "echo"})
	if reason, _ := denial(t, err); reason != reasonInsufficientScope {
		t.Fatalf("%s", reason)
	}
}
