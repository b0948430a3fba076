package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"

	"github.com/mcpmesh/mcpmesh/services/transport/internal/sessiontest"
)

// FuzzExchange sends random bodies and header values through the real server and the
// test session service: the server must never fail the RPC, must send a head first,
// and every message must be JSON.
func FuzzExchange(f *testing.F) {
	seeds := []struct {
		body, session, version, method, name string
		flags                                uint8
	}{
		{initBody, "", "", "", "", 3},
		{rpc("1", "tools/call", `{"name":"x"}`), known, v25, "", "", 3},
		{rpc("1", sessiontest.MethodSlow, ""), known, v25, "", "", 3},
		{rpc("1", sessiontest.MethodSlow, params0), "", v26, sessiontest.MethodSlow, "", 2},
		{rpc("1", "tools/call", metaParams(`"name":"échø"`)), "", v26, "tools/call", "=?base64?w6ljaMO4?=", 1},
		{rpc("1", "tools/list", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"1900-01-01"}}`), "", "1900-01-01", "tools/list", "", 3},
		{rpc("", "notifications/initialized", ""), known, "", "", "", 0},
		{`{"jsonrpc":"2.0","id":"s","result":{}}`, known, v25, "", "", 3},
		{`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, "", "", "", "", 3},
		{`[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","method":"n"},1,[]]`, sessiontest.KnownSession20250326, "", "", "", 3},
		{`[]`, sessiontest.KnownSession20250326, "2025-03-26", "", "", 2},
		{`{"jsonrpc":"2.0","id":1,`, "", "", "", "", 3},
		{rpc("2", sessiontest.MethodNotifyThenFail, ""), known, v25, "", "", 2},
		{rpc("2", sessiontest.MethodInternal, ""), known, v25, "", "", 1},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.session, s.version, s.method, s.name, s.flags)
	}
	h := newHarness(f, harnessOptions{retryMS: 10, handleTimeout: 200 * time.Millisecond})
	f.Fuzz(func(t *testing.T, body []byte, session, version, method, name string, flags uint8) {
		md := &transportv1.RequestMetadata{
			SessionId:          session,
			ProtocolVersion:    version,
			McpMethod:          method,
			McpName:            name,
			AcceptsJson:        flags&1 != 0,
			AcceptsEventStream: flags&2 != 0,
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// Header values with invalid UTF-8 cannot travel in proto3 strings: the call
		// fails in the client, before the server (the gateway must validate header
		// bytes). Everything else must produce an answer.
		if !validUTF8(session, version, method, name) {
			return
		}
		stream, err := h.client.Exchange(ctx, &transportv1.ExchangeRequest{Metadata: md, Body: body})
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		a, err := collect(t, stream.Recv)
		if err != nil {
			t.Fatalf("Exchange stream failed: %v", err)
		}
		checkFraming(t, a)
		for _, m := range a.msgs {
			if isPriming(m) {
				continue // checkFraming allows it only first on an event stream
			}
			var v map[string]json.RawMessage
			if err := json.Unmarshal(m.GetData(), &v); err == nil {
				continue
			}
			// The answer to a batch: an array of response objects.
			var batch []map[string]json.RawMessage
			if err := json.Unmarshal(m.GetData(), &batch); err != nil || len(batch) == 0 {
				t.Fatalf("message %q is neither a JSON object nor a batch answer: %v", m.GetData(), err)
			}
		}
	})
}
