package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// rawSession is a stateful session opened over raw HTTP.
type rawSession struct {
	base, id, version string
	client            *http.Client
}

func initialize(t *testing.T, c *http.Client, base, version string) rawSession {
	t.Helper()
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`, version)
	resp := do(t, c, http.MethodPost, base+"/mcp", body, map[string]string{})
	var out rpcResponse
	if err := decodeJSON(resp, &out); err != nil {
		t.Fatal(err)
	}
	id := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || id == "" || out.Error != nil {
		t.Fatalf("initialize: status %d, session %q, %+v", resp.StatusCode, id, out)
	}
	s := rawSession{base: base, id: id, version: version, client: c}
	resp = s.post(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, nil)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("notifications/initialized: status %d, want 202", resp.StatusCode)
	}
	return s
}

func (s rawSession) post(t *testing.T, body string, headers map[string]string) *http.Response {
	t.Helper()
	h := map[string]string{"Mcp-Session-Id": s.id, "MCP-Protocol-Version": s.version}
	for k, v := range headers {
		h[k] = v
	}
	return do(t, s.client, http.MethodPost, s.base+"/mcp", body, h)
}

// do sends a request with the default MCP headers, overridden (or removed, with "")
// by headers.
func do(t *testing.T, c *http.Client, method, url, body string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestStatelessRawHTTP speaks the 2026-07-28 generation byte by byte.
func TestStatelessRawHTTP(t *testing.T) {
	m := startAll(t)
	rec := recorder(t)
	c := rec.Client()

	t.Run("discover", func(t *testing.T) {
		var out rpcResponse
		if err := decodeJSON(must(t)(postStatelessWith(c, m.base, "server/discover", "", `{}`)), &out); err != nil {
			t.Fatal(err)
		}
		var res struct {
			ResultType        string   `json:"resultType"`
			SupportedVersions []string `json:"supportedVersions"`
			TTL               *int     `json:"ttlMs"`
			CacheScope        string   `json:"cacheScope"`
		}
		if err := json.Unmarshal(out.Result, &res); err != nil || res.ResultType != "complete" || !slices.Contains(res.SupportedVersions, stateless) || res.TTL == nil || res.CacheScope == "" {
			t.Errorf("discover result %s", out.Result)
		}
	})

	t.Run("tools/list and tools/call", func(t *testing.T) {
		var list rpcResponse
		if err := decodeJSON(must(t)(postStatelessWith(c, m.base, "tools/list", "", `{}`)), &list); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(list.Result), `"resultType":"complete"`) || !strings.Contains(string(list.Result), `"echo"`) {
			t.Errorf("tools/list result %s", list.Result)
		}
		var call rpcResponse
		if err := decodeJSON(must(t)(postStatelessWith(c, m.base, "tools/call", "echo", `{"name":"echo","arguments":{"message":"raw"}}`)), &call); err != nil {
			t.Fatal(err)
		}
		var res struct {
			ResultType string `json:"resultType"`
			Content    []struct{ Type, Text string }
		}
		if err := json.Unmarshal(call.Result, &res); err != nil || res.ResultType != "complete" || len(res.Content) == 0 || !strings.Contains(res.Content[0].Text, "raw") {
			t.Errorf("tools/call result %s", call.Result)
		}
	})

	t.Run("progress on the response stream", func(t *testing.T) {
		resp := must(t)(postStatelessWith(c, m.base, "tools/call", "slow", `{"name":"slow","arguments":{"duration_ms":200,"steps":2},"_meta":{"progressToken":7}}`))
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Errorf("content type %q, want an event stream when progress precedes the result", ct)
		}
		var out rpcResponse
		if err := decodeJSON(resp, &out); err != nil || out.Result == nil {
			t.Errorf("final message %+v %v", out, err)
		}
	})

	t.Run("header mismatch", func(t *testing.T) {
		body := statelessBody("tools/call", `{"name":"echo","arguments":{}}`)
		resp := do(t, c, http.MethodPost, m.base+"/mcp", body, map[string]string{"MCP-Protocol-Version": stateless, "Mcp-Method": "tools/call", "Mcp-Name": "add"})
		expectError(t, resp, http.StatusBadRequest, -32020)
	})

	t.Run("unsupported version lists the supported ones", func(t *testing.T) {
		body := strings.ReplaceAll(statelessBody("tools/list", `{}`), stateless, "2099-01-01")
		resp := do(t, c, http.MethodPost, m.base+"/mcp", body, map[string]string{"MCP-Protocol-Version": "2099-01-01", "Mcp-Method": "tools/list"})
		out := expectError(t, resp, http.StatusBadRequest, -32022)
		var data struct {
			Supported []string `json:"supported"`
			Requested string   `json:"requested"`
		}
		if err := json.Unmarshal(out.Error.Data, &data); err != nil || !slices.Contains(data.Supported, stateless) || data.Requested != "2099-01-01" {
			t.Errorf("error data %s", out.Error.Data)
		}
	})

	t.Run("subscriptions/listen", func(t *testing.T) {
		resp := must(t)(postStatelessWith(c, m.base, "subscriptions/listen", "",
			`{"notifications":{"toolsListChanged":true,"resourceSubscriptions":["`+watchedURI+`"]}}`))
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("listen answered %d %q, want an event stream", resp.StatusCode, ct)
		}
		stream := readSSE(resp)
		type note struct {
			Method string `json:"method"`
			Params struct {
				Meta struct {
					SubscriptionID json.RawMessage `json:"io.modelcontextprotocol/subscriptionId"`
				} `json:"_meta"`
				URI           string          `json:"uri"`
				Notifications json.RawMessage `json:"notifications"`
			} `json:"params"`
		}
		var ack note
		if err := json.Unmarshal([]byte(stream.next(t, 10*time.Second).data), &ack); err != nil ||
			ack.Method != "notifications/subscriptions/acknowledged" || len(ack.Params.Meta.SubscriptionID) == 0 ||
			!strings.Contains(string(ack.Params.Notifications), watchedURI) {
			t.Fatalf("first event %+v, %v; want the acknowledgment with a subscription id and the agreed filter", ack, err)
		}
		// Change the resource (through another request) until its update arrives.
		for attempt := 0; ; attempt++ {
			var out rpcResponse
			if err := decodeJSON(must(t)(postStatelessWith(c, m.base, "tools/call", "touch-resource", `{"name":"touch-resource","arguments":{}}`)), &out); err != nil || out.Error != nil {
				t.Fatalf("touch-resource: %+v %v", out, err)
			}
			var got note
			if err := json.Unmarshal([]byte(stream.next(t, 10*time.Second).data), &got); err != nil {
				t.Fatal(err)
			}
			if got.Method == "notifications/resources/updated" {
				if got.Params.URI != watchedURI || string(got.Params.Meta.SubscriptionID) != string(ack.Params.Meta.SubscriptionID) {
					t.Fatalf("update %+v, want %s with subscription id %s", got, watchedURI, ack.Params.Meta.SubscriptionID)
				}
				break
			}
			if attempt == 5 {
				t.Fatalf("no resources/updated after %d changes (last event %+v)", attempt+1, got)
			}
		}
	})

	t.Run("GET is not allowed", func(t *testing.T) {
		resp := do(t, c, http.MethodGet, m.base+"/mcp", "", map[string]string{"MCP-Protocol-Version": stateless, "Accept": "text/event-stream"})
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET status %d, want 405", resp.StatusCode)
		}
	})
}

// must fails the test on a transport error and returns the response.
func must(t *testing.T) func(*http.Response, error) *http.Response {
	return func(resp *http.Response, err error) *http.Response {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
}

// expectError checks the status and JSON-RPC error code of a response.
func expectError(t *testing.T, resp *http.Response, status, code int) rpcResponse {
	t.Helper()
	var out rpcResponse
	gotStatus := resp.StatusCode
	if err := decodeJSON(resp, &out); err != nil {
		t.Fatalf("status %d: %v", gotStatus, err)
	}
	if gotStatus != status {
		t.Errorf("status %d, want %d (body %+v)", gotStatus, status, out.Error)
	}
	if out.Error == nil || out.Error.Code != code {
		t.Fatalf("error %+v, want code %d", out.Error, code)
	}
	if out.Error.Message == "" {
		t.Error("error without a message")
	}
	return out
}
