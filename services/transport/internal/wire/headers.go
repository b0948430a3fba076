package wire

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/mcpmesh/mcpmesh/services/kit/jsonenc"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"strings"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/transport/internal/jsonrpc"
)

// Failure is a rejected stateless request: HTTP status, JSON-RPC code, message and
// optional raw data.
type Failure struct {
	HTTPStatus int
	Code       int
	Message    string
	Data       []byte
}

// StatelessHeaders are the request headers the stateless generation checks.
type StatelessHeaders struct {
	ProtocolVersion string
	Method          string
	Name            string
}

// Methods of the tasks extension (SEP-2663) whose Mcp-Name header carries
// params.taskId.
const (
	methodTasksGet    = "tasks/get"
	methodTasksUpdate = "tasks/update"
	methodTasksCancel = "tasks/cancel"
)

// CheckStateless applies the 2026-07-28 server validation to one request or
// notification, in this order: MCP-Protocol-Version present (-32020), equal to the
// _meta version (-32020), supported (-32022 with data {supported, requested});
// _meta version present on requests (-32602); Mcp-Method present and equal to the method
// (-32020; on notifications only checked when present, since the spec leaves
// notification headers undefined); Mcp-Name present and equal to params.name or
// params.uri for tools/call, prompts/get and resources/read, and when present equal to
// params.taskId for tasks/get, tasks/update and tasks/cancel (-32020, after decoding
// "=?base64?...?="); _meta client capabilities present on requests (-32602).
// Every failure is HTTP 400. It returns nil when the message may go on.
func CheckStateless(method string, notification bool, p Params, h StatelessHeaders) *Failure {
	if h.ProtocolVersion == "" {
		return mismatch("Header mismatch: MCP-Protocol-Version header is required")
	}
	if p.HasProtocolVersion && p.ProtocolVersion != h.ProtocolVersion {
		return mismatch(fmt.Sprintf("Header mismatch: MCP-Protocol-Version header value '%s' does not match body value '%s'",
			clip(h.ProtocolVersion), clip(p.ProtocolVersion)))
	}
	if !mcpversion.IsStateless(h.ProtocolVersion) {
		return UnsupportedVersion(h.ProtocolVersion)
	}
	// The _meta triple is defined for requests only: a notification (such as the
	// notifications/cancelled some clients send when closing a stream) may omit it.
	if !p.HasProtocolVersion && !notification {
		return invalidParams(`Invalid params: missing _meta "` + mcpproto.MetaProtocolVersion + `"`)
	}
	if h.Method == "" && !notification {
		return mismatch("Header mismatch: Mcp-Method header is required")
	}
	if h.Method != "" && h.Method != method {
		return mismatch(fmt.Sprintf("Header mismatch: Mcp-Method header value '%s' does not match body value '%s'", clip(h.Method), clip(method)))
	}
	if f := checkName(method, p, h.Name); f != nil {
		return f
	}
	if !notification && (len(p.ClientCapabilities) == 0 || p.ClientCapabilities[0] != '{') {
		return invalidParams(`Invalid params: missing _meta "` + mcpproto.MetaClientCapabilities + `"`)
	}
	return nil
}

func checkName(method string, p Params, header string) *Failure {
	var body json.RawMessage
	switch method {
	case mcpproto.MethodToolsCall, mcpproto.MethodPromptsGet:
		body = p.Name
	case mcpproto.MethodResourcesRead:
		body = p.URI
	case methodTasksGet, methodTasksUpdate, methodTasksCancel:
		// The tasks extension asks clients for Mcp-Name: <taskId>; clients of the core
		// protocol may not know it, so only a header that is sent is checked.
		if header == "" {
			return nil
		}
		body = p.TaskID
	default:
		return nil
	}
	if header == "" {
		return mismatch("Header mismatch: Mcp-Name header is required for " + method)
	}
	value, err := DecodeHeaderValue(header)
	if err != nil {
		return mismatch("Header mismatch: Mcp-Name header value is not valid base64")
	}
	bodyValue, _ := jsonrpc.DecodeString(body)
	if value != bodyValue {
		return mismatch(fmt.Sprintf("Header mismatch: Mcp-Name header value '%s' does not match body value '%s'", clip(value), clip(bodyValue)))
	}
	return nil
}

const (
	b64Prefix = "=?base64?"
	b64Suffix = "?="
)

// DecodeHeaderValue undoes the 2026-07-28 encoding of header values that are not
// header-safe: "=?base64?<standard base64 of UTF-8>?=". Other values come back as is.
func DecodeHeaderValue(v string) (string, error) {
	if !strings.HasPrefix(v, b64Prefix) || !strings.HasSuffix(v, b64Suffix) || len(v) < len(b64Prefix)+len(b64Suffix) {
		return v, nil
	}
	enc := v[len(b64Prefix) : len(v)-len(b64Suffix)]
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		// Some clients drop the padding.
		dec, err = base64.RawStdEncoding.DecodeString(enc)
		if err != nil {
			return "", fmt.Errorf("decode base64 header value: %w", err)
		}
	}
	return string(dec), nil
}

// UnsupportedVersion is the stateless answer to a version the mesh does not serve.
func UnsupportedVersion(requested string) *Failure {
	return &Failure{
		HTTPStatus: 400,
		Code:       mcpproto.CodeUnsupportedProtocolVersion,
		Message:    "Unsupported protocol version",
		Data:       VersionData(requested),
	}
}

// VersionData builds {"supported":[...mcpversion.All],"requested":v}.
func VersionData(requested string) []byte {
	b := make([]byte, 0, 96)
	b = append(b, `{"supported":[`...)
	for i, v := range mcpversion.All {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, v)
	}
	b = append(b, `],"requested":`...)
	b = jsonenc.AppendString(b, requested)
	return append(b, '}')
}

func mismatch(msg string) *Failure {
	return &Failure{HTTPStatus: 400, Code: mcpproto.CodeHeaderMismatch, Message: msg}
}

func invalidParams(msg string) *Failure {
	return &Failure{HTTPStatus: 400, Code: mcpproto.CodeInvalidParams, Message: msg}
}

// clip bounds client-supplied values echoed in error messages.
func clip(s string) string {
	const max = 100
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
