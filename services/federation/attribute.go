package federation

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

// Which forwarded call a session-level request belongs to. A request of the stateful
// generation names no call, but an HTTP upstream sends the requests it makes while
// serving a call on that call's response stream. Each forwarded call carries its
// reference in _meta; the tap (tap.go) reads the reference from the POST and, in the
// response stream, sees each request before the SDK hands it to a handler. The handler
// then finds its call by the request's method and params. Requests the tap did not see
// (stdio and legacy SSE upstreams, the standalone stream) fall back to the one call in
// flight, if there is exactly one.

// callMetaKey is the _meta key of a forwarded tools/call or prompts/get that carries
// its reference.
const callMetaKey = "io.mcpmesh/federation-call"

// callRefIn returns a per-call line handler for the response of an HTTP request whose
// body is a forwarded tools/call or prompts/get, or nil. The reference is read from
// _meta, not searched for: the arguments are the caller's and may hold anything.
func (u *upstream) callRefIn(body []byte) func(line []byte) {
	if !bytes.Contains(body, []byte(callMetaKey)) {
		return nil
	}
	var req struct {
		Method string `json:"method"`
		Params struct {
			Meta map[string]json.RawMessage `json:"_meta"`
		} `json:"params"`
	}
	if err := json.Unmarshal(body, &req); err != nil || (req.Method != mcpproto.MethodToolsCall && req.Method != mcpproto.MethodPromptsGet) {
		return nil
	}
	var ref string
	if err := json.Unmarshal(req.Params.Meta[callMetaKey], &ref); err != nil || ref == "" {
		return nil
	}
	return func(line []byte) { u.sightRequest(ref, line) }
}

// sightRequest notes a sampling, elicitation or roots request seen on the response
// stream of the call named ref.
func (u *upstream) sightRequest(ref string, line []byte) {
	line = bytes.TrimPrefix(bytes.TrimSpace(line), []byte("data:"))
	if !bytes.Contains(line, []byte(`"sampling/createMessage"`)) && !bytes.Contains(line, []byte(`"elicitation/create"`)) &&
		!bytes.Contains(line, []byte(`"roots/list"`)) {
		return
	}
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(line), &msg); err != nil || msg.ID == nil {
		return
	}
	key, ok := requestKey(msg.Method, msg.Params)
	if !ok {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if fc := u.refs[ref]; fc != nil {
		u.sighted[key] = append(u.sighted[key], fc)
	}
}

// requestKey is a request's method and params in the form the SDK hands them to the
// client's handler, re-encoded, so that the tap's view and the handler's compare.
func requestKey(method string, params json.RawMessage) (string, bool) {
	var p any
	switch method {
	case mcpproto.MethodSamplingCreateMessage:
		p = new(mcp.CreateMessageWithToolsParams) //nolint:staticcheck // sampling is deprecated from 2026-07-28, not gone: upstreams still ask
	case mcpproto.MethodElicitationCreate:
		p = new(mcp.ElicitParams)
	case mcpproto.MethodRootsList:
		p = new(mcp.ListRootsParams) //nolint:staticcheck // roots are deprecated from 2026-07-28, not gone: upstreams still ask
	default:
		return "", false
	}
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage(`{}`)
	}
	if err := json.Unmarshal(params, p); err != nil {
		return "", false
	}
	return handlerKey(method, p)
}

func handlerKey(method string, params any) (string, bool) {
	b, err := json.Marshal(params)
	if err != nil {
		return "", false
	}
	if string(b) == "null" {
		b = []byte(`{}`) // roots/list without params
	}
	return method + "\x00" + string(b), true
}

// callAsking finds the forwarded call a session-level request on session on belongs
// to: the one the tap saw it on, else the only call in flight on that session. Two
// calls that asked the very same question at once cannot be told apart, and get
// neither.
func (u *upstream) callAsking(on mcp.Session, method string, params any) *forwardedCall {
	key, ok := handlerKey(method, params)
	u.mu.Lock()
	defer u.mu.Unlock()
	if ok {
		if seen := u.sighted[key]; len(seen) > 0 {
			fc := seen[0]
			for _, other := range seen[1:] {
				if other != fc {
					return nil
				}
			}
			if len(seen) == 1 {
				delete(u.sighted, key)
			} else {
				u.sighted[key] = seen[1:]
			}
			return fc
		}
	}
	var only *forwardedCall
	for fc := range u.forwarded {
		if mcp.Session(fc.session) != on {
			continue
		}
		if only != nil {
			return nil
		}
		only = fc
	}
	return only
}

// newCallRef names a forwarded call on this upstream's connections; u.mu is held.
func (u *upstream) newCallRef() string {
	u.nextID++
	return "f" + strconv.FormatUint(u.nextID, 10)
}
