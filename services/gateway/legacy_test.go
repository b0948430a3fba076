package gateway_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestLegacyRoutesGoThroughTheTransport: GET /sse names the connection the transport
// opened in its endpoint event; a POST for it is accepted (202) and its body reaches
// the transport's LegacyPost; a POST for a connection the transport does not know is
// a plain-text 404 telling the client to open GET /sse again. The gateway keeps no
// table of connections: only the transport's answer decides.
func TestLegacyRoutesGoThroughTheTransport(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sse, err := http.NewRequestWithContext(ctx, http.MethodGet, h.server.URL+"/sse", nil)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := h.client.Do(sse)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if ct := stream.Header.Get("Content-Type"); stream.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("GET /sse: %d %q", stream.StatusCode, ct)
	}
	lines := bufio.NewScanner(stream.Body)
	var event, endpoint string
	for endpoint == "" && lines.Scan() {
		if name, ok := strings.CutPrefix(lines.Text(), "event: "); ok {
			event = name
		}
		if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
			endpoint = data
		}
	}
	if event != "endpoint" || endpoint != "/messages?sessionId=legacy-1" {
		t.Fatalf("first event %q %q, want endpoint /messages?sessionId=legacy-1", event, endpoint)
	}

	const ping = `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	resp, body := h.do(h.request(http.MethodPost, endpoint, ping, mcpHeaders(nil)))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST %s: %d %q, want 202", endpoint, resp.StatusCode, body)
	}
	if got := string(h.transport.body()); got != ping {
		t.Fatalf("the transport got %q, want the POSTed message", got)
	}
	resp, body = h.do(h.request(http.MethodPost, "/messages?sessionId=elsewhere", ping, mcpHeaders(nil)))
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
		!strings.Contains(string(body), "open GET /sse again") {
		t.Fatalf("POST for an unknown connection: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = h.do(h.request(http.MethodPost, "/messages", ping, mcpHeaders(nil)))
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("POST without sessionId: %d %q, want 404", resp.StatusCode, body)
	}
}
