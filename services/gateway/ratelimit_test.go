package gateway_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpmesh/mcpmesh/services/gateway"
)

func TestRateLimit(t *testing.T) {
	// One token per hour and a burst of 2: the third request of the test is rejected
	// whatever the machine's speed.
	const perSecond = 1.0 / 3600
	h := newHarness(t, harnessOptions{inProcess: true, configure: func(c *gateway.Config) {
		c.RateLimit.RequestsPerSecond = perSecond
		c.RateLimit.Burst = 2
	}})
	h.t = t
	restHeaders := map[string]string{"Content-Type": "application/json"}
	for i, path := range []string{"/mcp", "/v1/tools/echo:call"} {
		headers := mcpHeaders(nil)
		if i == 1 {
			headers = restHeaders
		}
		body := rpc("json")
		if i == 1 {
			body = `{}`
		}
		if resp, b := h.do(h.request(http.MethodPost, path, body, headers)); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i, resp.StatusCode, b)
		}
	}

	t.Run("mcp", func(t *testing.T) {
		resp, body := h.do(h.request(http.MethodPost, "/mcp", rpc("json"), mcpHeaders(nil)))
		checkRejected(t, resp)
		var msg struct {
			JSONRPC string `json:"jsonrpc"`
			Error   struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &msg); err != nil || msg.JSONRPC != "2.0" || msg.Error.Code != -32000 ||
			!strings.Contains(msg.Error.Message, "retry after") || !strings.Contains(msg.Error.Message, "requests per second") {
			t.Fatalf("body %s (%v): want a JSON-RPC error -32000 that says when to retry", body, err)
		}
	})
	t.Run("rest", func(t *testing.T) {
		resp, body := h.do(h.request(http.MethodGet, "/v1/tools", "", nil))
		checkRejected(t, resp)
		var st struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &st); err != nil || st.Code != 8 || !strings.Contains(st.Message, "retry after") {
			t.Fatalf("body %s (%v): want grpc-gateway's error body with RESOURCE_EXHAUSTED (8)", body, err)
		}
	})
	t.Run("probes and metrics are not limited", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz", "/openapi.json"} {
			if resp, _ := h.do(h.request(http.MethodGet, path, "", nil)); resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %d", path, resp.StatusCode)
			}
		}
		limited := map[string]float64{}
		for _, m := range scrapeMetrics(t, h)["mcpmesh_gateway_rate_limited_total"].GetMetric() {
			limited[labels(m)] = m.GetCounter().GetValue()
		}
		if limited["route=mcp"] != 1 || limited["route=rest"] != 1 {
			t.Fatalf("mcpmesh_gateway_rate_limited_total %v, want one rejection per route", limited)
		}
		counted := requestCounts(scrapeMetrics(t, h))
		if counted["429 POST /mcp"] != 1 {
			t.Fatalf("requests %v: the rejection must be counted under its route", counted)
		}
	})
}

func checkRejected(t *testing.T, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", resp.StatusCode)
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	// A token per hour: the next one is at most an hour away.
	if err != nil || secs < 1 || secs > 3600 {
		t.Fatalf("Retry-After %q, want whole seconds from 1 to 3600", resp.Header.Get("Retry-After"))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
}
