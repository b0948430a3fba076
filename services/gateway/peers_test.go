package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mcpmesh/mcpmesh/services/gateway/internal/auth"
	"github.com/mcpmesh/mcpmesh/services/kit/principal"
	"github.com/mcpmesh/mcpmesh/services/kit/virtualserver"
	"strings"
	"sync"
	"time"

	healthv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/health/v1"
	registryv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/registry/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	transportv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/transport/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// secret is an internal detail that peers put in their errors; no response may show it.
const secret = "dial tcp 10.9.8.7:9000: connection refused"

// testTransport is a small real TransportService. It reads the JSON-RPC method from the
// body and answers with the framing the test named:
//
//	json    200, JSON framing, the body echoed in a result, session "sess-1"
//	sse     200, SSE framing, retry 1500, three events e1..e3
//	step    SSE: one event, then waits for release before the second
//	notify  202, no body
//	unavailable / deadline / internal   a gRPC error with an internal message
//	headless  ends the stream without a head
//	hang      SSE head, then waits for the client to leave (records the cancel)
//
// A legacy connection (LegacyConnect) is always legacyConnection; LegacyPost accepts
// its messages (202) and knows no other connection (404).
type testTransport struct {
	transportv1.UnimplementedTransportServiceServer

	release chan struct{} // "step" sends its second event after this is closed

	mu       sync.Mutex
	lastMeta *transportv1.RequestMetadata
	lastBody []byte // as received: not copied, so a reused buffer would show
	// lastPrincipal is who the last Exchange acted for, as its context said.
	lastPrincipal *principal.Principal
	// lastVirtualServer is the virtual server the last Exchange came through.
	lastVirtualServer string
	canceled          chan struct{} // closed when a hang or Listen stream sees its context end
	once              sync.Once
}

func newTestTransport() *testTransport {
	return &testTransport{release: make(chan struct{}), canceled: make(chan struct{})}
}

func (t *testTransport) meta() *transportv1.RequestMetadata {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastMeta
}

func (t *testTransport) principal() *principal.Principal {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastPrincipal
}

func (t *testTransport) virtualServer() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastVirtualServer
}

func (t *testTransport) body() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastBody
}

func (t *testTransport) markCanceled() { t.once.Do(func() { close(t.canceled) }) }

func head(code int32, f transportv1.Framing, session string, retry int32) *transportv1.ExchangeResponse {
	return &transportv1.ExchangeResponse{Event: &transportv1.ExchangeResponse_Head{Head: &transportv1.ResponseHead{
		HttpStatus: code, Framing: f, SessionId: session, RetryMs: retry,
	}}}
}

func message(id string, data string) *transportv1.ExchangeResponse {
	return &transportv1.ExchangeResponse{Event: &transportv1.ExchangeResponse_Message{Message: &transportv1.Message{
		Data: []byte(data), EventId: id,
	}}}
}

// legacyConnection is the id of every connection LegacyConnect opens.
const legacyConnection = "legacy-1"

// LegacyConnect opens a connection and holds it until the client leaves.
func (t *testTransport) LegacyConnect(_ *transportv1.LegacyConnectRequest, stream grpc.ServerStreamingServer[transportv1.LegacyConnectResponse]) error {
	if err := stream.Send(&transportv1.LegacyConnectResponse{Event: &transportv1.LegacyConnectResponse_Head{Head: &transportv1.ResponseHead{
		HttpStatus: 200, Framing: transportv1.Framing_FRAMING_EVENT_STREAM, SessionId: legacyConnection,
	}}}); err != nil {
		return err
	}
	<-stream.Context().Done()
	return nil
}

// LegacyPost records the message and accepts it for legacyConnection.
func (t *testTransport) LegacyPost(req *transportv1.LegacyPostRequest, stream grpc.ServerStreamingServer[transportv1.LegacyPostResponse]) error {
	t.mu.Lock()
	t.lastBody = req.GetBody()
	t.mu.Unlock()
	code := int32(404)
	if req.GetConnectionId() == legacyConnection {
		code = 202
	}
	return stream.Send(&transportv1.LegacyPostResponse{Head: &transportv1.ResponseHead{HttpStatus: code, Framing: transportv1.Framing_FRAMING_NONE}})
}

func (t *testTransport) Exchange(req *transportv1.ExchangeRequest, stream grpc.ServerStreamingServer[transportv1.ExchangeResponse]) error {
	t.mu.Lock()
	t.lastMeta = req.GetMetadata()
	t.lastPrincipal, _ = principal.FromContext(stream.Context())
	t.lastVirtualServer = virtualserver.FromContext(stream.Context())
	t.lastBody = req.GetBody()
	t.mu.Unlock()
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if err := json.Unmarshal(req.GetBody(), &msg); err != nil {
		if err := stream.Send(head(400, transportv1.Framing_FRAMING_JSON, "", 0)); err != nil {
			return err
		}
		return stream.Send(message("", `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"}}`))
	}
	result := func(v string) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":%s}`, msg.ID, v)
	}
	switch msg.Method {
	case "deny-scope":
		return denial(auth.ReasonInsufficientScope, "files:write admin")
	case "deny-policy":
		return denial(auth.ReasonPolicyDenied, "")
	case "json":
		if err := stream.Send(head(200, transportv1.Framing_FRAMING_JSON, "sess-1", 0)); err != nil {
			return err
		}
		return stream.Send(message("", result(`{"echo":`+string(req.GetBody())+`}`)))
	case "sse":
		if err := stream.Send(head(200, transportv1.Framing_FRAMING_EVENT_STREAM, "sess-1", 1500)); err != nil {
			return err
		}
		if err := stream.Send(message("e0", "")); err != nil { // the priming event
			return err
		}
		for i := 1; i <= 3; i++ {
			data := fmt.Sprintf(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":%d}}`, i)
			if i == 3 {
				data = result(`{"done":true}`)
			}
			if err := stream.Send(message(fmt.Sprintf("e%d", i), data)); err != nil {
				return err
			}
		}
		return nil
	case "step":
		if err := stream.Send(head(200, transportv1.Framing_FRAMING_EVENT_STREAM, "", 0)); err != nil {
			return err
		}
		if err := stream.Send(message("s1", `{"jsonrpc":"2.0","method":"notifications/message","params":{}}`)); err != nil {
			return err
		}
		select {
		case <-t.release:
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
		return stream.Send(message("s2", result(`{}`)))
	case "notify":
		return stream.Send(head(202, transportv1.Framing_FRAMING_NONE, "", 0))
	case "unavailable":
		return status.Error(codes.Unavailable, secret)
	case "deadline":
		return status.Error(codes.DeadlineExceeded, secret)
	case "internal":
		return status.Error(codes.Internal, secret)
	case "headless":
		return nil
	case "hang":
		if err := stream.Send(head(200, transportv1.Framing_FRAMING_EVENT_STREAM, "", 0)); err != nil {
			return err
		}
		<-stream.Context().Done()
		t.markCanceled()
		return stream.Context().Err()
	default:
		if err := stream.Send(head(400, transportv1.Framing_FRAMING_JSON, "", 0)); err != nil {
			return err
		}
		return stream.Send(message("", `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"}}`))
	}
}

// Listen sends a head and one event, then waits for the client or the server to end it.
func (t *testTransport) Listen(req *transportv1.ListenRequest, stream grpc.ServerStreamingServer[transportv1.ListenResponse]) error {
	if req.GetMetadata().GetSessionId() == "" {
		return stream.Send(&transportv1.ListenResponse{Event: &transportv1.ListenResponse_Head{Head: &transportv1.ResponseHead{
			HttpStatus: 405, Framing: transportv1.Framing_FRAMING_NONE,
		}}})
	}
	if err := stream.Send(&transportv1.ListenResponse{Event: &transportv1.ListenResponse_Head{Head: &transportv1.ResponseHead{
		HttpStatus: 200, Framing: transportv1.Framing_FRAMING_EVENT_STREAM,
	}}}); err != nil {
		return err
	}
	if err := stream.Send(&transportv1.ListenResponse{Event: &transportv1.ListenResponse_Message{Message: &transportv1.Message{
		Data: []byte(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`), EventId: "g1",
	}}}); err != nil {
		return err
	}
	<-stream.Context().Done()
	t.markCanceled()
	return stream.Context().Err()
}

func (t *testTransport) Close(_ context.Context, req *transportv1.CloseRequest) (*transportv1.CloseResponse, error) {
	switch req.GetMetadata().GetSessionId() {
	case "sess-1":
		return &transportv1.CloseResponse{HttpStatus: 204}, nil
	case "down":
		return nil, status.Error(codes.Unavailable, secret)
	default:
		return &transportv1.CloseResponse{HttpStatus: 404,
			Body: []byte(`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Session not found"}}`)}, nil
	}
}

// testRegistry is a small real RegistryService with one provider.
type testRegistry struct {
	registryv1.UnimplementedRegistryServiceServer
}

func (testRegistry) ListProviders(context.Context, *registryv1.ListProvidersRequest) (*registryv1.ListProvidersResponse, error) {
	return &registryv1.ListProvidersResponse{Providers: []*registryv1.Provider{{
		Name: "everything", Address: "inproc:everything", ToolCount: 1, RegisteredAt: timestamppb.New(time.Unix(1700000000, 0)),
	}}}, nil
}

// testHealth is a small real HealthService.
type testHealth struct {
	healthv1.UnimplementedHealthServiceServer
}

func (testHealth) Check(context.Context, *healthv1.CheckRequest) (*healthv1.CheckResponse, error) {
	return &healthv1.CheckResponse{Status: healthv1.Status_STATUS_SERVING, Components: []*healthv1.Component{{
		Name: "registry", Kind: healthv1.ComponentKind_COMPONENT_KIND_SERVICE, Status: healthv1.Status_STATUS_SERVING,
	}}}, nil
}

// testSession is a small real SessionService for the REST routes.
type testSession struct {
	sessionv1.UnimplementedSessionServiceServer
}

func (testSession) GetSession(_ context.Context, req *sessionv1.GetSessionRequest) (*sessionv1.GetSessionResponse, error) {
	if !strings.HasPrefix(req.GetSessionId(), "sess-") {
		return nil, status.Error(codes.NotFound, "session not found")
	}
	return &sessionv1.GetSessionResponse{Session: &sessionv1.Session{
		Id: req.GetSessionId(), ProtocolVersion: "2025-11-25", Initialized: true,
		ClientInfo:         []byte(`{"name":"probe","version":"1.0"}`),
		ClientCapabilities: []byte(`{"roots":{"listChanged":true}}`),
	}}, nil
}

func (testSession) DeleteSession(_ context.Context, req *sessionv1.DeleteSessionRequest) (*sessionv1.DeleteSessionResponse, error) {
	if !strings.HasPrefix(req.GetSessionId(), "sess-") {
		return nil, status.Error(codes.NotFound, "session not found")
	}
	return &sessionv1.DeleteSessionResponse{}, nil
}

// ListTools answers GET /v1/tools, which the session serves (filtered by policy).
func (testSession) ListTools(ctx context.Context, _ *sessionv1.ListToolsRequest) (*sessionv1.ListToolsResponse, error) {
	schema, err := structpb.NewStruct(map[string]any{
		"type":       "object",
		"properties": map[string]any{"text": map[string]any{"type": "string"}},
	})
	if err != nil {
		return nil, err
	}
	name := "echo"
	if vs := virtualserver.FromContext(ctx); vs != "" {
		name += "@" + vs // what a test of virtual servers looks for
	}
	return &sessionv1.ListToolsResponse{Tools: []*registryv1.ToolView{{
		Name: name, Description: "Echoes its text", Provider: "everything", InputSchema: schema,
	}}}, nil
}

// CallTool answers like the session service: the result as raw JSON; errors the
// session writes for the caller carry the mesh's ErrorInfo.
func (testSession) CallTool(_ context.Context, req *sessionv1.CallToolRequest) (*sessionv1.CallToolResponse, error) {
	switch req.GetName() {
	case "deny-scope":
		return nil, denial(auth.ReasonInsufficientScope, "files:write admin")
	case "deny-policy":
		return nil, denial(auth.ReasonPolicyDenied, "")
	case "echo":
		var args struct {
			Text string `json:"text"`
		}
		raw := req.GetArguments()
		if len(raw) == 0 {
			raw = []byte("{}") // no arguments, as the session reads them
		}
		if err := json.Unmarshal(raw, &args); err != nil {
			return nil, publicError(codes.InvalidArgument, "tools/call: params.arguments must be a JSON object")
		}
		text, _ := json.Marshal(args.Text)
		return &sessionv1.CallToolResponse{Result: []byte(`{"content":[{"type":"text","text":` + string(text) + `}],"structuredContent":` + string(raw) + `}`)}, nil
	case "down":
		return nil, publicError(codes.Unavailable, "tool down is unavailable: provider p did not answer")
	case "boom":
		// A plain error: the server's masking turns it into Internal with an id.
		return nil, errors.New(secret)
	case "raw-internal":
		return nil, status.Error(codes.Internal, secret)
	case "raw-unavailable":
		// Unavailable without the mesh's ErrorInfo: a transport failure, masked.
		return nil, status.Error(codes.Unavailable, secret)
	default:
		return nil, publicError(codes.NotFound, "Unknown tool: "+req.GetName())
	}
}

func publicError(code codes.Code, msg string) error {
	st, err := status.New(code, msg).WithDetails(&errdetails.ErrorInfo{Domain: "mcpmesh", Reason: code.String()})
	if err != nil {
		panic(err)
	}
	return st.Err()
}

// denial is the session service's refusal, built by hand as the step-up contract says.
func denial(reason, scopes string) error {
	info := &errdetails.ErrorInfo{Domain: auth.DenialDomain, Reason: reason}
	if scopes != "" {
		info.Metadata = map[string]string{"scopes": scopes}
	}
	st, err := status.New(codes.PermissionDenied, "tool admin-reset in provider ops needs files:write").WithDetails(info)
	if err != nil {
		panic(err)
	}
	return st.Err()
}
