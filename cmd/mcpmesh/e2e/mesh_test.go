package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The protocol versions a real client may speak to the mesh; "" is the SDK's default,
// the stateless 2026-07-28 generation.
var sdkVersions = []string{"", "2025-11-25", "2025-06-18", "2025-03-26"}

func TestAllInOneProcess(t *testing.T) {
	m := startAll(t)
	rec := recorder(t)
	for _, v := range sdkVersions {
		t.Run("version="+v, func(t *testing.T) { runSDKScenario(t, m.base, v, rec) })
	}
}

func TestSixProcesses(t *testing.T) {
	m := startSix(t)
	rec := recorder(t)
	for _, v := range sdkVersions {
		t.Run("version="+v, func(t *testing.T) { runSDKScenario(t, m.base, v, rec) })
	}

	t.Run("provider down gives an error naming the tool", func(t *testing.T) {
		m.processes["provider"].Kill()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		resp, err := postStatelessWith(rec.Client(), m.base, "tools/call", "echo", `{"name":"echo","arguments":{"message":"x"}}`)
		if err != nil {
			t.Fatal(err)
		}
		var out rpcResponse
		if err := decodeJSON(resp, &out); err != nil {
			t.Fatal(err)
		}
		if out.Error == nil || !strings.Contains(out.Error.Message, "echo") {
			t.Fatalf("want a JSON-RPC error naming the tool, got %+v (after %s)", out, time.Since(start))
		}
		if ctx.Err() != nil {
			t.Fatal("the call hung")
		}
		// The mesh itself keeps working.
		resp, err = postStatelessWith(rec.Client(), m.base, "tools/list", "", `{}`)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("tools/list after provider loss: %v %v", resp, err)
		}
		_ = resp.Body.Close()
	})
}
