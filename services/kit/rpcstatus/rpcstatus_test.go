package rpcstatus

import (
	"errors"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A JSON-RPC error survives the status it travels in: code, message and data; data
// that is not JSON is dropped, and statuses without the mesh's ErrorInfo carry none.
func TestJSONRPCThroughAStatus(t *testing.T) {
	err := Error(codes.FailedPrecondition, "MISSING_CLIENT_CAPABILITY", -32021, "needs sampling", []byte(`{"requiredCapabilities":{"sampling":{}}}`))
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("gRPC code %v", status.Code(err))
	}
	code, msg, data, ok := JSONRPC(err)
	if !ok || code != -32021 || msg != "needs sampling" || string(data) != `{"requiredCapabilities":{"sampling":{}}}` {
		t.Errorf("got %d %q %s %v", code, msg, data, ok)
	}

	code, _, data, ok = JSONRPC(Error(codes.Internal, "INTERNAL", -32603, "failed", nil))
	if !ok || code != -32603 || data != nil {
		t.Errorf("without data: %d %s %v", code, data, ok)
	}
	if _, _, data, ok = JSONRPC(Error(codes.Internal, "INTERNAL", -32603, "failed", []byte("{not json"))); !ok || data != nil {
		t.Errorf("data that is not JSON: %s %v", data, ok)
	}

	foreign, _ := status.New(codes.FailedPrecondition, "x").WithDetails(&errdetails.ErrorInfo{
		Domain: "example.com", Metadata: map[string]string{MetaCode: "-32021"},
	})
	for name, err := range map[string]error{
		"no status":          errors.New("plain"),
		"no details":         status.Error(codes.FailedPrecondition, "x"),
		"another domain":     foreign.Err(),
		"no code in details": mustDetails(t, map[string]string{MetaData: "{}"}),
	} {
		if _, _, _, ok := JSONRPC(err); ok {
			t.Errorf("%s: carries a JSON-RPC error", name)
		}
	}
}

func mustDetails(t *testing.T, meta map[string]string) error {
	t.Helper()
	st, err := status.New(codes.Internal, "x").WithDetails(&errdetails.ErrorInfo{Domain: Domain, Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}
