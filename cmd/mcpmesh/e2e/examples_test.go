package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpmesh/mcpmesh/tools/mcptest"
)

// serverToClient are example requests that a 2026-07-28 server asks of a client (as
// inputRequests), never receives.
var serverToClient = []string{"CreateMessageRequest", "ElicitRequest", "ListRootsRequest"}

// TestOfficialExampleRequestsAreAccepted posts every official 2026-07-28 example
// request, with the headers that generation requires, and checks that the mesh's
// decoder and header checks accept it: the answer may be a domain error (the examples
// name tools and files the mesh does not have) but never a parse, request-shape or
// header error.
func TestOfficialExampleRequestsAreAccepted(t *testing.T) {
	dir := filepath.Join(mcptest.SpecDir(t), "schema", "2026-07-28", "examples")
	m := startAll(t)
	rec := recorder(t)
	c := rec.Client()
	files, err := filepath.Glob(filepath.Join(dir, "*Request", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example requests in %s: %v", dir, err)
	}
	checked := 0
	for _, f := range files {
		kind := filepath.Base(filepath.Dir(f))
		if slices.Contains(serverToClient, kind) {
			continue
		}
		t.Run(kind+"/"+filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var msg struct {
				Method string `json:"method"`
				Params struct {
					Name string `json:"name"`
					URI  string `json:"uri"`
				} `json:"params"`
			}
			if err := json.Unmarshal(body, &msg); err != nil {
				t.Fatal(err)
			}
			headers := map[string]string{"MCP-Protocol-Version": stateless, "Mcp-Method": msg.Method}
			switch msg.Method {
			case "tools/call", "prompts/get":
				headers["Mcp-Name"] = msg.Params.Name
			case "resources/read":
				headers["Mcp-Name"] = msg.Params.URI
			}
			resp := do(t, c, http.MethodPost, m.base+"/mcp", string(body), headers)
			status := resp.StatusCode
			if msg.Method == "subscriptions/listen" && status == http.StatusOK {
				// A subscription lasts until the client leaves: take the
				// acknowledgment, which must come first, then close the stream.
				ack := readSSE(resp).next(t, 10*time.Second)
				if !strings.Contains(ack.data, "notifications/subscriptions/acknowledged") {
					t.Errorf("first event of the subscription = %q, want the acknowledgment", ack.data)
				}
				_ = resp.Body.Close()
				checked++
				return
			}
			var out rpcResponse
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				if err := decodeJSON(resp, &out); err != nil {
					t.Fatal(err)
				}
			} else {
				_ = resp.Body.Close()
			}
			if out.Error != nil && slices.Contains([]int{-32700, -32600, -32020, -32022}, out.Error.Code) {
				t.Errorf("example rejected by the decoder or header checks: HTTP %d, %+v", status, out.Error)
			}
			if status == http.StatusBadRequest && (out.Error == nil || out.Error.Code != -32602) {
				t.Errorf("example answered 400: %+v", out.Error)
			}
			checked++
		})
	}
	if checked < 8 {
		t.Errorf("only %d example requests checked", checked)
	}
}
