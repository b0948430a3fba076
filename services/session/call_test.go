package session

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
)

// TestCallToolStatuses: the unary CallTool answers what Handle answers for the same
// tools/call, with the JSON-RPC error's message turned into a status whose code says
// what kind of failure it is, and the mesh's ErrorInfo carrying the JSON-RPC code.
func TestCallToolStatuses(t *testing.T) {
	h := newHarness(t, true, nil)
	tests := []struct {
		name     string
		req      *sessionv1.CallToolRequest
		code     codes.Code
		rpcCode  string
		message  string
		isResult bool
	}{
		{name: "result", req: &sessionv1.CallToolRequest{Name: "echo", Arguments: []byte(`{"x":1}`)}, isResult: true},
		{name: "no arguments", req: &sessionv1.CallToolRequest{Name: "echo"}, isResult: true},
		{name: "unknown tool", req: &sessionv1.CallToolRequest{Name: "nope"}, code: codes.NotFound, rpcCode: "-32602", message: "Unknown tool: nope"},
		{name: "arguments not an object", req: &sessionv1.CallToolRequest{Name: "echo", Arguments: []byte(`[1]`)},
			code: codes.InvalidArgument, rpcCode: "-32602", message: "tools/call: params.arguments must be a JSON object"},
		{name: "arguments not JSON", req: &sessionv1.CallToolRequest{Name: "echo", Arguments: []byte(`{`)},
			code: codes.InvalidArgument, rpcCode: "-32602", message: "tools/call: params.arguments is not valid JSON"},
		{name: "provider down", req: &sessionv1.CallToolRequest{Name: "flaky"}, code: codes.Unavailable, rpcCode: "-32603",
			message: "tool flaky is unavailable: provider down did not answer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := h.client.CallTool(t.Context(), tc.req)
			if tc.isResult {
				if err != nil || len(resp.GetResult()) == 0 {
					t.Fatalf("CallTool = %s, %v", resp.GetResult(), err)
				}
				return
			}
			st := status.Convert(err)
			if st.Code() != tc.code || st.Message() != tc.message {
				t.Fatalf("status %v %q, want %v %q", st.Code(), st.Message(), tc.code, tc.message)
			}
			var info *errdetails.ErrorInfo
			for _, d := range st.Details() {
				if i, ok := d.(*errdetails.ErrorInfo); ok {
					info = i
				}
			}
			if info.GetDomain() != errorDomain || info.GetMetadata()["jsonrpc_code"] != tc.rpcCode {
				t.Errorf("ErrorInfo = %v, want domain %s and jsonrpc_code %s", info, errorDomain, tc.rpcCode)
			}
		})
	}
}

// TestUnaryCallsAreObserved: a REST call is traced and measured like the tools/call
// of Handle.
func TestUnaryCallsAreObserved(t *testing.T) {
	h := newObservedHarness(t)
	if _, err := h.client.CallTool(t.Context(), &sessionv1.CallToolRequest{Name: "echo"}); err != nil {
		t.Fatal(err)
	}
	if got := attrs(h.span(t, "tools/call echo")); got["gen_ai.tool.name"] != "echo" || got["error.type"] != "" {
		t.Errorf("span attributes %v", got)
	}
	if _, err := h.client.CallTool(t.Context(), &sessionv1.CallToolRequest{Name: "no-such-tool"}); err == nil {
		t.Fatal("unknown tool answered")
	}
	if got := attrs(h.span(t, "tools/call no-such-tool")); got["error.type"] != "-32602" {
		t.Errorf("error.type %q, want -32602 as on the MCP path", got["error.type"])
	}
}
