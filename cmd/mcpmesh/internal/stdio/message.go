package stdio

import (
	"bytes"
	"encoding/json"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

// kind is what a line from the client is.
type kind int

const (
	kindInvalid      kind = iota // not a JSON-RPC message we understand; the mesh says why
	kindRequest                  // method and id
	kindNotification             // method, no id
	kindResponse                 // result or error, answering a server-to-client request
	kindBatch                    // a JSON array (2025-03-26 batches)
)

// message is one line from the client, with what the bridge needs to route it.
type message struct {
	raw    []byte
	kind   kind
	id     json.RawMessage // compact; set for requests
	method string
	// statelessVersion is params._meta's protocol version: set only on 2026-07-28 messages.
	statelessVersion string
	// name is params.name (tools/call, prompts/get) or params.uri (resources/read).
	name    string
	hasName bool
	// arguments is params.arguments of tools/call, for Mcp-Param-* headers.
	arguments json.RawMessage
	// cancelID is params.requestId of notifications/cancelled (compact).
	cancelID json.RawMessage
	// batchIDs are the ids of the requests in a batch.
	batchIDs []json.RawMessage
}

// envelope is the part of a JSON-RPC message the bridge reads.
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Method *string         `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// routingParams are the params fields that decide headers.
type routingParams struct {
	Meta struct {
		ProtocolVersion string `json:"io.modelcontextprotocol/protocolVersion"`
	} `json:"_meta"`
	Name      json.RawMessage `json:"name"`
	URI       json.RawMessage `json:"uri"`
	RequestID json.RawMessage `json:"requestId"`
	Arguments json.RawMessage `json:"arguments"`
}

// parseMessage classifies one line from the client. It never fails: what it cannot
// read is kindInvalid and goes to the mesh as is, which answers with the JSON-RPC error.
func parseMessage(line []byte) message {
	line = bytes.TrimSpace(line)
	m := message{raw: line}
	if len(line) > 0 && line[0] == '[' {
		m.kind = kindBatch
		var items []envelope
		if json.Unmarshal(line, &items) == nil {
			for _, it := range items {
				if it.Method != nil && isID(it.ID) {
					m.batchIDs = append(m.batchIDs, compact(it.ID))
				}
			}
		}
		return m
	}
	var env envelope
	if err := json.Unmarshal(line, &env); err != nil {
		return m
	}
	switch {
	case env.Method != nil && isID(env.ID):
		m.kind = kindRequest
		m.id = compact(env.ID)
	case env.Method != nil && len(env.ID) == 0:
		m.kind = kindNotification
	case env.Method == nil && (len(env.Result) > 0 || len(env.Error) > 0):
		m.kind = kindResponse
		return m
	default:
		return m
	}
	m.method = *env.Method
	if len(env.Params) == 0 {
		return m
	}
	var p routingParams
	if json.Unmarshal(env.Params, &p) != nil {
		return m
	}
	m.statelessVersion = p.Meta.ProtocolVersion
	switch m.method {
	case mcpproto.MethodToolsCall:
		m.name, m.hasName = jsonString(p.Name)
		m.arguments = p.Arguments
	case mcpproto.MethodPromptsGet:
		m.name, m.hasName = jsonString(p.Name)
	case mcpproto.MethodResourcesRead:
		m.name, m.hasName = jsonString(p.URI)
	case mcpproto.NotificationCancelled:
		if isID(p.RequestID) {
			m.cancelID = compact(p.RequestID)
		}
	}
	return m
}

// isID reports whether raw is a JSON-RPC id: a string or a number (not null).
func isID(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && (raw[0] == '"' || raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}

func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// compact returns raw without insignificant whitespace, so ids compare as bytes.
func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}

// reply is the part of a message from the mesh the bridge reads: whether it is the
// answer to a request, and an initialize result's protocol version.
type reply struct {
	ID     json.RawMessage `json:"id"`
	Method *string         `json:"method"`
	Result *struct {
		ProtocolVersion string `json:"protocolVersion"`
	} `json:"result"`
	Error json.RawMessage `json:"error"`
}

// isResponse reports whether r answers a request (it has a result or an error).
func (r *reply) isResponse() bool { return r.Method == nil && (r.Result != nil || len(r.Error) > 0) }
