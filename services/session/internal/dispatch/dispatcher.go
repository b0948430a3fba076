package dispatch

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"time"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/session/internal/audit"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/fanout"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"github.com/mcpmesh/mcpmesh/services/session/internal/pending"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
	"github.com/mcpmesh/mcpmesh/services/session/internal/store"
	"github.com/mcpmesh/mcpmesh/services/session/internal/tasks"
	"github.com/mcpmesh/mcpmesh/services/session/internal/vserver"
	"google.golang.org/grpc"
)

// Settings are the dispatcher's knobs, taken from the service config.
type Settings struct {
	ServerVersion   string
	ToolCallTimeout time.Duration
	PageSize        int
	CacheTTL        time.Duration
	// RequestStateKey signs the requestState of 2026-07-28 input_required results;
	// empty means a random key for this dispatcher (retries must reach it).
	RequestStateKey []byte
	// RequestStatePreviousKey still verifies (never signs) requestStates during a key
	// rotation, until they expire; empty for none.
	RequestStatePreviousKey []byte
	// RequestStateTTL is how long a requestState stays valid.
	RequestStateTTL time.Duration
}

// Conns hands out connections to providers by address.
type Conns interface {
	Conn(target string) (grpc.ClientConnInterface, error)
}

// Emit sends one event of the request's stream.
type Emit func(*sessionv1.HandleResponse) error

// Request is one decoded MCP message.
type Request struct {
	// Session is nil for the stateless generation.
	Session         *store.Session
	ProtocolVersion string
	Method          string
	Params          []byte
	RequestID       []byte
	Notification    bool
	// NoClient marks a caller that is not an MCP client (the REST API): it cannot
	// answer a provider's input requests, so they fail with ClassNeedsInput instead of
	// becoming an InputRequiredResult.
	NoClient bool
	// ParamHeaders are the Mcp-Param-* headers of a stateless request, by lower-cased
	// name (checked against the tool's x-mcp-header arguments).
	ParamHeaders map[string]string

	// audit is what authorize learnt, for the audit line.
	audit auditNote
}

func (r *Request) stateless() bool {
	return r.Session == nil && mcpversion.IsStateless(r.ProtocolVersion)
}

func (r *Request) sessionID() string {
	if r.Session == nil {
		return ""
	}
	return r.Session.ID
}

// Deps are the dispatcher's collaborators. Catalogue, Store, Conns and Logger are
// required; a nil optional one turns its feature off.
type Deps struct {
	// Catalogue returns the current catalogue snapshot (nil until one is loaded).
	Catalogue func() *catalogue.Snapshot
	Store     store.Store
	Conns     Conns
	Logger    *slog.Logger
	// Guard wraps every provider connection the dispatcher uses, given the provider's
	// name (the session service puts its circuit breakers there). Observation wraps
	// the guard, so calls it refuses are observed too.
	Guard func(provider string, conn grpc.ClientConnInterface) grpc.ClientConnInterface
	// ObserveProviderCalls is told how each provider call ended.
	ObserveProviderCalls ProviderCallObserver
	// Listeners serves subscriptions/listen.
	Listeners *fanout.Hub
	// Pending lets stateful requests wait for client answers; without it a provider's
	// input_required fails for stateful sessions.
	Pending pending.Store
	// CancelPeers asks the other replicas to cancel a call that does not run here
	// (see cancelpeers.go); nil for one replica.
	CancelPeers func(payload string)
	// Tasks runs MCP tasks.
	Tasks *tasks.Runner
	// Policy returns the authorization rules in force; nil (or a nil result) allows
	// everything.
	Policy func() *policy.Policy
	// Audit writes the audit lines; nil writes none.
	Audit *audit.Logger
	// Identity wraps every provider connection so that calls carry the principal's
	// assertion, given the provider's name; nil sends none.
	Identity func(provider string, conn grpc.ClientConnInterface) grpc.ClientConnInterface
	// VirtualServers returns the virtual servers in force; nil (or a nil result) knows
	// none, so a request through one sees nothing.
	VirtualServers func() *vserver.Set
}

// Dispatcher handles requests. It is safe for concurrent use.
type Dispatcher struct {
	settings    Settings
	catalogue   func() *catalogue.Snapshot
	store       store.Store
	conns       Conns
	logger      *slog.Logger
	inflight    inflight
	schemas     schemaCache
	states      stateSigner
	observe     ProviderCallObserver
	guard       func(provider string, conn grpc.ClientConnInterface) grpc.ClientConnInterface
	listeners   *fanout.Hub
	pending     pending.Store
	cancelPeers func(payload string)
	tasks       *tasks.Runner
	// currentPolicy, audit and identity: see Deps.
	currentPolicy func() *policy.Policy
	audit         *audit.Logger
	identity      func(provider string, conn grpc.ClientConnInterface) grpc.ClientConnInterface
	// virtualServers: see Deps.
	virtualServers func() *vserver.Set
}

// New returns a Dispatcher.
func New(settings Settings, deps Deps) *Dispatcher {
	key := settings.RequestStateKey
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
	}
	ttl := settings.RequestStateTTL
	if ttl <= 0 {
		ttl = DefaultRequestStateTTL
	}
	return &Dispatcher{
		settings:      settings,
		catalogue:     deps.Catalogue,
		store:         deps.Store,
		conns:         deps.Conns,
		logger:        deps.Logger,
		inflight:      inflight{calls: map[string]*inflightCall{}},
		states:        stateSigner{key: key, previous: settings.RequestStatePreviousKey, ttl: ttl, now: time.Now},
		observe:       deps.ObserveProviderCalls,
		guard:         deps.Guard,
		listeners:     deps.Listeners,
		pending:       deps.Pending,
		cancelPeers:   deps.CancelPeers,
		tasks:         deps.Tasks,
		currentPolicy: deps.Policy,
		audit:         deps.Audit,
		identity:      deps.Identity,

		virtualServers: deps.VirtualServers,
	}
}

// DefaultRequestStateTTL is the lifetime of a requestState when none is configured.
const DefaultRequestStateTTL = 10 * time.Minute

// Dispatch runs req. A request ends with exactly one result or error event; a
// notification emits nothing. The returned error is for the transport (the client
// went away, the request was cancelled, the stream broke), never a JSON-RPC error.
func (d *Dispatcher) Dispatch(ctx context.Context, req *Request, emit Emit) error {
	if req.Notification {
		d.notify(ctx, req)
		return nil
	}
	result, err := d.call(ctx, req, emit)
	if err != nil {
		var rpcErr *mcpjson.Error
		if errors.As(err, &rpcErr) {
			return emit(&sessionv1.HandleResponse{Event: &sessionv1.HandleResponse_Error{Error: &sessionv1.Error{
				Code: rpcErr.Code, Message: rpcErr.Message, Data: rpcErr.Data,
			}}})
		}
		return err
	}
	return emit(&sessionv1.HandleResponse{Event: &sessionv1.HandleResponse_Result{Result: result}})
}

// Call runs one request for a caller without a stream (see Request.NoClient): the
// notifications it would send are dropped. It returns the result object, or the
// failure: a *mcpjson.Error for what the MCP path answers as a JSON-RPC error, any
// other error for the transport.
func (d *Dispatcher) Call(ctx context.Context, req *Request) ([]byte, error) {
	return d.call(ctx, req, dropEvents)
}

func dropEvents(*sessionv1.HandleResponse) error { return nil }

func (d *Dispatcher) call(ctx context.Context, req *Request, emit Emit) ([]byte, error) {
	switch req.Method {
	case "ping":
		return d.ping(req)
	case "server/discover":
		return d.discover(req)
	case "logging/setLevel":
		return d.setLevel(ctx, req)
	case "tools/list":
		return d.list(ctx, req, ListTools)
	case "resources/list":
		return d.list(ctx, req, ListResources)
	case "resources/templates/list":
		return d.list(ctx, req, ListResourceTemplates)
	case "prompts/list":
		return d.list(ctx, req, ListPrompts)
	case "tools/call":
		return d.audited(ctx, req, true, func() ([]byte, error) { return d.callTool(ctx, req, emit) })
	case "resources/read":
		return d.audited(ctx, req, true, func() ([]byte, error) { return d.readResource(ctx, req, emit) })
	case "prompts/get":
		return d.audited(ctx, req, true, func() ([]byte, error) { return d.getPrompt(ctx, req, emit) })
	case "completion/complete":
		return d.audited(ctx, req, false, func() ([]byte, error) { return d.complete(ctx, req) })
	case "resources/subscribe":
		return d.audited(ctx, req, false, func() ([]byte, error) { return d.subscribe(ctx, req, true) })
	case "resources/unsubscribe":
		return d.subscribe(ctx, req, false)
	case "subscriptions/listen":
		return d.listen(ctx, req, emit)
	case "tasks/get", "tasks/result", "tasks/list", "tasks/cancel", "tasks/update":
		return d.taskMethod(ctx, req, emit)
	default:
		return nil, methodNotFound(req.Method)
	}
}

func methodNotFound(method string) *mcpjson.Error {
	return mcpjson.Errorf(mcpjson.CodeMethodNotFound, "Method not found: %s", method)
}

// result starts a result object: stateless results carry resultType.
func (d *Dispatcher) result(req *Request, capacity int) *mcpjson.Object {
	o := mcpjson.NewObject(make([]byte, 0, capacity))
	if req.stateless() {
		o.String("resultType", "complete")
	}
	return o
}

// cacheHints adds ttlMs and cacheScope, which stateless list and read results require.
// A result the policy decides per caller (a listing filtered for the principal, a
// read the principal was allowed) is "private": a cache shared between callers must
// not hand it to another principal. Without rules (auth.policy's, and those of the
// virtual server the request came through) every caller gets the same answer.
func (d *Dispatcher) cacheHints(ctx context.Context, req *Request, o *mcpjson.Object, perCaller bool) {
	if req.stateless() {
		scope := "public"
		if v := d.view(ctx); perCaller && (!d.policy().Empty() || (v != nil && !v.Policy().Empty())) {
			scope = "private"
		}
		o.Int("ttlMs", d.settings.CacheTTL.Milliseconds()).String("cacheScope", scope)
	}
}

func (d *Dispatcher) ping(req *Request) ([]byte, error) {
	if req.stateless() {
		// 2026-07-28 removed ping: a stateless request is its own liveness check.
		return nil, methodNotFound(req.Method)
	}
	return d.result(req, 32).Bytes(), nil
}
