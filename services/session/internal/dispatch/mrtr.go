package dispatch

import (
	"context"
	"encoding/json"
	"slices"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/jsonenc"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// Multi round-trip requests (2026-07-28): a provider's input_required becomes an
// InputRequiredResult whose requestState is a signed token wrapping the provider's
// state; the client's retry carries inputResponses and the token, and the provider is
// called again with both.

// retryParams are the MRTR members of tools/call, prompts/get and resources/read params.
type retryParams struct {
	InputResponses json.RawMessage `json:"inputResponses"`
	RequestState   json.RawMessage `json:"requestState"`
}

// retryTarget binds a token to one request: the method and the name (or URI).
func retryTarget(method, name string) [digestLen]byte { return digest(method, name) }

// applyRetry verifies a retry's requestState and puts the answers and the provider's
// state into the request context. Only the stateless generation has these members;
// stateful requests ignore them.
func (d *Dispatcher) applyRetry(req *Request, cc *callContext, name string, p *retryParams) error {
	if !req.stateless() {
		return nil
	}
	switch mcpjson.Kind(p.InputResponses) {
	case 0, 'n':
	case '{':
		var responses map[string]json.RawMessage
		if err := json.Unmarshal(p.InputResponses, &responses); err != nil {
			return invalidParams("%s: params.inputResponses must be an object of results", req.Method)
		}
		for k, v := range responses {
			if !mcpjson.IsObject(v) {
				return invalidParams("%s: params.inputResponses[%q] must be a result object", req.Method, k)
			}
		}
		cc.rc.InputResponses = make(map[string][]byte, len(responses))
		for k, v := range responses {
			cc.rc.InputResponses[k] = v
		}
	default:
		return invalidParams("%s: params.inputResponses must be an object", req.Method)
	}
	switch mcpjson.Kind(p.RequestState) {
	case 0, 'n':
		return nil
	case '"':
	default:
		return invalidParams("%s: params.requestState must be a string", req.Method)
	}
	var token string
	if err := json.Unmarshal(p.RequestState, &token); err != nil {
		return invalidParams("%s: params.requestState must be a string", req.Method)
	}
	state, err := d.states.verify(token, retryTarget(req.Method, name), clientDigest(cc.rc.GetClient().GetClientInfo()))
	if err != nil {
		return invalidParams("%s: %s", req.Method, err.Error())
	}
	cc.rc.RequestState = state
	return nil
}

// inputRequired turns a provider's input_required into the InputRequiredResult of the
// stateless generation (stateful sessions get the requests on their stream instead:
// see askClient).
func (d *Dispatcher) inputRequired(ctx context.Context, req *Request, cc *callContext, t target, name string, ir *mcpv1.InputRequired) ([]byte, error) {
	keys, size, err := d.checkInputRequests(ctx, cc, t, ir)
	if err != nil {
		return nil, err
	}
	token := d.states.sign(ir.GetRequestState(), retryTarget(req.Method, name), clientDigest(cc.rc.GetClient().GetClientInfo()))
	o := mcpjson.NewObject(make([]byte, 0, size+len(token))).String("resultType", "input_required")
	if len(keys) > 0 {
		requests := mcpjson.NewObject(make([]byte, 0, size))
		for _, k := range keys {
			requests.Raw(jsonKey(k), ir.GetInputRequests()[k])
		}
		o.Raw("inputRequests", requests.Bytes())
	}
	return o.String("requestState", token).Bytes(), nil
}

// checkInputRequests validates a provider's input requests against the protocol and
// the client's declared capabilities. It returns the keys in a stable order and the
// size of the requests, or the error for the client: -32021 naming the missing
// capabilities, or an invalid-result error for a malformed request.
func (d *Dispatcher) checkInputRequests(ctx context.Context, cc *callContext, t target, ir *mcpv1.InputRequired) ([]string, int, error) {
	keys := make([]string, 0, len(ir.GetInputRequests()))
	for k := range ir.GetInputRequests() {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a stable rendering
	var caps clientCapabilities
	if raw := cc.rc.GetClient().GetCapabilities(); len(raw) > 0 {
		_ = json.Unmarshal(raw, &caps) // unreadable capabilities declare nothing
	}
	missing := map[string]json.RawMessage{}
	size := 128
	for _, k := range keys {
		v := ir.GetInputRequests()[k]
		var r inputRequest
		if !mcpjson.IsObject(v) || json.Unmarshal(v, &r) != nil || !mcpjson.IsObject(r.Params) {
			d.logger.WarnContext(ctx, "provider asked for client input with a malformed request", "kind", t.kind, "name", t.name, "key", k)
			return nil, 0, invalidResult(t)
		}
		capability, ok := requiredCapability(r, caps)
		if capability == "" {
			d.logger.WarnContext(ctx, "provider asked for client input the protocol does not define", "kind", t.kind, "name", t.name, "key", k, "method", r.Method)
			return nil, 0, invalidResult(t)
		}
		if !ok {
			missing[capability] = capabilityShape(r, capability)
		}
		size += len(k) + len(v) + 8
	}
	if len(missing) > 0 {
		return nil, 0, missingCapabilities(missing)
	}
	return keys, size, nil
}

// jsonKey escapes a provider-chosen key for Object, which writes keys verbatim.
func jsonKey(k string) string {
	quoted := jsonenc.AppendString(nil, k)
	return string(quoted[1 : len(quoted)-1])
}

// inputRequest is a server-to-client request as a provider returns it.
type inputRequest struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// clientCapabilities are the declared capabilities that gate input requests.
type clientCapabilities struct {
	Sampling    json.RawMessage `json:"sampling"`
	Roots       json.RawMessage `json:"roots"`
	Elicitation *struct {
		URL json.RawMessage `json:"url"`
	} `json:"elicitation"`
}

func declared(v json.RawMessage) bool { return mcpjson.IsObject(v) }

// requiredCapability names the capability an input request needs ("" for a method
// MRTR does not allow) and whether the client declared it.
func requiredCapability(r inputRequest, caps clientCapabilities) (string, bool) {
	switch r.Method {
	case mcpproto.MethodSamplingCreateMessage:
		return "sampling", declared(caps.Sampling)
	case mcpproto.MethodRootsList:
		return "roots", declared(caps.Roots)
	case mcpproto.MethodElicitationCreate:
		if caps.Elicitation == nil {
			return "elicitation", false
		}
		var p struct {
			Mode string `json:"mode"`
		}
		_ = json.Unmarshal(r.Params, &p)
		if p.Mode == "url" {
			return "elicitation", declared(caps.Elicitation.URL)
		}
		return "elicitation", true
	default:
		return "", false
	}
}

// capabilityShape is the ClientCapabilities member a missing capability needs.
func capabilityShape(r inputRequest, capability string) json.RawMessage {
	if capability == "elicitation" {
		var p struct {
			Mode string `json:"mode"`
		}
		_ = json.Unmarshal(r.Params, &p)
		if p.Mode == "url" {
			return json.RawMessage(`{"url":{}}`)
		}
	}
	return json.RawMessage(`{}`)
}

// missingCapabilities is -32021 MissingRequiredClientCapability.
func missingCapabilities(missing map[string]json.RawMessage) error {
	names := make([]string, 0, len(missing))
	for k := range missing {
		names = append(names, k)
	}
	slices.Sort(names)
	msg := "Server requires the " + names[0]
	for i, n := range names[1:] {
		if i == len(names)-2 {
			msg += " and " + n
		} else {
			msg += ", " + n
		}
	}
	msg += " client capability for this request"
	return (&mcpjson.Error{Code: mcpjson.CodeMissingClientCapability, Message: msg}).
		WithData(map[string]any{"requiredCapabilities": missing})
}
