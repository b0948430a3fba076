package federation

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/breaker"
	"github.com/mcpmesh/mcpmesh/services/kit/eventually"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
)

// boundUpstream is a Go SDK MCP server (2025-11-25, Streamable HTTP) that binds each
// session to the user who opened it (its verifier sets TokenInfo.UserID), behind a
// token endpoint that issues "tok-<subject>-<n>" by token exchange, a new token at
// every exchange (each lives 30 s, so the federation exchanges again at each call),
// and "tok-federation" to the federation's own client credentials grant. It offers no
// standalone GET stream (405, as the specification allows), so that a session it
// forgets is noticed at the next request. It records every request.
type boundUpstream struct {
	srv     *mcp.Server
	http    *httptest.Server
	addr    string
	handler http.Handler

	mu       sync.Mutex
	issued   map[string]int // tokens exchanged, by subject
	requests []seenRequest
	forbid   string // a subject the upstream refuses

	// The tool wait signals waiting and answers once release is closed.
	waiting chan struct{}
	release chan struct{}
}

type seenRequest struct {
	method, session, token string
	status                 int
}

func newBoundUpstream(t *testing.T, f *exchangeFixture) *boundUpstream {
	t.Helper()
	b := &boundUpstream{issued: map[string]int{}, waiting: make(chan struct{}, 1), release: make(chan struct{})}
	f.answer = b.token
	b.srv = mcp.NewServer(&mcp.Implementation{Name: "docs", Version: "1"}, nil)
	mcp.AddTool(b.srv, &mcp.Tool{Name: "whoami", Description: "Names the user and the session of the call."},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			//nolint:staticcheck // logging is deprecated from 2026-07-28, this upstream is 2025-11-25
			_ = req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Data: "for " + req.Extra.TokenInfo.UserID})
			if tok := req.Params.GetProgressToken(); tok != nil {
				_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: 1, Message: "for " + req.Extra.TokenInfo.UserID})
			}
			text := fmt.Sprintf("sub=%s session=%s", req.Extra.TokenInfo.UserID, req.Session.ID())
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
		})
	mcp.AddTool(b.srv, &mcp.Tool{Name: "wait", Description: "Answers once the test releases it."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			b.waiting <- struct{}{}
			select {
			case <-b.release:
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "released"}}}, nil, nil
		})
	verify := func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		user, ok := strings.CutPrefix(token, "tok-")
		if !ok {
			return nil, auth.ErrInvalidToken
		}
		if i := strings.LastIndexByte(user, '-'); i > 0 {
			user = user[:i]
		}
		return &auth.TokenInfo{UserID: user, Expiration: time.Now().Add(time.Minute)}, nil
	}
	mcpHandler := auth.RequireBearerToken(verify, nil)(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return b.srv }, nil))
	b.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		seen := seenRequest{method: r.Method, session: r.Header.Get("Mcp-Session-Id"), token: token}
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var msg struct {
				Method string `json:"method"`
			}
			_ = json.Unmarshal(body, &msg)
			seen.method = msg.Method
		}
		b.mu.Lock()
		forbidden := b.forbid != "" && strings.HasPrefix(token, "tok-"+b.forbid+"-")
		b.mu.Unlock()
		switch {
		case r.Method == http.MethodGet:
			seen.status = http.StatusMethodNotAllowed
			w.Header().Set("Allow", "POST, DELETE")
			http.Error(w, "no standalone stream", seen.status)
		case forbidden:
			seen.status = http.StatusForbidden
			http.Error(w, "not for you", seen.status)
		default:
			rec := httptest.NewRecorder()
			mcpHandler.ServeHTTP(rec, r) // every answer here is short: no stream to pass on
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			seen.status = rec.Code
			if seen.method == "initialize" {
				seen.session = rec.Header().Get("Mcp-Session-Id")
			}
		}
		b.mu.Lock()
		b.requests = append(b.requests, seen)
		b.mu.Unlock()
	})
	b.start(t, "127.0.0.1:0")
	t.Cleanup(func() {
		b.http.Close()
		b.closeSessions()
	})
	return b
}

// start serves the upstream at addr.
func (b *boundUpstream) start(t *testing.T, addr string) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	b.http = &httptest.Server{Listener: lis, Config: &http.Server{Handler: b.handler, ReadHeaderTimeout: 5 * time.Second}}
	b.http.Start()
	b.addr = lis.Addr().String()
}

// restart stops the upstream, forgetting its sessions, and serves it again at the
// same address.
func (b *boundUpstream) restart(t *testing.T) {
	t.Helper()
	b.http.Close()
	b.closeSessions()
	b.start(t, b.addr)
}

func (b *boundUpstream) closeSessions() {
	for ss := range b.srv.Sessions() {
		_ = ss.Close()
	}
}

// forget ends the upstream's session id, as a session timeout would.
func (b *boundUpstream) forget(id string) {
	for ss := range b.srv.Sessions() {
		if ss.ID() == id {
			_ = ss.Close()
		}
	}
}

func (b *boundUpstream) url() string { return "http://" + b.addr + "/mcp" }

// token answers the federation's token requests.
func (b *boundUpstream) token(w http.ResponseWriter, r *http.Request) {
	var tok string
	switch r.PostFormValue("grant_type") {
	case "client_credentials":
		tok = "tok-federation"
	default:
		parts := strings.Split(r.PostFormValue("subject_token"), ".")
		var claims struct {
			Sub string `json:"sub"`
		}
		if len(parts) == 3 {
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			_ = json.Unmarshal(payload, &claims)
		}
		b.mu.Lock()
		b.issued[claims.Sub]++
		tok = fmt.Sprintf("tok-%s-%d", claims.Sub, b.issued[claims.Sub])
		b.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":30}`, tok)
}

func (b *boundUpstream) seen() []seenRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.requests)
}

// of returns the requests of method (a JSON-RPC method, or DELETE) by token prefix.
func (b *boundUpstream) of(method, tokenPrefix string) []seenRequest {
	var out []seenRequest
	for _, r := range b.seen() {
		if r.method == method && strings.HasPrefix(r.token, tokenPrefix) {
			out = append(out, r)
		}
	}
	return out
}

// callerFixture runs the token_exchange upstream "docs" served by b, with settings
// changed by tune; stop ends it (the service stopping).
type callerFixture struct {
	f    *exchangeFixture
	b    *boundUpstream
	u    *upstream
	p    providerv1.ProviderServiceServer
	stop func()
}

func newCallerFixture(t *testing.T, tune func(*Config)) *callerFixture {
	t.Helper()
	f := newExchangeFixture(t)
	b := newBoundUpstream(t, f)
	settings := DefaultConfig()
	settings.PingInterval = 0 // the connection's end alone starts a reconnect
	settings.ReconnectMax = 200 * time.Millisecond
	if tune != nil {
		tune(&settings)
	}
	breakers, err := breaker.New(settings.Breaker, breaker.Options{IsFailure: breakerFailure})
	if err != nil {
		t.Fatal(err)
	}
	u := newUpstream(Upstream{Name: "docs", URL: b.url(), Auth: Auth{TokenExchange: f.ex.cfg}}, settings, discard(), breakers)
	ctx, cancel := context.WithCancel(context.Background())
	stopping := make(chan struct{})
	u.stopping = stopping
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		u.run(ctx, func(bool) {}, func(context.Context) {})
	}()
	var once sync.Once
	stop := func() { once.Do(func() { close(stopping); cancel(); <-ran }) }
	t.Cleanup(stop)
	eventually.NoError(t, 10*time.Second, func() error { _, err := u.current(); return err }, "the upstream connects")
	return &callerFixture{f: f, b: b, u: u, p: u.provider(), stop: stop}
}

var (
	bob   = &principal.Principal{Subject: "bob", Issuer: "https://idp", Method: principal.MethodOAuth}
	carol = &principal.Principal{Subject: "carol", Issuer: "https://idp", Method: principal.MethodOAuth}
)

// call calls whoami as p and returns the upstream session it ran in; progress asks
// for progress, which must come.
func (c *callerFixture) call(t *testing.T, p *principal.Principal, progress bool) (string, error) {
	t.Helper()
	ctx, _ := c.f.call(t, p, "docs")
	stream := &recordingStream{ctx: ctx}
	err := c.p.CallTool(&providerv1.CallToolRequest{Name: "whoami", Context: &mcpv1.RequestContext{ProgressRequested: progress}}, stream)
	if err != nil {
		return "", err
	}
	var text string
	var progressed []string
	for _, r := range stream.sent {
		switch {
		case r.GetProgress() != nil:
			progressed = append(progressed, r.GetProgress().GetMessage())
		case r.GetResult() != nil:
			var content []mcp.TextContent
			_ = json.Unmarshal(r.GetResult().GetContent(), &content)
			if len(content) == 1 {
				text = content[0].Text
			}
			if r.GetResult().GetIsError() {
				return "", fmt.Errorf("tool error: %s", text)
			}
		}
	}
	if progress && !slices.Equal(progressed, []string{"for " + p.Subject}) {
		return "", fmt.Errorf("progress %q, want one for %s", progressed, p.Subject)
	}
	session, ok := strings.CutPrefix(text, "sub="+p.Subject+" session=")
	if !ok || session == "" {
		return "", fmt.Errorf("as %s: %q", p.Subject, text)
	}
	return session, nil
}

func (c *callerFixture) mustCall(t *testing.T, p *principal.Principal) string {
	t.Helper()
	session, err := c.call(t, p, false)
	if err != nil {
		t.Fatal(err)
	}
	return session
}

// callers is how many callers' sessions are open or opening.
func (c *callerFixture) callers() int {
	c.u.mu.RLock()
	defer c.u.mu.RUnlock()
	if c.u.callers == nil {
		return 0
	}
	return c.u.callers.size()
}

// Each caller's calls go over a session of its own, opened with its token, the same
// for every call (eight concurrent first calls wait for one handshake); each call
// carries the caller's freshest token and gets its progress from its own session; the
// session's DELETE at the service's stop carries the caller's last token.
func TestCallerSessionPerCaller(t *testing.T) {
	c := newCallerFixture(t, nil)
	sessions := make([]string, 8)
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Go(func() {
			var err error
			if sessions[i], err = c.call(t, alice, true); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if got := slices.Compact(slices.Sorted(slices.Values(sessions))); len(got) != 1 {
		t.Fatalf("alice's concurrent calls ran in the sessions %v, want one", got)
	}
	aliceSession := sessions[0]
	bobSession := c.mustCall(t, bob)
	if bobSession == aliceSession {
		t.Fatal("bob's call ran in alice's session")
	}
	if again := c.mustCall(t, alice); again != aliceSession {
		t.Errorf("alice's next call ran in %s, want her session %s", again, aliceSession)
	}
	if n := len(c.b.of("initialize", "tok-alice-")); n != 1 {
		t.Errorf("alice's calls opened %d sessions, want 1", n)
	}
	var federation []seenRequest
	for _, r := range c.b.seen() {
		if r.method == "initialize" && r.token == "tok-federation" {
			federation = append(federation, r)
		}
	}
	if len(federation) != 1 || federation[0].session == aliceSession || federation[0].session == bobSession {
		t.Errorf("the federation's own sessions %v; want one, neither alice's nor bob's", federation)
	}
	// Alice's tokens: the call exchanges anew each time (they live 30 s), and each
	// tools/call carries the token exchanged for it.
	calls := c.b.of("tools/call", "tok-alice-")
	if len(calls) != 9 {
		t.Fatalf("the upstream saw %d tool calls of alice, want 9", len(calls))
	}
	last := calls[len(calls)-1].token
	c.b.mu.Lock()
	issued := c.b.issued["alice"]
	c.b.mu.Unlock()
	if want := fmt.Sprintf("tok-alice-%d", issued); last != want {
		t.Errorf("alice's last call carried %s, want the freshest token %s", last, want)
	}
	for _, r := range c.b.seen() {
		if r.method == "tools/call" && r.token == "tok-federation" {
			t.Errorf("a tool call went over the federation's session with its token")
		}
		if r.status >= 400 && r.method != http.MethodGet {
			t.Errorf("the upstream refused %s (%s) with %d", r.method, r.token, r.status)
		}
	}

	c.stop()
	if n := c.callers(); n != 0 {
		t.Errorf("%d callers' sessions left after the stop", n)
	}
	deletes := c.b.of(http.MethodDelete, "tok-alice-")
	if len(deletes) != 1 || deletes[0].session != aliceSession || deletes[0].token != last {
		t.Errorf("alice's DELETEs %v; want one of session %s with her last token %s", deletes, aliceSession, last)
	}
	if deletes := c.b.of(http.MethodDelete, "tok-bob-"); len(deletes) != 1 || deletes[0].session != bobSession {
		t.Errorf("bob's DELETEs %v; want one of session %s", deletes, bobSession)
	}
}

// A caller's session unused for the idle timeout is closed (DELETE); the caller's
// next call opens another.
func TestCallerSessionClosedWhenIdle(t *testing.T) {
	c := newCallerFixture(t, func(s *Config) { s.CallerSessions.IdleTimeout = 300 * time.Millisecond })
	first := c.mustCall(t, alice)
	eventually.NoError(t, 10*time.Second, func() error {
		if n := len(c.b.of(http.MethodDelete, "tok-alice-")); n != 1 {
			return fmt.Errorf("%d DELETEs of alice's session", n)
		}
		return nil
	}, "alice's idle session is closed")
	if n := c.callers(); n != 0 {
		t.Errorf("%d callers' sessions open after the idle close", n)
	}
	if d := c.b.of(http.MethodDelete, "tok-alice-")[0]; d.session != first || d.status != http.StatusNoContent {
		t.Errorf("DELETE %+v; want alice's session %s, answered 204", d, first)
	}
	if second := c.mustCall(t, alice); second == first {
		t.Errorf("alice's call after the idle close ran in the closed session %s", first)
	}
}

// A session the upstream forgot (it expired there) is refused (404); the call is made
// once more on a new session of the caller, and runs once.
func TestCallerSessionForgottenUpstreamIsReopened(t *testing.T) {
	c := newCallerFixture(t, nil)
	first := c.mustCall(t, alice)
	c.b.forget(first)
	second := c.mustCall(t, alice)
	if second == first {
		t.Fatalf("the call ran in the forgotten session %s", first)
	}
	calls := c.b.of("tools/call", "tok-alice-")
	if len(calls) != 3 || calls[1].status != http.StatusNotFound || calls[1].session != first || calls[2].session != second {
		t.Errorf("alice's tool calls %+v; want the first, one refused 404 on %s, and one on %s", calls, first, second)
	}
	if n := c.callers(); n != 1 {
		t.Errorf("%d callers' sessions open, want alice's new one", n)
	}
}

// Past the bound, the least recently used idle session is closed for a new caller.
func TestCallerSessionsBounded(t *testing.T) {
	c := newCallerFixture(t, func(s *Config) { s.CallerSessions.Max = 2 })
	aliceFirst := c.mustCall(t, alice)
	bobFirst := c.mustCall(t, bob)
	c.mustCall(t, alice) // bob's is now the least recently used
	c.mustCall(t, carol)
	if n := c.callers(); n != 2 {
		t.Errorf("%d callers' sessions open, want 2", n)
	}
	eventually.NoError(t, 10*time.Second, func() error {
		if d := c.b.of(http.MethodDelete, "tok-bob-"); len(d) != 1 || d[0].session != bobFirst {
			return fmt.Errorf("bob's DELETEs %v", d)
		}
		return nil
	}, "bob's session, the least recently used, is closed")
	if again := c.mustCall(t, alice); again != aliceFirst {
		t.Errorf("alice's session changed: %s, then %s", aliceFirst, again)
	}
	if c.mustCall(t, bob) == bobFirst {
		t.Error("bob's call ran in his closed session")
	}
	if d := c.b.of(http.MethodDelete, "tok-carol-"); len(d) != 1 {
		t.Errorf("carol's DELETEs %v; want her session closed for bob's", d)
	}
}

// When the upstream restarts, the federation reconnects and the callers' sessions of
// the old connection are gone; a caller's next call opens one on the new upstream.
func TestCallerSessionsAfterUpstreamRestart(t *testing.T) {
	c := newCallerFixture(t, func(s *Config) { s.PingInterval = 100 * time.Millisecond })
	first := c.mustCall(t, alice)
	shared, _ := c.u.current()
	c.b.restart(t)
	eventually.NoError(t, 15*time.Second, func() error {
		s, err := c.u.current()
		if err == nil && s == shared {
			err = errors.New("still the connection from before the restart")
		}
		return err
	}, "the federation reconnects")
	if n := c.callers(); n != 0 {
		t.Errorf("%d callers' sessions open on the new connection before any call", n)
	}
	var second string
	eventually.NoError(t, 10*time.Second, func() error {
		var err error
		second, err = c.call(t, alice, false)
		return err
	}, "alice's call after the restart")
	if second == first {
		t.Errorf("alice's call after the restart ran in the old session %s", first)
	}
}

// A caller whose session the upstream refuses gets a tool error that says why; the
// call is never made over the federation's session, and the refusals do not open the
// upstream's breaker for the other callers (the upstream is up).
func TestCallerSessionRefusedIsAToolError(t *testing.T) {
	c := newCallerFixture(t, nil)
	c.b.mu.Lock()
	c.b.forbid = "alice"
	c.b.mu.Unlock()
	for range DefaultConfig().Breaker.FailureThreshold + 1 {
		_, err := c.call(t, alice, false)
		if want := "tool error: tool whoami: upstream docs: the upstream refused a session of the caller (403 Forbidden)"; err == nil || err.Error() != want {
			t.Fatalf("%v; want %q", err, want)
		}
	}
	if calls := c.b.of("tools/call", ""); len(calls) != 0 {
		t.Errorf("the upstream saw the tool calls %v", calls)
	}
	if n := c.callers(); n != 0 {
		t.Errorf("%d callers' sessions kept after a refused handshake", n)
	}
	c.mustCall(t, bob)
}

// An upstream's log message reaches the one call in flight on the session it came on,
// whatever runs on other sessions: alice's call gets the message of her tool while
// bob's call runs on his session (one federation session would have two calls in
// flight, and forward the message to neither).
func TestCallerSessionLogsReachTheirCaller(t *testing.T) {
	c := newCallerFixture(t, nil)
	bobCtx, _ := c.f.call(t, bob, "docs")
	bobDone := make(chan error, 1)
	go func() {
		bobDone <- c.p.CallTool(&providerv1.CallToolRequest{Name: "wait", Context: &mcpv1.RequestContext{LogLevel: "debug"}}, &recordingStream{ctx: bobCtx})
	}()
	<-c.b.waiting
	aliceCtx, _ := c.f.call(t, alice, "docs")
	stream := &recordingStream{ctx: aliceCtx}
	if err := c.p.CallTool(&providerv1.CallToolRequest{Name: "whoami", Context: &mcpv1.RequestContext{LogLevel: "debug"}}, stream); err != nil {
		t.Fatal(err)
	}
	close(c.b.release)
	if err := <-bobDone; err != nil {
		t.Fatal(err)
	}
	var logs []string
	for _, r := range stream.sent {
		if l := r.GetLog(); l != nil {
			logs = append(logs, string(l.GetData()))
		}
	}
	if !slices.Equal(logs, []string{`"for alice"`}) {
		t.Errorf("alice's call got the log messages %q, want the one of her tool", logs)
	}
}
