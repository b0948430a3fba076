package federation

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/assertion"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// exchangeFixture is a mesh's assertion keys served as a JWKS, and a token endpoint
// whose answer the test chooses.
type exchangeFixture struct {
	signer   *assertion.Signer
	answer   func(w http.ResponseWriter, r *http.Request)
	requests atomic.Int32
	logs     bytes.Buffer
	logMu    sync.Mutex
	ex       *exchanger
}

func newExchangeFixture(t *testing.T) *exchangeFixture {
	t.Helper()
	keys, err := assertion.EphemeralKeys()
	if err != nil {
		t.Fatal(err)
	}
	f := &exchangeFixture{}
	if f.signer, err = assertion.NewSigner(keys, "", 0); err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(keys.JWKS()) }))
	t.Cleanup(jwks.Close)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		f.answer(w, r)
	}))
	t.Cleanup(idp.Close)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("fed-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := TokenExchange{
		TokenURL: idp.URL + "/token", ClientID: "fed", ClientSecretFile: secret,
		Audience: "docs-api", Scopes: []string{"docs.read"}, AssertionJWKSURL: jwks.URL,
	}
	logger := slog.New(slog.NewTextHandler(lockedWriter{&f.logMu, &f.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.ex = newExchanger("docs", cfg, 10*time.Second, logger)
	t.Cleanup(f.ex.client.CloseIdleConnections)
	return f
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (f *exchangeFixture) log() string {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.logs.String()
}

// call is a provider call's context carrying the assertion of p for audience.
func (f *exchangeFixture) call(t *testing.T, p *principal.Principal, audience string) (context.Context, string) {
	t.Helper()
	tok, _, err := f.signer.Sign(p, audience)
	if err != nil {
		t.Fatal(err)
	}
	return metadata.NewIncomingContext(t.Context(), metadata.Pairs(assertion.MetadataKey, tok)), tok
}

var alice = &principal.Principal{Subject: "alice", Issuer: "https://idp", Method: principal.MethodOAuth}

// A call that names no verified, authenticated caller gets no token, and the
// identity provider is never asked.
func TestTokenExchangeNeedsAVerifiedCaller(t *testing.T) {
	f := newExchangeFixture(t)
	f.answer = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "unexpected", http.StatusTeapot) }
	foreign := newExchangeFixture(t)
	forged, _ := foreign.call(t, alice, "docs")
	otherAudience, _ := f.call(t, alice, "search")
	anonymous, _ := f.call(t, principal.Anonymous, "docs")
	for name, tc := range map[string]struct {
		ctx  context.Context
		want string
	}{
		"no assertion":           {t.Context(), "carries no identity assertion"},
		"signed by another mesh": {forged, "identity assertion was rejected"},
		"for another provider":   {otherAudience, "identity assertion was rejected"},
		"anonymous":              {anonymous, "the caller is anonymous"},
	} {
		_, err := f.ex.callerFor(tc.ctx)
		if st := status.Convert(err); st.Code() != codes.Unauthenticated || !strings.Contains(st.Message(), tc.want) || !strings.Contains(st.Message(), "upstream docs") {
			t.Errorf("%s: %v; want Unauthenticated naming upstream docs and %q", name, err, tc.want)
		}
	}
	if n := f.requests.Load(); n != 0 {
		t.Errorf("the identity provider was asked %d times", n)
	}
}

// The token request is RFC 8693's: the assertion as a JWT subject token, the
// federation's client authenticated, an access token for the audience and scopes.
// Concurrent calls of one caller share one request, and its token is kept.
func TestTokenExchangeRequestAndCache(t *testing.T) {
	f := newExchangeFixture(t)
	ctx, raw := f.call(t, alice, "docs")
	asked, release := make(chan struct{}, 1), make(chan struct{})
	f.answer = func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		<-release
		id, secret, ok := r.BasicAuth()
		want := map[string]string{
			"grant_type":           "urn:ietf:params:oauth:grant-type:token-exchange",
			"subject_token":        raw,
			"subject_token_type":   "urn:ietf:params:oauth:token-type:jwt",
			"requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
			"audience":             "docs-api",
			"scope":                "docs.read",
		}
		for k, v := range want {
			if got := r.PostFormValue(k); got != v {
				t.Errorf("token request %s = %q, want %q", k, got, v)
			}
		}
		if !ok || id != "fed" || secret != "fed-secret" {
			t.Errorf("token request authenticated as %q (basic %v), want the client fed", id, ok)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"alice-at-docs","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":300}`))
	}
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Go(func() {
			c, err := f.ex.callerFor(ctx)
			if err != nil {
				t.Error(err)
			}
			tokens[i] = c.token
		})
	}
	<-asked // the others join the request in flight, or find its token kept
	close(release)
	wg.Wait()
	if c, err := f.ex.callerFor(ctx); err != nil || c.token != "alice-at-docs" {
		t.Fatalf("cached token %q, %v", c.token, err)
	}
	for i, tok := range tokens {
		if tok != "alice-at-docs" {
			t.Errorf("call %d got %q", i, tok)
		}
	}
	if n := f.requests.Load(); n != 1 {
		t.Errorf("%d token requests for one caller, want 1", n)
	}
	// The same user through a client with other scopes is another caller: the
	// identity provider may issue it another token.
	narrower := *alice
	narrower.ClientID, narrower.Scopes = "ide", []string{"mcp:tools"}
	other, otherRaw := f.call(t, &narrower, "docs")
	raw = otherRaw
	if _, err := f.ex.callerFor(other); err != nil {
		t.Fatal(err)
	}
	if n := f.requests.Load(); n != 2 {
		t.Errorf("%d token requests after a call through another client, want 2", n)
	}
	if strings.Contains(f.log(), "alice-at-docs") || strings.Contains(f.log(), raw) {
		t.Errorf("the log holds a token:\n%s", f.log())
	}
}

// A refusal names the upstream and the OAuth error code, not the provider's text;
// an answer that is no token response is reported without its body (it may hold a
// token), in the error and in the log.
func TestTokenExchangeFailuresLeakNothing(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		body   string
		code   codes.Code
		want   string
	}{
		"refused": {http.StatusBadRequest, `{"error":"invalid_grant","error_description":"secret-detail"}`, codes.PermissionDenied,
			"the token exchange for upstream docs was refused by the identity provider (invalid_grant)"},
		"server error": {http.StatusInternalServerError, `leaked-body`, codes.Unavailable,
			"the token exchange for upstream docs failed: the identity provider did not answer with a token"},
		"not json": {http.StatusOK, `{"access_token":"leaked-token",`, codes.Unavailable,
			"the token exchange for upstream docs failed: the identity provider did not answer with a token"},
		"redirect": {http.StatusTemporaryRedirect, ``, codes.Unavailable,
			"the token exchange for upstream docs failed: the identity provider did not answer with a token"},
		"not a bearer token": {http.StatusOK, `{"access_token":"leaked-token","token_type":"N_A","expires_in":60}`, codes.Unavailable,
			"the token exchange for upstream docs failed: the identity provider issued no bearer access token"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newExchangeFixture(t)
			f.answer = func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/token" {
					t.Errorf("the federation followed the token endpoint's redirect to %s", r.URL.Path)
				}
				w.Header().Set("Location", "/elsewhere")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}
			ctx, _ := f.call(t, alice, "docs")
			_, err := f.ex.callerFor(ctx)
			st := status.Convert(err)
			if st.Code() != tc.code || st.Message() != tc.want {
				t.Errorf("%v; want %s %q", err, tc.code, tc.want)
			}
			for _, secret := range []string{"secret-detail", "leaked-body", "leaked-token", "fed-secret"} {
				if strings.Contains(st.Message(), secret) || strings.Contains(f.log(), secret) {
					t.Errorf("%q leaked: error %q, log:\n%s", secret, st.Message(), f.log())
				}
			}
		})
	}
}

// Every ProviderService method is either made for a caller or the federation's own; a
// method added to the service must be sorted here, or it would be made with the
// federation's token for every caller. Those made for a caller are refused without
// one, before the upstream is asked (which, disconnected here, would say so).
func TestEveryProviderMethodIsSortedForTokenExchange(t *testing.T) {
	f := newExchangeFixture(t)
	f.answer = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "unexpected", http.StatusTeapot) }
	cfg := Upstream{Name: "docs", URL: "https://docs/mcp", Auth: Auth{TokenExchange: f.ex.cfg}}
	p := newUpstream(cfg, DefaultConfig(), discard(), nil).provider()
	ctx := t.Context() // no assertion
	refused := func(err error) bool { return status.Code(err) == codes.Unauthenticated }
	forCaller := map[string]func() bool{
		"CallTool": func() bool {
			stream := &recordingStream{ctx: ctx}
			err := p.CallTool(&providerv1.CallToolRequest{Name: "search"}, stream)
			return err == nil && len(stream.sent) == 1 && stream.sent[0].GetResult().GetIsError() &&
				strings.Contains(string(stream.sent[0].GetResult().GetContent()), "carries no identity assertion")
		},
		"ReadResource": func() bool {
			_, err := p.ReadResource(ctx, &providerv1.ReadResourceRequest{Uri: "docs://a"})
			return refused(err)
		},
		"GetPrompt": func() bool {
			_, err := p.GetPrompt(ctx, &providerv1.GetPromptRequest{Name: "p"})
			return refused(err)
		},
		"Complete": func() bool {
			_, err := p.Complete(ctx, &providerv1.CompleteRequest{Ref: []byte(`{"type":"ref/prompt","name":"p"}`)})
			return refused(err)
		},
	}
	own := map[string]bool{"Describe": true, "WatchResources": true}
	desc := providerv1.ProviderService_ServiceDesc
	names := []string{}
	for _, m := range desc.Methods {
		names = append(names, m.MethodName)
	}
	for _, s := range desc.Streams {
		names = append(names, s.StreamName)
	}
	for _, name := range names {
		switch check, ok := forCaller[name]; {
		case ok:
			if !check() {
				t.Errorf("%s without a caller was not refused as having none", name)
			}
		case !own[name]:
			t.Errorf("%s is neither made for a caller nor the federation's own", name)
		}
	}
}

// recordingStream is a CallTool stream that keeps what is sent.
type recordingStream struct {
	grpc.ServerStreamingServer[providerv1.CallToolResponse]
	ctx  context.Context
	sent []*providerv1.CallToolResponse
}

func (s *recordingStream) Context() context.Context { return s.ctx }

func (s *recordingStream) Send(r *providerv1.CallToolResponse) error {
	s.sent = append(s.sent, r)
	return nil
}
