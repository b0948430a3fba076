package dispatch

import (
	"encoding/json"
	"errors"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// Keys of the per-request _meta of the stateless generation.
const (
	metaClientCapabilities = mcpproto.MetaClientCapabilities
	metaClientInfo         = mcpproto.MetaClientInfo
	metaLogLevel           = mcpproto.MetaLogLevel
	metaServerInfo         = mcpproto.MetaServerInfo
)

// requestMeta is what the session service reads from params._meta.
type requestMeta struct {
	ProgressToken      json.RawMessage `json:"progressToken"`
	ClientCapabilities json.RawMessage `json:"io.modelcontextprotocol/clientCapabilities"`
	ClientInfo         json.RawMessage `json:"io.modelcontextprotocol/clientInfo"`
	LogLevel           json.RawMessage `json:"io.modelcontextprotocol/logLevel"`
}

// decodeParams reads params (a JSON object, or nothing) into v, turning every problem
// into an Invalid params error that says which member is wrong.
func decodeParams(method string, params []byte, v any) error {
	switch mcpjson.Kind(params) {
	case 0, 'n':
		return nil
	case '{':
	default:
		return invalidParams("%s: params must be a JSON object", method)
	}
	if err := json.Unmarshal(params, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return invalidParams("%s: params.%s must be %s, not %s", method, typeErr.Field, jsonKindName(typeErr.Type.Kind().String()), typeErr.Value)
		}
		return invalidParams("%s: params are not valid JSON", method)
	}
	return nil
}

func jsonKindName(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array or JSON value"
	case "bool":
		return "a boolean"
	default:
		return "a number"
	}
}

func invalidParams(format string, args ...any) *mcpjson.Error {
	return mcpjson.Errorf(mcpjson.CodeInvalidParams, format, args...)
}

// callContext is what a provider call needs to know about the client.
type callContext struct {
	rc            *mcpv1.RequestContext
	progressToken json.RawMessage
	logLevel      string
}

// newCallContext combines the session (stateful) or _meta (stateless) into the
// RequestContext providers receive.
func (d *Dispatcher) newCallContext(req *Request, rawMeta json.RawMessage) (*callContext, error) {
	var meta requestMeta
	switch mcpjson.Kind(rawMeta) {
	case 0, 'n':
		rawMeta = nil
	case '{':
		if err := json.Unmarshal(rawMeta, &meta); err != nil {
			return nil, invalidParams("params._meta is not a valid object")
		}
	default:
		return nil, invalidParams("params._meta must be a JSON object")
	}
	cc := &callContext{}
	switch mcpjson.Kind(meta.ProgressToken) {
	case 0, 'n':
	case '"', '0':
		cc.progressToken = meta.ProgressToken
	default:
		return nil, invalidParams("params._meta.progressToken must be a string or an integer")
	}
	metaLevel := ""
	if mcpjson.Kind(meta.LogLevel) != 0 && mcpjson.Kind(meta.LogLevel) != 'n' {
		if err := json.Unmarshal(meta.LogLevel, &metaLevel); err != nil {
			return nil, invalidParams("params._meta[%q] must be a string", metaLogLevel)
		}
		if _, ok := mcpjson.LogSeverity(metaLevel); !ok {
			return nil, invalidParams("params._meta[%q]: unknown level %q", metaLogLevel, metaLevel)
		}
	}
	client := &mcpv1.ClientIdentity{}
	if s := req.Session; s != nil {
		client.ClientInfo, client.Capabilities = s.ClientInfo, s.ClientCapabilities
		cc.logLevel = s.LogLevel
	} else {
		client.ClientInfo = objectOrNil(meta.ClientInfo)
		client.Capabilities = objectOrNil(meta.ClientCapabilities)
	}
	if cc.logLevel == "" {
		cc.logLevel = metaLevel
	}
	cc.rc = &mcpv1.RequestContext{
		ProtocolVersion:   req.ProtocolVersion,
		SessionId:         req.sessionID(),
		Client:            client,
		LogLevel:          cc.logLevel,
		ProgressRequested: cc.progressToken != nil,
		Meta:              rawMeta,
	}
	return cc, nil
}

func objectOrNil(v json.RawMessage) []byte {
	if mcpjson.IsObject(v) {
		return v
	}
	return nil
}

// requireString checks a required string member.
func requireString(method, member, v string) error {
	if v == "" {
		return invalidParams("%s: params.%s is required", method, member)
	}
	return nil
}

// argumentsObject returns the arguments as a JSON object ({} when absent).
func argumentsObject(method string, v json.RawMessage) ([]byte, error) {
	switch mcpjson.Kind(v) {
	case 0, 'n':
		return []byte("{}"), nil
	case '{':
		return v, nil
	default:
		return nil, invalidParams("%s: params.arguments must be a JSON object", method)
	}
}

// providerParams are the params of a request that goes to a provider: each names its
// one required member and carries the request's _meta.
type providerParams interface {
	required() (member, value string)
	meta() json.RawMessage
}

// begin is the prelude of every request that goes to a provider (tools/call,
// resources/read, prompts/get, completion/complete): params decoded into p (a
// pointer), the required member present, the call context built from the session or
// _meta, and the catalogue loaded.
func (d *Dispatcher) begin(req *Request, p providerParams) (*callContext, *catalogue.Snapshot, error) {
	if err := decodeParams(req.Method, req.Params, p); err != nil {
		return nil, nil, err
	}
	member, value := p.required()
	if err := requireString(req.Method, member, value); err != nil {
		return nil, nil, err
	}
	cc, err := d.newCallContext(req, p.meta())
	if err != nil {
		return nil, nil, err
	}
	snap := d.catalogue()
	if snap == nil {
		return nil, nil, errCatalogueNotLoaded
	}
	return cc, snap, nil
}

func (p *callToolParams) required() (string, string)     { return "name", p.Name }
func (p *callToolParams) meta() json.RawMessage          { return p.Meta }
func (p *getPromptParams) required() (string, string)    { return "name", p.Name }
func (p *getPromptParams) meta() json.RawMessage         { return p.Meta }
func (p *readResourceParams) required() (string, string) { return "uri", p.URI }
func (p *readResourceParams) meta() json.RawMessage      { return p.Meta }
func (p *completeParams) required() (string, string)     { return "argument.name", p.Argument.Name }
func (p *completeParams) meta() json.RawMessage          { return p.Meta }
