package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpmesh/mcpmesh/tools/mcptest"
)

// TestBatch2025_03_26 sends JSON-RPC batches over raw HTTP: a 2025-03-26 session gets
// one JSON array with a response per request, in request order, valid against that
// version's JSONRPCBatchResponse; a batch of notifications gets 202; a session of a
// later version gets -32600.
func TestBatch2025_03_26(t *testing.T) {
	m := startAll(t)
	rec := recorder(t)
	// The recorder checks single messages; the batch answers are checked below, element
	// by element and as a whole, so they go through a plain client.
	plain := &http.Client{}
	s := initialize(t, rec.Client(), m.base, "2025-03-26")
	// 2025-03-26 predates MCP-Protocol-Version: its clients send none.
	headers := map[string]string{"Mcp-Session-Id": s.id, "MCP-Protocol-Version": ""}

	t.Run("requests and a notification", func(t *testing.T) {
		body := `[` +
			`{"jsonrpc":"2.0","id":11,"method":"tools/list"},` +
			`{"jsonrpc":"2.0","method":"notifications/roots/list_changed"},` +
			`{"jsonrpc":"2.0","id":"two","method":"tools/call","params":{"name":"echo","arguments":{"message":"batched"}}},` +
			`{"jsonrpc":"2.0","id":13,"method":"ping"}]`
		resp := do(t, plain, http.MethodPost, m.base+"/mcp", body, headers)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("status %d, content type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			t.Fatalf("answer is not a JSON array: %v: %s", err, raw)
		}
		wantIDs := []string{`11`, `"two"`, `13`}
		if len(elems) != len(wantIDs) {
			t.Fatalf("%d responses, want %d: %s", len(elems), len(wantIDs), raw)
		}
		for i, e := range elems {
			var r rpcResponse
			if err := json.Unmarshal(e, &r); err != nil || string(r.ID) != wantIDs[i] || r.Error != nil || r.Result == nil {
				t.Errorf("response %d = %s, want a result for id %s", i, e, wantIDs[i])
			}
			// Envelope check; ids the recorder never saw, so it does not take them
			// for the initialize request's id 1.
			rec.Check(e, "2025-03-26")
		}
		if !strings.Contains(string(elems[0]), `"echo"`) || !strings.Contains(string(elems[1]), "batched") {
			t.Errorf("tools/list or tools/call answered wrongly: %s", raw)
		}
		validateBatchResponse(t, raw)
	})

	t.Run("only notifications", func(t *testing.T) {
		body := `[{"jsonrpc":"2.0","method":"notifications/roots/list_changed"},{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}]`
		resp := do(t, plain, http.MethodPost, m.base+"/mcp", body, headers)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d, want 202", resp.StatusCode)
		}
	})

	t.Run("empty batch", func(t *testing.T) {
		expectError(t, do(t, plain, http.MethodPost, m.base+"/mcp", `[]`, headers), http.StatusBadRequest, -32600)
	})

	t.Run("initialize in a batch", func(t *testing.T) {
		body := `[{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}]`
		out := expectError(t, do(t, plain, http.MethodPost, m.base+"/mcp", body, map[string]string{}), http.StatusBadRequest, -32600)
		if !strings.Contains(out.Error.Message, "initialize") {
			t.Errorf("message %q does not name initialize", out.Error.Message)
		}
	})

	t.Run("later versions have no batches", func(t *testing.T) {
		later := initialize(t, rec.Client(), m.base, "2025-11-25")
		resp := do(t, plain, http.MethodPost, m.base+"/mcp", `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`,
			map[string]string{"Mcp-Session-Id": later.id, "MCP-Protocol-Version": later.version})
		out := expectError(t, resp, http.StatusBadRequest, -32600)
		if !strings.Contains(out.Error.Message, "2025-03-26") {
			t.Errorf("message %q does not say batches are 2025-03-26 only", out.Error.Message)
		}
	})
}

// validateBatchResponse checks a batch answer against the 2025-03-26 schema's
// JSONRPCBatchResponse.
func validateBatchResponse(t *testing.T, raw []byte) {
	t.Helper()
	sch, err := mcptest.NewSchemas(mcptest.SpecDir(t)).Definition("2025-03-26", "JSONRPCBatchResponse")
	if err != nil || sch == nil {
		t.Fatalf("JSONRPCBatchResponse of 2025-03-26: %v (found %v)", err, sch != nil)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("batch answer does not satisfy JSONRPCBatchResponse: %v\n%s", err, raw)
	}
}
