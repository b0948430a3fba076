package mesh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/cmd/mcpmesh/internal/meshconfig"
	"github.com/mcpmesh/mcpmesh/services/federation"
)

// A 2026-07-28 upstream's multi round-trip through two mesh replicas, each running
// the federation: the client's retry may reach either.

// sharedRequestStateKey is the session.request_state_key both replicas sign with.
const sharedRequestStateKey = "replicas-share-this-request-state-key"

// stoppableMesh runs an in-process mesh of cfg and returns its base URL and a stop
// that ends it (the test's end does too).
func stoppableMesh(t *testing.T, cfg meshconfig.Config) (string, func()) {
	t.Helper()
	m, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	t.Cleanup(stop)
	_, httpAddr := m.Addresses()
	base := "http://" + httpAddr
	waitReady(t, base)
	return base, stop
}

// replicaRouter is a load balancer in front of two replicas, as an HTTP client
// transport: a request that carries a requestState (a 2026-07-28 retry) goes to the
// host retryHost picks for it; any other request to first.
type replicaRouter struct {
	first     string
	retryHost func(n int) string // host of the n-th retry, from 1

	mu      sync.Mutex
	retries map[string]int // retries sent, by host
}

func (r *replicaRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	host := r.first
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(body)
		_ = body.Close()
		if err != nil {
			return nil, err
		}
		if bytes.Contains(b, []byte(`"requestState"`)) {
			r.mu.Lock()
			n := 1
			for _, c := range r.retries {
				n += c
			}
			host = r.retryHost(n)
			r.retries[host]++
			r.mu.Unlock()
		}
	}
	req = req.Clone(req.Context())
	req.URL.Host, req.Host = host, host
	return http.DefaultTransport.RoundTrip(req)
}

// served is how many retries went to host.
func (r *replicaRouter) served(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.retries[host]
}

func hostOf(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// newNaggingUpstream is newAskingUpstream with the tool nag, which asks for a
// confirmation on every call (its requestState counts the rounds).
func newNaggingUpstream(name string) *mcp.Server {
	s := newAskingUpstream(name)
	mcp.AddTool(s, &mcp.Tool{Name: "nag", Description: "Asks again, and again."},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{
				InputRequests: mcp.InputRequestMap{"again": &mcp.ElicitParams{Message: "Go on?",
					RequestedSchema: map[string]any{"type": "object", "properties": map[string]any{}}}},
				RequestState: req.Params.RequestState + "+",
			}, nil, nil
		})
	return s
}

// twoReplicas starts two meshes that federate the same 2026-07-28 upstream (prefix
// sl) and share the request state key.
func twoReplicas(t *testing.T) (first, second string, stopFirst func()) {
	t.Helper()
	upstream := newNaggingUpstream("stateless")
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return upstream },
		&mcp.StreamableHTTPOptions{Stateless: true}))
	t.Cleanup(srv.Close)
	replica := func() (string, func()) {
		cfg := federatedConfig(t, federation.Upstream{Name: "stateless", URL: srv.URL, Prefix: "sl"})
		cfg.Session.RequestStateKey = sharedRequestStateKey
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		return stoppableMesh(t, cfg)
	}
	first, stopFirst = replica()
	second, _ = replica()
	for _, base := range []string{first, second} {
		waitForTools(t, meshSession(t, base, nil), "sl__confirm", "sl__nag", "sl__sample")
	}
	return first, second, stopFirst
}

// routedClient connects a 2026-07-28 Go SDK client, which answers elicitations with
// onElicit, to the mesh through router.
func routedClient(t *testing.T, base string, router *replicaRouter, onElicit func(*mcp.ElicitRequest) (*mcp.ElicitResult, error)) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "replica-test", Version: "1.0.0"}, &mcp.ClientOptions{
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) { return onElicit(req) },
	})
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", MaxRetries: -1,
		HTTPClient: &http.Client{Transport: router}}, &mcp.ClientSessionOptions{ProtocolVersion: "2026-07-28"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// A 2026-07-28 client's retries reach the replica the load balancer picks, not the one
// that asked: a tool's and a prompt's retry go to the second replica while the first
// is stopped between the question and the answer; a tool that keeps asking gets
// federation.maxInputRounds (8) rounds, its retries alternating between the replicas,
// and then an error that says so.
func TestFederationRetryReachesAnotherReplica(t *testing.T) {
	first, second, stopFirst := twoReplicas(t)
	firstHost, secondHost := hostOf(t, first), hostOf(t, second)

	t.Run("rounds across replicas", func(t *testing.T) {
		router := &replicaRouter{first: firstHost, retries: map[string]int{}, retryHost: func(n int) string {
			return []string{firstHost, secondHost}[n%2]
		}}
		asked := 0
		cs := routedClient(t, first, router, func(*mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			asked++
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{}}, nil
		})
		_, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "sl__nag", Arguments: map[string]any{}})
		var rpcErr *jsonrpc.Error
		if !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc.CodeInvalidParams ||
			!strings.Contains(rpcErr.Message, "upstream stateless asked for client input 8 times; giving up") {
			t.Errorf("sl__nag: %v; want the federation to give up after 8 rounds", err)
		}
		if asked != 8 || router.served(firstHost) != 4 || router.served(secondHost) != 4 {
			t.Errorf("asked %d times, retries served by the first %d, by the second %d; want 8, 4 and 4",
				asked, router.served(firstHost), router.served(secondHost))
		}
	})

	t.Run("the asking replica stopped", func(t *testing.T) {
		router := &replicaRouter{first: firstHost, retries: map[string]int{}, retryHost: func(int) string { return secondHost }}
		var asked []string
		cs := routedClient(t, first, router, func(req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			asked = append(asked, req.Params.Message)
			if strings.HasPrefix(req.Params.Message, "really") {
				stopFirst() // the replica that asked is gone before the answer
			}
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"sure": true, "context": "from the client"}}, nil
		})
		res, err := cs.GetPrompt(t.Context(), &mcp.GetPromptParams{Name: "sl__brief"})
		if err != nil {
			t.Fatalf("sl__brief: %v", err)
		}
		if text, ok := promptText(res); !ok || text != "stateless was told: from the client" {
			t.Errorf("sl__brief: %+v", res.Messages)
		}
		got, err := callText(t.Context(), cs, "sl__confirm", questionArgs{Question: "really?"})
		if want := "stateless heard accept true"; err != nil || got != want {
			t.Errorf("sl__confirm: %q, %v; want %q", got, err, want)
		}
		if want := []string{"Context for stateless?", "really?"}; fmt.Sprint(asked) != fmt.Sprint(want) || router.served(secondHost) != 2 {
			t.Errorf("asked %q, %d retries on the second replica; want %q and 2", asked, router.served(secondHost), want)
		}
	})
}

// mcpPost sends one 2026-07-28 request to a mesh's /mcp as clientName (with the
// elicitation capability) and returns its result or its error.
func mcpPost(t *testing.T, base, method, name, params, clientName string) (map[string]json.RawMessage, *jsonrpc.Error) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"` + method + `","params":{"name":"` + name + `",` + params +
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"` + clientName + `","version":"1"},` +
		`"io.modelcontextprotocol/clientCapabilities":{"elicitation":{}}}}}`
	resp, raw := post(t, base+"/mcp", body, map[string]string{"Accept": "application/json, text/event-stream",
		"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method, "Mcp-Name": name})
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		for line := range strings.Lines(string(raw)) {
			if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok && strings.Contains(data, `"id"`) {
				raw = []byte(data)
			}
		}
	}
	var out struct {
		Result map[string]json.RawMessage `json:"result"`
		Error  *jsonrpc.Error             `json:"error"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || (out.Result == nil) == (out.Error == nil) {
		t.Fatalf("%s %s: HTTP %d %s (%v)", method, name, resp.StatusCode, raw, err)
	}
	return out.Result, out.Error
}

// A retry on the other replica with a state that was altered, issued for another tool
// or issued to another client is refused with -32602 saying which; the genuine retry
// is served there.
func TestFederationRetryOnAnotherReplicaRefusesForeignStates(t *testing.T) {
	first, second, _ := twoReplicas(t)
	res, rpcErr := mcpPost(t, first, "tools/call", "sl__confirm", `"arguments":{"question":"sure?"},`, "replica-test")
	var state string
	if rpcErr != nil || string(res["resultType"]) != `"input_required"` || json.Unmarshal(res["requestState"], &state) != nil || state == "" {
		t.Fatalf("want input_required with a requestState, got %v %v", res, rpcErr)
	}
	retry := func(tool, token, client string) (map[string]json.RawMessage, *jsonrpc.Error) {
		t.Helper()
		params := fmt.Sprintf(`"arguments":{"question":"sure?"},"inputResponses":{"ok":{"action":"accept","content":{"sure":true}}},"requestState":%q,`, token)
		return mcpPost(t, second, "tools/call", tool, params, client)
	}
	altered := []byte(state)
	altered[len(altered)/2] ^= 1
	for _, tc := range []struct {
		name, tool, token, client, why string
	}{
		{"altered", "sl__confirm", string(altered), "replica-test", "requestState is not valid"},
		{"another tool", "sl__sample", state, "replica-test", "requestState was issued for another request"},
		{"another client", "sl__confirm", state, "someone-else", "requestState was issued to another client"},
	} {
		if _, rpcErr := retry(tc.tool, tc.token, tc.client); rpcErr == nil || rpcErr.Code != jsonrpc.CodeInvalidParams || !strings.Contains(rpcErr.Message, tc.why) {
			t.Errorf("%s: %v; want -32602 saying %q", tc.name, rpcErr, tc.why)
		}
	}
	res, rpcErr = retry("sl__confirm", state, "replica-test")
	var content []mcp.TextContent
	if rpcErr != nil || json.Unmarshal(res["content"], &content) != nil || len(content) != 1 || content[0].Text != "stateless heard accept true" {
		t.Errorf("the genuine retry on the other replica: %v %v", res, rpcErr)
	}
}
