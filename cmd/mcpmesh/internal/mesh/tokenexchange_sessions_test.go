package mesh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/testop"
	"github.com/mcpmesh/mcpmesh/services/federation"
)

// userBoundUpstream is a 2025-11-25 MCP server over Streamable HTTP that binds each
// session to the user who opened it, as the Go SDK does when its token verifier sets
// TokenInfo.UserID: a request of another user on the session is refused (403
// "session user mismatch"). It records every HTTP request it accepted.
type userBoundUpstream struct {
	idp      *testop.Provider
	audience string

	mu       sync.Mutex
	requests []boundRequest
	refused  []string // each refused request, with its status
}

type boundRequest struct {
	method  string // the JSON-RPC method of a POST; GET or DELETE otherwise
	session string // Mcp-Session-Id (the one assigned, for initialize)
	subject string
	token   string
}

func (u *userBoundUpstream) serve(t *testing.T) string {
	s := mcp.NewServer(&mcp.Implementation{Name: u.audience, Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami", Description: "Names the user and the session of the call."},
		func(_ context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			text := fmt.Sprintf("sub=%s session=%s", req.Extra.TokenInfo.UserID, req.Session.ID())
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
		})
	closeSessionsAtEnd(t, s)
	verify := func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		c, err := u.idp.VerifyAccessToken(token, u.audience)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", auth.ErrInvalidToken, err)
		}
		return &auth.TokenInfo{UserID: c.Subject, Expiration: c.Expiry.Time()}, nil
	}
	mcpHandler := auth.RequireBearerToken(verify, nil)(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Recorded before it is served: the client may see the answer before the
		// handler returns.
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		seen := boundRequest{method: r.Method, session: r.Header.Get("Mcp-Session-Id"), token: token}
		if r.Method == http.MethodPost {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var msg struct {
				Method string `json:"method"`
			}
			_ = json.Unmarshal(body, &msg)
			seen.method = msg.Method
		}
		if c, err := u.idp.VerifyAccessToken(token, u.audience); err == nil {
			seen.subject = c.Subject
		}
		u.mu.Lock()
		i := len(u.requests)
		u.requests = append(u.requests, seen)
		u.mu.Unlock()
		rec := &statusRecorder{ResponseWriter: w}
		mcpHandler.ServeHTTP(rec, r)
		u.mu.Lock()
		defer u.mu.Unlock()
		if rec.status() >= 400 {
			u.refused = append(u.refused, fmt.Sprintf("%s %s: %d", seen.method, seen.subject, rec.status()))
		}
		if seen.method == "initialize" {
			u.requests[i].session = rec.Header().Get("Mcp-Session-Id")
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (u *userBoundUpstream) seen() ([]boundRequest, []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.requests), slices.Clone(u.refused)
}

// statusRecorder keeps the status of a response, and flushes as the writer does.
type statusRecorder struct {
	http.ResponseWriter
	mu   sync.Mutex
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.mu.Lock()
	if r.code == 0 {
		r.code = code
	}
	r.mu.Unlock()
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	if r.code == 0 {
		r.code = http.StatusOK
	}
	r.mu.Unlock()
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) status() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.code
}

// Two users call a tool of a token_exchange upstream that binds its sessions to users
// (2025-11-25): both succeed, each user's calls land under a session of that user's
// own, the same for all of them, and not the federation's; six concurrent first calls
// of one user open one session; the upstream refuses nothing, never sees the clients'
// own tokens, and every request on a user's session carries that user's token.
func TestFederationTokenExchangeOneSessionPerCaller(t *testing.T) {
	var upstream *userBoundUpstream
	tx := startTokenExchangeMesh(t, func(idp *testop.Provider, exchange func(audience string) federation.TokenExchange) []federation.Upstream {
		upstream = &userBoundUpstream{idp: idp, audience: "docs"}
		return []federation.Upstream{{Name: "docs", URL: upstream.serve(t), Prefix: "docs", Auth: federation.Auth{TokenExchange: exchange("docs")}}}
	})
	idp, logs, userA, userB, alice, bob := tx.idp, tx.logs, tx.userA, tx.userB, tx.alice, tx.bob
	waitForTools(t, alice, "docs__whoami")
	sessionsOf := map[string][]string{} // by subject, of each call
	var mu sync.Mutex
	call := func(cs *mcp.ClientSession, subject string) error {
		got, err := callText(t.Context(), cs, "docs__whoami", map[string]any{})
		if err != nil {
			return err
		}
		session, ok := strings.CutPrefix(got, "sub="+subject+" session=")
		if !ok || session == "" {
			return fmt.Errorf("as %s: %q", subject, got)
		}
		mu.Lock()
		sessionsOf[subject] = append(sessionsOf[subject], session)
		mu.Unlock()
		return nil
	}
	for _, step := range []struct {
		cs      *mcp.ClientSession
		subject string
	}{{alice, testop.UserSubject}, {alice, testop.UserSubject}} {
		if err := call(step.cs, step.subject); err != nil {
			t.Fatal(err)
		}
	}
	// Bob's first calls, at once: they wait for one handshake.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() { errs[i] = call(bob, testop.SecondUserSubject) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := call(alice, testop.UserSubject); err != nil {
		t.Fatal(err)
	}
	if err := call(bob, testop.SecondUserSubject); err != nil {
		t.Fatal(err)
	}

	aliceSessions, bobSessions := slices.Compact(slices.Sorted(slices.Values(sessionsOf[testop.UserSubject]))),
		slices.Compact(slices.Sorted(slices.Values(sessionsOf[testop.SecondUserSubject])))
	if len(sessionsOf[testop.UserSubject]) != 3 || len(aliceSessions) != 1 || len(sessionsOf[testop.SecondUserSubject]) != 7 || len(bobSessions) != 1 {
		t.Fatalf("the calls landed in the sessions %v (alice) and %v (bob); want 3 calls in one session and 7 in another", sessionsOf[testop.UserSubject], sessionsOf[testop.SecondUserSubject])
	}
	if aliceSessions[0] == bobSessions[0] {
		t.Fatalf("alice and bob share the session %s", aliceSessions[0])
	}

	requests, refused := upstream.seen()
	if len(refused) > 0 {
		t.Errorf("the upstream refused requests with %v", refused)
	}
	owners := map[string]string{} // session: the subject of its initialize
	initializes := map[string]int{}
	for _, r := range requests {
		if r.method == "initialize" {
			owners[r.session] = r.subject
			initializes[r.subject]++
		}
	}
	if owners[aliceSessions[0]] != testop.UserSubject || owners[bobSessions[0]] != testop.SecondUserSubject {
		t.Errorf("the sessions were opened by %q (alice's) and %q (bob's)", owners[aliceSessions[0]], owners[bobSessions[0]])
	}
	if initializes[testop.UserSubject] != 1 || initializes[testop.SecondUserSubject] != 1 || initializes[testop.FederationClientID] != 1 {
		t.Errorf("initialize requests by subject: %v; want one each of alice, bob (six concurrent first calls) and the federation", initializes)
	}
	for _, r := range requests {
		if r.token == userA || r.token == userB {
			t.Errorf("the upstream received a client's own token (%s on session %s)", r.method, r.session)
		}
		if want, ok := owners[r.session]; ok && r.subject != want {
			t.Errorf("%s on the session of %s carried a token of %q", r.method, want, r.subject)
		}
		if r.method == "tools/call" && r.subject == testop.FederationClientID {
			t.Errorf("a tool call went over the federation's own session %s", r.session)
		}
	}
	if got := idp.Exchanges(); got[testop.UserSubject] != 1 || got[testop.SecondUserSubject] != 1 {
		t.Errorf("token exchanges by subject: %v, want one each", got)
	}
	log := logs.String()
	for name, secret := range map[string]string{"user A's token": userA, "user B's token": userB, "the client secret": testop.FederationClientSecret} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %s", name)
		}
	}
	for _, r := range requests {
		if r.token != "" && strings.Contains(log, r.token) {
			t.Errorf("the log holds the token of a request by %s", r.subject)
		}
	}
}
