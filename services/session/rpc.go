package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/session/internal/dispatch"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"github.com/mcpmesh/mcpmesh/services/session/internal/store"
	"google.golang.org/grpc"
)

// maxClientObject bounds clientInfo and capabilities, which are kept in the session
// record for its whole life.
const maxClientObject = 8 << 10

const (
	methodInitialize    = "/mcpmesh.session.v1.SessionService/Initialize"
	methodHandle        = "/mcpmesh.session.v1.SessionService/Handle"
	methodGetSession    = "/mcpmesh.session.v1.SessionService/GetSession"
	methodDeleteSession = "/mcpmesh.session.v1.SessionService/DeleteSession"
	methodListen        = "/mcpmesh.session.v1.SessionService/Listen"
	methodRespond       = "/mcpmesh.session.v1.SessionService/Respond"
)

// Initialize negotiates a version and creates a session.
func (s *Service) Initialize(ctx context.Context, req *sessionv1.InitializeRequest) (*sessionv1.InitializeResponse, error) {
	resp, err := s.initialize(ctx, req.GetParams(), req.GetSessionId())
	return resp, s.toStatus(ctx, methodInitialize, err)
}

type initializeParams struct {
	ProtocolVersion json.RawMessage `json:"protocolVersion"`
	Capabilities    json.RawMessage `json:"capabilities"`
	ClientInfo      json.RawMessage `json:"clientInfo"`
}

// initialize creates the session; connectionID, when set, is the id an open
// 2024-11-05 connection reserved for it.
func (s *Service) initialize(ctx context.Context, params []byte, connectionID string) (*sessionv1.InitializeResponse, error) {
	requested, caps, info, err := parseInitialize(params)
	if err != nil {
		return nil, err
	}
	version := mcpversion.Negotiate(requested)
	id, err := s.sessionIDFor(ctx, connectionID)
	if err != nil {
		return nil, err
	}
	nowMs := s.now().UnixMilli()
	rec := store.Session{
		ID:                 id,
		ProtocolVersion:    version,
		ClientInfo:         info,
		ClientCapabilities: caps,
		CreatedUnixMs:      nowMs,
		LastSeenUnixMs:     nowMs,
		Owner:              ownerOf(ctx),
	}
	if err := s.backend.Store.Create(ctx, rec); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, public(errConnectionNotOpen, "the connection %s is initialized already", id)
		}
		return nil, err
	}
	return &sessionv1.InitializeResponse{
		Result:  s.backend.Dispatcher.InitializeResult(version),
		Session: sessionProto(rec),
	}, nil
}

// parseInitialize checks the InitializeRequest params and reports every problem.
func parseInitialize(params []byte) (version string, caps, info []byte, err error) {
	if mcpjson.Kind(params) != '{' {
		return "", nil, nil, public(errInvalidRequest, "initialize: params must be a JSON object with protocolVersion, capabilities and clientInfo")
	}
	var p initializeParams
	if json.Unmarshal(params, &p) != nil {
		return "", nil, nil, public(errInvalidRequest, "initialize: params are not valid JSON")
	}
	var problems []string
	if mcpjson.Kind(p.ProtocolVersion) != '"' || json.Unmarshal(p.ProtocolVersion, &version) != nil || version == "" {
		problems = append(problems, `params.protocolVersion is required and must be a string such as "`+mcpversion.LatestStateful+`"`)
	}
	caps, capsProblem := compactObject("capabilities", p.Capabilities)
	if capsProblem != "" {
		problems = append(problems, capsProblem)
	}
	info, infoProblem := compactObject("clientInfo", p.ClientInfo)
	if infoProblem != "" {
		problems = append(problems, infoProblem)
	}
	if len(problems) > 0 {
		return "", nil, nil, public(errInvalidRequest, "initialize: %s", strings.Join(problems, "; "))
	}
	return version, caps, info, nil
}

// compactObject returns a compact copy of a required JSON object member, or a
// problem description.
func compactObject(member string, v json.RawMessage) ([]byte, string) {
	if mcpjson.Kind(v) != '{' {
		return nil, "params." + member + " is required and must be a JSON object"
	}
	var buf bytes.Buffer
	buf.Grow(len(v))
	if json.Compact(&buf, v) != nil {
		return nil, "params." + member + " is not valid JSON"
	}
	if buf.Len() > maxClientObject {
		return nil, "params." + member + " is too large (over 8 KiB)"
	}
	return buf.Bytes(), ""
}

// newSessionID returns 128 random bits, base64url-encoded: visible ASCII as the
// transport requires.
func newSessionID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func sessionProto(s store.Session) *sessionv1.Session {
	return &sessionv1.Session{
		Id:                 s.ID,
		ProtocolVersion:    s.ProtocolVersion,
		ClientInfo:         s.ClientInfo,
		ClientCapabilities: s.ClientCapabilities,
		LogLevel:           s.LogLevel,
		Initialized:        s.Initialized,
		CreatedUnixMs:      s.CreatedUnixMs,
		LastSeenUnixMs:     s.LastSeenUnixMs,
	}
}

// Handle runs one request or notification.
func (s *Service) Handle(req *sessionv1.HandleRequest, stream grpc.ServerStreamingServer[sessionv1.HandleResponse]) error {
	ctx := stream.Context()
	_, err := s.handle(ctx, req, stream.Send)
	return s.toStatus(ctx, methodHandle, err)
}

// handle runs req and returns the protocol version it ran under: the request's, or
// its session's when it named none (for the metrics).
func (s *Service) handle(ctx context.Context, req *sessionv1.HandleRequest, send dispatch.Emit) (version string, err error) {
	dreq := dispatch.Request{
		ProtocolVersion: req.GetProtocolVersion(),
		Method:          req.GetMethod(),
		Params:          req.GetParams(),
		RequestID:       req.GetRequestId(),
		Notification:    req.GetNotification(),
		ParamHeaders:    req.GetParamHeaders(),
	}
	if id := req.GetSessionId(); id != "" {
		sess, err := s.loadSession(ctx, id)
		if err != nil {
			return req.GetProtocolVersion(), err
		}
		// The transport already rejected unsupported versions. A different stateful
		// version is accepted (the official conformance suite sends one) and the
		// session keeps the version it negotiated; only a stateless version cannot
		// address a stateful session.
		if v := req.GetProtocolVersion(); v != "" && v != sess.ProtocolVersion && !mcpversion.IsStateful(v) {
			return v, public(errVersionMismatch, "protocol version %s cannot be used with this session, which negotiated %s", v, sess.ProtocolVersion)
		}
		dreq.Session = &sess
		dreq.ProtocolVersion = sess.ProtocolVersion
	} else {
		switch v := req.GetProtocolVersion(); {
		case v == "":
			return v, public(errInvalidRequest, "protocol_version is required for a request without a session")
		case !mcpversion.IsSupported(v):
			return v, public(errInvalidRequest, "protocol version %s is not supported; supported: %s", v, strings.Join(mcpversion.All, ", "))
		}
	}
	return dreq.ProtocolVersion, s.backend.Dispatcher.Dispatch(ctx, &dreq, send)
}

// loadSession fetches a session and records activity, writing last-seen at most once
// per touchEvery.
func (s *Service) loadSession(ctx context.Context, id string) (store.Session, error) {
	sess, err := s.getOwned(ctx, id)
	if err != nil {
		return store.Session{}, notFound(id, err)
	}
	now := s.now()
	if now.UnixMilli()-sess.LastSeenUnixMs >= s.touchEvery.Milliseconds() {
		if err := s.backend.Store.Touch(ctx, id, now); err != nil {
			return store.Session{}, notFound(id, err)
		}
		sess.LastSeenUnixMs = now.UnixMilli()
	}
	return sess, nil
}

func notFound(id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return public(store.ErrNotFound, "session %s not found", id)
	}
	return err
}

// GetSession returns a session record.
func (s *Service) GetSession(ctx context.Context, req *sessionv1.GetSessionRequest) (*sessionv1.GetSessionResponse, error) {
	if req.GetSessionId() == "" {
		return nil, s.toStatus(ctx, methodGetSession, public(errInvalidRequest, "session_id is required"))
	}
	sess, err := s.getOwned(ctx, req.GetSessionId())
	if err != nil {
		return nil, s.toStatus(ctx, methodGetSession, notFound(req.GetSessionId(), err))
	}
	return &sessionv1.GetSessionResponse{Session: sessionProto(sess)}, nil
}

// DeleteSession ends a session; later requests for it get NotFound.
func (s *Service) DeleteSession(ctx context.Context, req *sessionv1.DeleteSessionRequest) (*sessionv1.DeleteSessionResponse, error) {
	if req.GetSessionId() == "" {
		return nil, s.toStatus(ctx, methodDeleteSession, public(errInvalidRequest, "session_id is required"))
	}
	// Only the owner may end a session; checked first, then deleted (a session that
	// expires in between is simply not found).
	if _, err := s.getOwned(ctx, req.GetSessionId()); err != nil {
		return nil, s.toStatus(ctx, methodDeleteSession, notFound(req.GetSessionId(), err))
	}
	if err := s.backend.Store.Delete(ctx, req.GetSessionId()); err != nil {
		return nil, s.toStatus(ctx, methodDeleteSession, notFound(req.GetSessionId(), err))
	}
	// The session is gone either way; its events only wait for the sweep if this fails.
	if err := s.backend.Events.Forget(ctx, req.GetSessionId()); err != nil {
		s.logger.WarnContext(ctx, "forget the events of a deleted session", "error", err)
	}
	return &sessionv1.DeleteSessionResponse{}, nil
}
