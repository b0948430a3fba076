// Package sessiontest is a small, real SessionService for the transport's tests: it
// keeps sessions in a map and answers Handle with scripted events chosen by method.
// It is test support only; nothing in the service imports it.
package sessiontest

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
)

// KnownSession exists from the start; it negotiated 2025-11-25.
const KnownSession = "known-session"

// KnownSession20250326 exists from the start; it negotiated 2025-03-26, the version
// with JSON-RPC batches.
const KnownSession20250326 = "known-session-2025-03-26"

// Scripted methods and what Handle does for them.
const (
	// MethodSlow emits two notifications/progress, then a result.
	MethodSlow = "slow"
	// MethodToolsCall and MethodToolsList return a result at once.
	MethodToolsCall  = "tools/call"
	MethodToolsList  = "tools/list"
	MethodPromptsGet = "prompts/get"
	MethodResources  = "resources/read"
	// MethodBadParams returns a JSON-RPC -32602 error event.
	MethodBadParams = "bad/params"
	// MethodUnavailable, MethodInternal and MethodPrecondition fail with those codes.
	MethodUnavailable  = "fail/unavailable"
	MethodInternal     = "fail/internal"
	MethodPrecondition = "fail/precondition"
	// MethodNotifyThenFail emits a notification, then fails with Unavailable.
	MethodNotifyThenFail = "fail/after-notification"
	// MethodNoResult ends the stream without a result.
	MethodNoResult = "fail/no-result"
	// MethodBlock waits for its context to end and reports it on Blocked/Unblocked.
	MethodBlock = "block"
	// MethodAsk sends a server-to-client request (AskRequest), then a result.
	MethodAsk = "ask"
)

// AskRequest is what MethodAsk sends the client, as JSON-RPC.
const AskRequest = `{"jsonrpc":"2.0","id":"q1","method":"roots/list","params":{}}`

// SecretDetail appears in internal error messages; it must never reach a client.
const SecretDetail = "dsn=postgres://admin:hunter2@db"

// ProgressParams are the params of the notifications MethodSlow emits.
const ProgressParams = `{"progressToken":"t","progress":1}`

// Service implements sessionv1.SessionServiceServer.
type Service struct {
	sessionv1.UnimplementedSessionServiceServer

	mu            sync.Mutex
	sessions      map[string]string // id -> negotiated version
	next          int
	notifications []string
	// feeds are the open Listen streams by session; deleting a session closes them.
	feeds map[string][]chan *sessionv1.ListenResponse
	// responses are the answers Respond took.
	responses []*sessionv1.RespondRequest
	// connections are the open OpenConnection streams by id: what Publish records
	// for one goes to its channel.
	connections map[string]chan []byte
	// paramHeaders are the param_headers of the last request handled.
	paramHeaders map[string]string

	// Blocked receives one value when a MethodBlock call starts; Unblocked when its
	// context ends (buffered so a test need not read them).
	Blocked   chan struct{}
	Unblocked chan error
}

// New returns a Service knowing KnownSession and KnownSession20250326.
func New() *Service {
	return &Service{
		sessions:    map[string]string{KnownSession: mcpversion.V20251125, KnownSession20250326: mcpversion.V20250326},
		feeds:       map[string][]chan *sessionv1.ListenResponse{},
		connections: map[string]chan []byte{},
		Blocked:     make(chan struct{}, 64),
		Unblocked:   make(chan error, 64),
	}
}

// Notifications lists the methods of the notifications handled so far.
func (s *Service) Notifications() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.notifications...)
}

// ParamHeaders returns the param_headers of the last request handled.
func (s *Service) ParamHeaders() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paramHeaders
}

func (s *Service) known(id string) bool {
	_, ok := s.version(id)
	return ok
}

func (s *Service) version(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.sessions[id]
	return v, ok
}

// Initialize creates a session when params carry a protocolVersion string; it
// negotiates the requested version when stateful, else 2025-11-25.
func (s *Service) Initialize(_ context.Context, req *sessionv1.InitializeRequest) (*sessionv1.InitializeResponse, error) {
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if len(req.GetParams()) == 0 || json.Unmarshal(req.GetParams(), &p) != nil || p.ProtocolVersion == "" {
		return nil, status.Error(codes.InvalidArgument, "protocolVersion is required")
	}
	version := mcpversion.V20251125
	if mcpversion.IsStateful(p.ProtocolVersion) {
		version = p.ProtocolVersion
	}
	s.mu.Lock()
	s.next++
	id := "session-" + strconv.Itoa(s.next)
	if c := req.GetSessionId(); c != "" {
		_, open := s.connections[c]
		_, taken := s.sessions[c]
		if !open || taken {
			s.mu.Unlock()
			return nil, status.Error(codes.FailedPrecondition, "no open connection "+c)
		}
		id = c
	}
	s.sessions[id] = version
	s.mu.Unlock()
	return &sessionv1.InitializeResponse{
		Result:  []byte(`{"protocolVersion":"` + version + `","capabilities":{"tools":{}},"serverInfo":{"name":"sessiontest","version":"1"}}`),
		Session: &sessionv1.Session{Id: id, ProtocolVersion: version},
	}, nil
}

// Handle answers by method; an unknown non-empty session id is NOT_FOUND.
func (s *Service) Handle(req *sessionv1.HandleRequest, stream grpc.ServerStreamingServer[sessionv1.HandleResponse]) error {
	if id := req.GetSessionId(); id != "" && !s.known(id) {
		return status.Error(codes.NotFound, "session not found")
	}
	s.mu.Lock()
	s.paramHeaders = req.GetParamHeaders()
	s.mu.Unlock()
	if req.GetNotification() {
		s.mu.Lock()
		s.notifications = append(s.notifications, req.GetMethod())
		s.mu.Unlock()
		return nil
	}
	result := func(r string) error {
		return stream.Send(&sessionv1.HandleResponse{Event: &sessionv1.HandleResponse_Result{Result: []byte(r)}})
	}
	progress := func() error {
		return stream.Send(&sessionv1.HandleResponse{Event: &sessionv1.HandleResponse_Notification{
			Notification: &sessionv1.Notification{Method: "notifications/progress", Params: []byte(ProgressParams)},
		}})
	}
	switch req.GetMethod() {
	case MethodSlow:
		for range 2 {
			if err := progress(); err != nil {
				return err
			}
		}
		return result(`{"resultType":"complete","done":true}`)
	case MethodToolsCall, MethodPromptsGet, MethodResources:
		return result(`{"resultType":"complete","content":[{"type":"text","text":"ok"}]}`)
	case MethodToolsList:
		return result(`{"resultType":"complete","tools":[],"ttlMs":0,"cacheScope":"private"}`)
	case MethodBadParams:
		return stream.Send(&sessionv1.HandleResponse{Event: &sessionv1.HandleResponse_Error{
			Error: &sessionv1.Error{Code: mcpproto.CodeInvalidParams, Message: "Unknown tool: x", Data: []byte(`{"name":"x"}`)},
		}})
	case MethodUnavailable:
		return status.Error(codes.Unavailable, "provider pool drained: "+SecretDetail)
	case MethodInternal:
		return status.Error(codes.Internal, SecretDetail)
	case MethodPrecondition:
		return status.Error(codes.FailedPrecondition, "session not initialized")
	case MethodNotifyThenFail:
		if err := progress(); err != nil {
			return err
		}
		return status.Error(codes.Unavailable, SecretDetail)
	case MethodNoResult:
		return nil
	case MethodAsk:
		if err := stream.Send(&sessionv1.HandleResponse{Event: &sessionv1.HandleResponse_Request{
			Request: &sessionv1.ServerRequest{Id: []byte(`"q1"`), Method: "roots/list", Params: []byte(`{}`)},
		}}); err != nil {
			return err
		}
		return result(`{"content":[]}`)
	case MethodBlock:
		notify(s.Blocked, struct{}{})
		<-stream.Context().Done()
		notify(s.Unblocked, stream.Context().Err())
		return stream.Context().Err()
	default:
		return stream.Send(&sessionv1.HandleResponse{Event: &sessionv1.HandleResponse_Error{
			Error: &sessionv1.Error{Code: mcpproto.CodeMethodNotFound, Message: "Method not found"},
		}})
	}
}

// GetSession returns a session's id and negotiated version.
func (s *Service) GetSession(_ context.Context, req *sessionv1.GetSessionRequest) (*sessionv1.GetSessionResponse, error) {
	v, ok := s.version(req.GetSessionId())
	if !ok {
		return nil, status.Error(codes.NotFound, "session not found")
	}
	return &sessionv1.GetSessionResponse{Session: &sessionv1.Session{Id: req.GetSessionId(), ProtocolVersion: v}}, nil
}

// DeleteSession forgets a session.
func (s *Service) DeleteSession(_ context.Context, req *sessionv1.DeleteSessionRequest) (*sessionv1.DeleteSessionResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[req.GetSessionId()]; !ok {
		return nil, status.Error(codes.NotFound, "session not found")
	}
	delete(s.sessions, req.GetSessionId())
	for _, feed := range s.feeds[req.GetSessionId()] {
		close(feed)
	}
	delete(s.feeds, req.GetSessionId())
	return &sessionv1.DeleteSessionResponse{}, nil
}

// ListenOpenedID is the event id of the opened event of every Listen stream.
const ListenOpenedID = "s0"

// UnknownRequestID is a server-request id that Respond reports as not delivered.
const UnknownRequestID = `"nobody-waits"`

// Listen sends an opened event, then whatever Publish hands it, until the session is
// deleted or the caller leaves.
func (s *Service) Listen(req *sessionv1.ListenRequest, stream grpc.ServerStreamingServer[sessionv1.ListenResponse]) error {
	feed := make(chan *sessionv1.ListenResponse, 16)
	s.mu.Lock()
	if _, ok := s.sessions[req.GetSessionId()]; !ok {
		s.mu.Unlock()
		return status.Error(codes.NotFound, "session not found")
	}
	s.feeds[req.GetSessionId()] = append(s.feeds[req.GetSessionId()], feed)
	s.mu.Unlock()
	if err := stream.Send(&sessionv1.ListenResponse{EventId: ListenOpenedID, Event: &sessionv1.ListenResponse_Opened{Opened: &sessionv1.ListenOpened{}}}); err != nil {
		return err
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case ev, ok := <-feed:
			if !ok {
				return nil
			}
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
	}
}

// Emit hands ev to the open Listen streams of a session and reports how many
// took it.
func (s *Service) Emit(sessionID string, ev *sessionv1.ListenResponse) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, feed := range s.feeds[sessionID] {
		feed <- ev
	}
	return len(s.feeds[sessionID])
}

// Respond records an answer; UnknownRequestID is not delivered.
func (s *Service) Respond(_ context.Context, req *sessionv1.RespondRequest) (*sessionv1.RespondResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[req.GetSessionId()]; !ok {
		return nil, status.Error(codes.NotFound, "session not found")
	}
	if string(req.GetRequestId()) == UnknownRequestID {
		return &sessionv1.RespondResponse{}, nil
	}
	s.responses = append(s.responses, req)
	return &sessionv1.RespondResponse{Delivered: true}, nil
}

// Responses lists the answers Respond delivered.
func (s *Service) Responses() []*sessionv1.RespondRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*sessionv1.RespondRequest(nil), s.responses...)
}

// notify sends without blocking: nobody has to read the test signals.
func notify[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// OpenConnection reserves "connection-<n>", sends it in an opened event, then every
// message Publish records for it; when the caller leaves, the connection and its
// session end.
func (s *Service) OpenConnection(_ *sessionv1.OpenConnectionRequest, stream grpc.ServerStreamingServer[sessionv1.OpenConnectionResponse]) error {
	feed := make(chan []byte, 64)
	s.mu.Lock()
	s.next++
	id := "connection-" + strconv.Itoa(s.next)
	s.connections[id] = feed
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.connections, id)
		delete(s.sessions, id)
		s.mu.Unlock()
	}()
	if err := stream.Send(&sessionv1.OpenConnectionResponse{Event: &sessionv1.OpenConnectionResponse_Opened{Opened: &sessionv1.ConnectionOpened{SessionId: id}}}); err != nil {
		return err
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case msg := <-feed:
			if err := stream.Send(&sessionv1.OpenConnectionResponse{Event: &sessionv1.OpenConnectionResponse_Message{Message: msg}}); err != nil {
				return err
			}
		}
	}
}

// Publish hands the messages to an open connection's stream; any other id is
// NOT_FOUND.
func (s *Service) Publish(_ context.Context, req *sessionv1.PublishRequest) (*sessionv1.PublishResponse, error) {
	s.mu.Lock()
	feed, ok := s.connections[req.GetSessionId()]
	s.mu.Unlock()
	if !ok {
		return nil, status.Error(codes.NotFound, "no open connection")
	}
	for _, m := range req.GetMessages() {
		feed <- m
	}
	return &sessionv1.PublishResponse{}, nil
}
