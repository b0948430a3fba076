package federation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
)

// Relaying an upstream's requests for client input (sampling, elicitation, roots) to
// the mesh's client, for tool calls and prompts alike. An upstream asks in one of two
// ways:
//   - 2026-07-28: its result is input_required (multi round-trip). The provider call
//     answers input_required at once, under a request state that carries the
//     upstream's own state and what the retry needs (retrystate.go); the mesh's retry
//     with the answers, on any federation replica, sends the request upstream again
//     with the answers and that state. Nothing waits on the federation.
//   - earlier generations: it sends sampling/createMessage or elicitation/create on
//     its session, and waits for the answer on that connection. Such a request names
//     no call; attribute.go finds the call. A forwarded request runs upstream on its
//     own goroutine, apart from the provider call (a CallTool stream, a GetPrompt)
//     that started it: the provider call answers input_required and the upstream
//     request keeps waiting, paused in this replica's memory under an unguessable
//     request state; the mesh's retry with the answers (the session's client-input
//     adapter, for either protocol generation) hands them to the waiting request and
//     follows it again. Only this replica can, while the call lasts: the upstream holds
//     the open request on this replica's connection.
//
// A 2026-07-28 client may send inputResponses with its first call, before anyone asked:
// a 2026-07-28 upstream gets them with that call (upFrontResponses).
//
// A paused call lives no longer than the call itself: the upstream's call timeout
// bounds the whole exchange, client answers included; then the upstream call is
// cancelled and a late retry gets an error that says so (a tool error for a tool).

// statePrefix marks the request state of a paused call; a random token follows.
const statePrefix = "mcpmesh-federation/1:"

// maxInputRounds bounds how often one upstream call may ask for client input.
const maxInputRounds = 8

// sessionInputKey is the key of a relayed session-level request (earlier generations).
const sessionInputKey = "upstream"

// forwardedCall is one tools/call or prompts/get running upstream on behalf of a mesh
// request.
type forwardedCall struct {
	what   string // "tool <name>" or "prompt <name>": binds the request state, names the call in errors
	ref    string // names the call in its upstream request's _meta (attribute.go)
	owner  [sha256.Size]byte
	caps   clientCapabilities
	sink   *callSink
	cancel context.CancelFunc
	// session is the one the call was sent on (u.mu); the upstream's requests on it
	// may be for this call (attribute.go).
	session *mcp.ClientSession

	asks chan *clientAsk
	done chan struct{} // closed once res and err are set
	res  mcp.Result    // *mcp.CallToolResult or *mcp.GetPromptResult
	err  error

	// upFront are the client's inputResponses sent with the first call (no request
	// state): passed on with the call to a 2026-07-28 upstream (upFrontResponses). On
	// a retry (retry set) they are the answers, passed on as sent.
	upFront map[string][]byte
	// retry is the state of a 2026-07-28 upstream's earlier input_required this call
	// retries (nil for a first call).
	retry *retryState
	// asked, once done, is the input_required a 2026-07-28 upstream answered, relayed
	// with a retry state (nil: res or err is the outcome).
	asked *mcpv1.InputRequired
}

// upstreamRequest sends a forwarded request upstream once: with meta as its _meta and,
// after the first round, the client's answers and the upstream's state.
type upstreamRequest func(ctx context.Context, s *mcp.ClientSession, meta mcp.Meta, responses mcp.InputResponseMap, state string) (mcp.Result, error)

// clientAsk is one round of input requests, keyed like InputRequired.input_requests;
// the answers come back in answer.
type clientAsk struct {
	requests map[string][]byte
	answer   chan map[string][]byte // buffered: a resume never blocks
}

// pausedCall is a forwarded call waiting for the client's answers to ask.
type pausedCall struct {
	call *forwardedCall
	ask  *clientAsk
}

// inputRequest is a server-to-client request as InputRequired carries it.
type inputRequest struct {
	Method string `json:"method"`
	Params any    `json:"params"`
}

// clientCapabilities are the original client's declared capabilities that gate relaying.
type clientCapabilities struct {
	Sampling    json.RawMessage `json:"sampling"`
	Elicitation json.RawMessage `json:"elicitation"`
	Roots       json.RawMessage `json:"roots"`
}

// allows reports whether the client declared the capability method needs.
func (c clientCapabilities) allows(method string) bool {
	declared := func(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }
	switch method {
	case mcpproto.MethodSamplingCreateMessage:
		return declared(c.Sampling)
	case mcpproto.MethodElicitationCreate:
		return declared(c.Elicitation)
	case mcpproto.MethodRootsList:
		return declared(c.Roots)
	}
	return false
}

// relayable is what the federation declares to upstreams, narrowed to what the client
// declared: an upstream that reads a call's capabilities asks only for input the
// client can give (the session's capabilities are the federation's, for every client).
func (c clientCapabilities) relayable() map[string]any {
	out := map[string]any{}
	if c.allows(mcpproto.MethodSamplingCreateMessage) {
		out["sampling"] = map[string]any{}
	}
	if c.allows(mcpproto.MethodElicitationCreate) {
		out["elicitation"] = map[string]any{"form": map[string]any{}}
	}
	if c.allows(mcpproto.MethodRootsList) {
		out["roots"] = map[string]any{}
	}
	return out
}

// ownerOf binds a paused call (or a retry state) to the client that may resume it: its
// session (stateful clients) and its declared identity.
func ownerOf(rc *mcpv1.RequestContext) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte("mcpmesh federation owner\x00"))
	h.Write([]byte(rc.GetSessionId()))
	h.Write([]byte{0})
	h.Write(rc.GetClient().GetClientInfo())
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}

// startCall starts a request upstream on its own goroutine, with meta (the request's
// own _meta, if any) and the relay's keys as its _meta; the call outlives the provider
// call that started it while it waits for client input, and ends with the upstream's
// answer, its timeout, or fc.cancel. retry is the state of the input_required the
// request retries (nil for a first call).
func (u *upstream) startCall(ctx context.Context, what string, rc *mcpv1.RequestContext, meta mcp.Meta, sink *callSink, closeSink func(),
	send upstreamRequest, retry *retryState) *forwardedCall {
	callCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	fc := &forwardedCall{
		what: what, owner: ownerOf(rc), upFront: rc.GetInputResponses(), retry: retry, sink: sink, cancel: cancel,
		asks: make(chan *clientAsk), done: make(chan struct{}),
	}
	if raw := rc.GetClient().GetCapabilities(); len(raw) > 0 {
		_ = json.Unmarshal(raw, &fc.caps) // unreadable capabilities declare nothing
	}
	u.mu.Lock()
	fc.ref = u.newCallRef()
	u.forwarded[fc] = struct{}{}
	u.refs[fc.ref] = fc
	u.mu.Unlock()
	meta = maps.Clone(meta)
	if meta == nil {
		meta = mcp.Meta{}
	}
	meta[callMetaKey] = fc.ref
	meta[mcpproto.MetaClientCapabilities] = fc.caps.relayable()
	go func() {
		defer close(fc.done)
		defer cancel()
		defer closeSink()
		defer u.forgetCall(fc)
		fc.err = u.guardConn(callCtx, func(ctx context.Context, c upstreamConn) error {
			u.sendingOn(fc, c)
			var err error
			fc.res, err = u.withInput(ctx, c.session, fc, meta, send)
			return err
		})
	}()
	return fc
}

// sendingOn notes the connection fc is sent on: the upstream's messages on it may be
// for fc, those on another connection are not.
func (u *upstream) sendingOn(fc *forwardedCall, c upstreamConn) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fc.session = c.session
	fc.sink.via = c.caller
}

// failedToOpenCallerSession reports whether fc ended because its caller's session
// could not be opened.
func (fc *forwardedCall) failedToOpenCallerSession() bool {
	select {
	case <-fc.done:
		return errors.As(fc.err, new(*callerSessionError))
	default:
		return false
	}
}

// forgetCall drops an ended call and any pause of it: a late retry finds nothing.
func (u *upstream) forgetCall(fc *forwardedCall) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.forwarded, fc)
	delete(u.refs, fc.ref)
	for key, seen := range u.sighted {
		seen = slices.DeleteFunc(seen, func(c *forwardedCall) bool { return c == fc })
		if len(seen) == 0 {
			delete(u.sighted, key)
		} else {
			u.sighted[key] = seen
		}
	}
	for token, p := range u.paused {
		if p.call == fc {
			delete(u.paused, token)
		}
	}
}

// withInput sends the request, relaying each input_required result to the client: a
// 2026-07-28 upstream's at once, with a retry state (relayStateless, which sets
// fc.asked); an earlier generation's by pausing the call until the client answers,
// then sending the request again with the answers.
func (u *upstream) withInput(ctx context.Context, s *mcp.ClientSession, fc *forwardedCall, meta mcp.Meta, send upstreamRequest) (mcp.Result, error) {
	stateless := s.InitializeResult().ProtocolVersion >= statelessVersion
	var (
		responses mcp.InputResponseMap
		state     string
		round     int // rounds of client input so far
		err       error
	)
	if fc.retry != nil {
		if !stateless {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf(
				"upstream %s no longer speaks %s, whose input_required this retries", u.cfg.Name, statelessVersion)}
		}
		state, round = fc.retry.State, fc.retry.Round
		responses, err = decodeInputResponses(fc.upFront)
	} else {
		responses, err = upFrontResponses(s, fc.upFront)
	}
	if err != nil {
		return nil, err
	}
	for ; ; round++ {
		res, err := send(ctx, s, meta, responses, state)
		if err != nil {
			return nil, err
		}
		asked, next, needsInput := inputRequired(res)
		if !needsInput {
			return res, nil
		}
		if !stateless && len(asked) == 0 {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the upstream is busy (input_required without input requests); try again later"}
		}
		if round == maxInputRounds {
			// Invalid params, so that the session tells the client why (an internal
			// error reaches it without the provider's message).
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("upstream %s asked for client input %d times; giving up", u.cfg.Name, round)}
		}
		requests, err := encodeInputRequests(asked)
		if err != nil {
			return nil, err
		}
		if stateless {
			fc.asked, err = u.relayStateless(fc, requests, next, round+1)
			return nil, err
		}
		answers, err := u.ask(ctx, fc, requests)
		if err != nil {
			return nil, err
		}
		responses = mcp.InputResponseMap{}
		for key := range requests {
			raw, ok := answers[key]
			if !ok {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("the client did not answer input request %q", key)}
			}
			if responses[key], err = decodeInputResponse(key, raw); err != nil {
				return nil, err
			}
		}
		state = next
	}
}

// relayStateless is a 2026-07-28 upstream's input_required as the provider call
// answers it: the upstream's input requests (none: the client retries at once, as
// the upstream asked) under a retry state for round. Requests the client has not
// declared the capability for are refused, as for a paused call.
func (u *upstream) relayStateless(fc *forwardedCall, requests map[string][]byte, upstreamState string, round int) (*mcpv1.InputRequired, error) {
	if err := fc.caps.check(requests); err != nil {
		return nil, err
	}
	state, err := retryState{Upstream: u.cfg.Name, What: fc.what, Owner: fc.owner[:], Round: round, State: upstreamState}.encode()
	if err != nil {
		return nil, err
	}
	return &mcpv1.InputRequired{InputRequests: requests, RequestState: state}, nil
}

// upFrontResponses are the inputResponses a client sent with its first call, before
// anyone asked (2026-07-28, no requestState), as the first send passes them upstream:
// the server decides what they answer, and ignores what it does not recognise or need
// (basic/patterns/mrtr "Error Handling"), as it would talking to the client directly.
// A stateful-era upstream has no inputResponses: they are not passed to it.
func upFrontResponses(s *mcp.ClientSession, upFront map[string][]byte) (mcp.InputResponseMap, error) {
	if s.InitializeResult().ProtocolVersion < statelessVersion {
		return nil, nil
	}
	return decodeInputResponses(upFront)
}

// decodeInputResponses reads a retry's answers, all of them: the upstream decides
// what they answer, and asks again for what is missing (basic/patterns/mrtr, "Error
// Handling").
func decodeInputResponses(raw map[string][]byte) (mcp.InputResponseMap, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	responses := make(mcp.InputResponseMap, len(raw))
	for key, answer := range raw {
		var err error
		if responses[key], err = decodeInputResponse(key, answer); err != nil {
			return nil, err
		}
	}
	return responses, nil
}

// decodeInputResponse reads the client's answer under key (an ElicitResult,
// CreateMessageResult or ListRootsResult); an answer that is none of them is -32602.
func decodeInputResponse(key string, raw []byte) (mcp.InputResponse, error) {
	var one mcp.InputResponseMap
	if err := json.Unmarshal(fmt.Appendf(nil, `{%q:%s}`, key, raw), &one); err != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("the client's answer to %q: %v", key, err)}
	}
	return one[key], nil
}

// inputRequired returns the input requests and state of a result that asks for client
// input (multi round-trip results: tools/call and prompts/get).
func inputRequired(res mcp.Result) (mcp.InputRequestMap, string, bool) {
	switch r := res.(type) {
	case *mcp.CallToolResult:
		return r.InputRequests, r.RequestState, r.NeedsInput()
	case *mcp.GetPromptResult:
		return r.InputRequests, r.RequestState, r.NeedsInput()
	}
	return nil, "", false
}

// encodeInputRequests renders the upstream's input requests as InputRequired carries
// them, one JSON object with method and params per key.
func encodeInputRequests(m mcp.InputRequestMap) (map[string][]byte, error) {
	all, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode input requests: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(all, &raw); err != nil {
		return nil, fmt.Errorf("encode input requests: %w", err)
	}
	out := make(map[string][]byte, len(raw))
	for k, v := range raw {
		out[k] = v
	}
	return out, nil
}

// check refuses input requests the client has not declared the capability for.
func (c clientCapabilities) check(requests map[string][]byte) error {
	for key, raw := range requests {
		var r struct {
			Method string `json:"method"`
		}
		_ = json.Unmarshal(raw, &r)
		if !c.allows(r.Method) {
			return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams,
				Message: fmt.Sprintf("input request %q: the mesh's client did not declare the capability %s needs", key, r.Method)}
		}
	}
	return nil
}

// ask hands requests to the stream following fc and waits for the client's answers.
// A request the client has not declared the capability for is refused at once.
func (u *upstream) ask(ctx context.Context, fc *forwardedCall, requests map[string][]byte) (map[string][]byte, error) {
	if err := fc.caps.check(requests); err != nil {
		return nil, err
	}
	a := &clientAsk{requests: requests, answer: make(chan map[string][]byte, 1)}
	select {
	case fc.asks <- a:
	case <-fc.done:
		return nil, errCallEnded
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-u.stopping:
		return nil, errStopping
	}
	select {
	case answers := <-a.answer:
		return answers, nil
	case <-fc.done:
		return nil, errCallEnded
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-u.stopping:
		return nil, errStopping
	}
}

var (
	errCallEnded = errors.New("the call this request belongs to has ended")
	errStopping  = errors.New("the federation is stopping")
)

// await waits for fc's end (nil, nil: fc.res is its result; or the input_required of a
// 2026-07-28 upstream, fc.asked) or for its next round of input requests, which it
// pauses fc for and returns as input_required; the caller that cannot deliver them
// calls fc.cancel. A provider call that ends first cancels the upstream call.
func (u *upstream) await(ctx context.Context, fc *forwardedCall) (*mcpv1.InputRequired, error) {
	select {
	case <-fc.done:
		fc.sink.close() // nothing more interleaves with the outcome
		if fc.err != nil {
			return nil, u.status(ctx, fc.what, fc.err)
		}
		return fc.asked, nil
	case a := <-fc.asks:
		fc.sink.close()
		token, err := newPauseToken()
		if err != nil {
			fc.cancel()
			return nil, u.status(ctx, fc.what, err)
		}
		u.mu.Lock()
		u.paused[token] = &pausedCall{call: fc, ask: a}
		u.mu.Unlock()
		return &mcpv1.InputRequired{InputRequests: a.requests, RequestState: []byte(statePrefix + token)}, nil
	case <-ctx.Done():
		fc.cancel()
		<-fc.done
		return nil, u.status(ctx, fc.what, ctx.Err())
	}
}

// resume hands the client's answers to the paused call its request state names, whose
// further progress and log messages go to send (nil: none), and returns the call to
// await again. Nil when the state names no paused call of what for this client here
// (it expired, was used, belongs to another client or to another replica): notPending
// says so.
func (u *upstream) resume(what string, rc *mcpv1.RequestContext, send func(*providerv1.CallToolResponse) error) *forwardedCall {
	token, ok := strings.CutPrefix(string(rc.GetRequestState()), statePrefix)
	owner := ownerOf(rc)
	var p *pausedCall
	u.mu.Lock()
	if q := u.paused[token]; ok && q != nil && q.call.what == what && subtle.ConstantTimeCompare(q.call.owner[:], owner[:]) == 1 {
		p = q
		delete(u.paused, token) // one resume per pause
	}
	u.mu.Unlock()
	if p == nil {
		return nil
	}
	p.call.sink.attach(send)
	p.ask.answer <- rc.GetInputResponses()
	return p.call
}

// notPending tells the client that its retry's request state names no paused call
// here, and how to start again (again: "Call the tool again").
func (u *upstream) notPending(again string) string {
	return fmt.Sprintf("The request for client input of upstream %s is no longer pending here: it timed out, was already answered, "+
		"or was made on another replica. %s without inputResponses and requestState.", u.cfg.Name, again)
}

// newPauseToken is 128 random bits: the request state names a paused call only to
// whoever received it.
func newPauseToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("request state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// relaySessionRequest relays a server-to-client request of an earlier-generation
// upstream to the client of the forwarded call it belongs to (attribute.go), and
// decodes its answer into result.
func (u *upstream) relaySessionRequest(ctx context.Context, on mcp.Session, method string, params, result any) error {
	fc := u.callAsking(on, method, params)
	if fc == nil {
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: fmt.Sprintf(
			"mcpmesh relays %s to the client of the tools/call or prompts/get it is sent for: send it on the response stream of that call, "+
				"or while mcpmesh forwards only one call to this server", method)}
	}
	req, err := json.Marshal(inputRequest{Method: method, Params: params})
	if err != nil {
		return fmt.Errorf("encode %s: %w", method, err)
	}
	answers, err := u.ask(ctx, fc, map[string][]byte{sessionInputKey: req})
	if err != nil {
		return err
	}
	raw, ok := answers[sessionInputKey]
	if !ok {
		return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the client gave no answer to " + method}
	}
	if err := json.Unmarshal(raw, result); err != nil {
		return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf("the client's answer to %s: %v", method, err)}
	}
	return nil
}

func (u *upstream) relayCreateMessage(ctx context.Context, req *mcp.CreateMessageWithToolsRequest) (*mcp.CreateMessageWithToolsResult, error) { //nolint:staticcheck // sampling is deprecated from 2026-07-28, not gone: upstreams still ask
	var res mcp.CreateMessageWithToolsResult //nolint:staticcheck // sampling is deprecated from 2026-07-28, not gone: upstreams still ask
	if err := u.relaySessionRequest(ctx, req.Session, mcpproto.MethodSamplingCreateMessage, req.Params, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// relayAsSent relays roots/list and elicitation/create before the SDK client's own
// handling; other requests pass. The SDK client has no handler for roots/list to set,
// and it checks an elicitation's schema against its own reading of the spec before its
// handler runs (refusing, for one, a titled multi-select whose items also say
// "type":"string") and fills the schema's defaults into the answer after: a relay
// passes the request and the answer as sent, and the client that answers judges the
// schema, as it would talking to the upstream directly.
func (u *upstream) relayAsSent(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		switch method {
		case mcpproto.MethodRootsList:
			params, _ := req.GetParams().(*mcp.ListRootsParams) //nolint:staticcheck // roots are deprecated from 2026-07-28, not gone: upstreams still ask
			if params == nil {
				params = &mcp.ListRootsParams{} //nolint:staticcheck // roots are deprecated from 2026-07-28, not gone: upstreams still ask
			}
			var res mcp.ListRootsResult //nolint:staticcheck // roots are deprecated from 2026-07-28, not gone: upstreams still ask
			if err := u.relaySessionRequest(ctx, req.GetSession(), method, params, &res); err != nil {
				return nil, err
			}
			return &res, nil
		case mcpproto.MethodElicitationCreate:
			params, _ := req.GetParams().(*mcp.ElicitParams)
			if params == nil {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "elicitation/create without params"}
			}
			var res mcp.ElicitResult
			if err := u.relaySessionRequest(ctx, req.GetSession(), method, params, &res); err != nil {
				return nil, err
			}
			return &res, nil
		}
		return next(ctx, method, req)
	}
}

// toolError is a tool result that reports text as an error.
func toolError(text string) *providerv1.CallToolResponse {
	content, _ := json.Marshal([]map[string]string{{"type": "text", "text": text}})
	return &providerv1.CallToolResponse{Event: &providerv1.CallToolResponse_Result{Result: &mcpv1.ToolResult{Content: content, IsError: true}}}
}
