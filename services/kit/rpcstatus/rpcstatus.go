// Package rpcstatus carries a JSON-RPC error of MCP through a gRPC status, so that the
// code and data a client must see survive a hop between the mesh's services: a
// google.rpc.ErrorInfo of the mesh's domain whose metadata holds the JSON-RPC code and
// data. The session service answers its unary calls this way (the gateway shows them
// to REST callers), and a provider fails this way when the caller must get a JSON-RPC
// code that no gRPC code implies, such as -32021 when the caller did not declare a
// capability the request needs. The receiver decides which codes it accepts.
package rpcstatus

import (
	"encoding/json"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Domain is the ErrorInfo domain of statuses whose message is written for the caller.
const Domain = "mcpmesh"

// The ErrorInfo metadata keys.
const (
	MetaCode = "jsonrpc_code" // the JSON-RPC code, in decimal
	MetaData = "jsonrpc_data" // the error's data as JSON, when it has any
)

// Error is a status of code with message, carrying the JSON-RPC code and data (nil for
// none). Reason is the ErrorInfo's reason (upper snake case, such as the gRPC code's
// name).
func Error(code codes.Code, reason string, rpcCode int, message string, data []byte) error {
	meta := map[string]string{MetaCode: strconv.Itoa(rpcCode)}
	if len(data) > 0 {
		meta[MetaData] = string(data)
	}
	st, err := status.New(code, message).WithDetails(&errdetails.ErrorInfo{Domain: Domain, Reason: reason, Metadata: meta})
	if err != nil {
		return status.Error(code, message)
	}
	return st.Err()
}

// JSONRPC is the JSON-RPC error a status carries: its code, the status message, and
// its data if that is valid JSON (nil otherwise). ok is false for an error that is no
// status or carries no such ErrorInfo.
func JSONRPC(err error) (rpcCode int, message string, data json.RawMessage, ok bool) {
	st, isStatus := status.FromError(err)
	if !isStatus {
		return 0, "", nil, false
	}
	for _, d := range st.Details() {
		info, isInfo := d.(*errdetails.ErrorInfo)
		if !isInfo || info.GetDomain() != Domain {
			continue
		}
		c, err := strconv.Atoi(info.GetMetadata()[MetaCode])
		if err != nil {
			continue
		}
		if raw := info.GetMetadata()[MetaData]; raw != "" && json.Valid([]byte(raw)) {
			data = json.RawMessage(raw)
		}
		return c, st.Message(), data, true
	}
	return 0, "", nil, false
}
