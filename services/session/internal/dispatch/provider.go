package dispatch

import (
	"context"
	"errors"
	"fmt"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/kit/namedservice"
	"github.com/mcpmesh/mcpmesh/services/kit/rpcstatus"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errCancelled ends a request whose client cancelled it or went away: nothing more
// may be sent for it.
var errCancelled = errors.New("request cancelled by the client")

// ErrCancelled reports whether err means the client cancelled the request.
func ErrCancelled(err error) bool { return errors.Is(err, errCancelled) }

var errCatalogueNotLoaded = mcpjson.Errorf(mcpjson.CodeInternal, "catalogue not loaded yet; try again shortly").Classed(mcpjson.ClassUnavailable)

// target names what a provider call is for, for messages.
type target struct {
	kind string // "tool", "prompt", "resource", "completion for"
	name string
}

func (d *Dispatcher) provider(route catalogue.Route) (providerv1.ProviderServiceClient, error) {
	if route.Address == "" {
		return nil, errors.New("provider has no address")
	}
	conn, err := d.conns.Conn(route.Address)
	if err != nil {
		return nil, err
	}
	// One address may serve several providers (a federation replica serves one per
	// upstream): every call names the provider it is for.
	conn = namedservice.Conn(conn, route.Provider)
	if d.identity != nil {
		conn = d.identity(route.Provider, conn)
	}
	if d.guard != nil {
		conn = d.guard(route.Provider, conn)
	}
	if d.observe != nil {
		conn = observedConn{ClientConnInterface: conn, provider: route.Provider, observe: d.observe}
	}
	return providerv1.NewProviderServiceClient(conn), nil
}

// errToolCallTimeout is the cause of a provider call's context when the tool-call
// timeout ended it, which tells it from a client cancellation.
var errToolCallTimeout = errors.New("tool-call timeout")

// startCall prepares the context of one provider call: cancellable by
// notifications/cancelled, bounded by the tool-call timeout. callCtx is what the
// caller checks (with clientCancelled) to tell a client cancellation from a provider
// failure; providerCtx is what the provider call runs under. They are one context
// (one derivation per call instead of two, on the hot path): the timeout is told
// apart by its cause.
func (d *Dispatcher) startCall(ctx context.Context, req *Request) (callCtx, providerCtx context.Context, done func()) {
	callCtx, done = d.inflight.track(ctx, req.sessionID(), req.RequestID, d.settings.ToolCallTimeout)
	return callCtx, callCtx, done
}

// clientCancelled reports whether the call's context ended for another reason than
// the tool-call timeout: notifications/cancelled, or the client going away.
func clientCancelled(callCtx context.Context) bool {
	return callCtx.Err() != nil && !errors.Is(context.Cause(callCtx), errToolCallTimeout)
}

// providerFailure turns a failed provider call into what the client sees. notFound is
// the error for a provider that no longer knows the entry.
func (d *Dispatcher) providerFailure(callCtx context.Context, t target, route catalogue.Route, err error, notFound error) error {
	if clientCancelled(callCtx) {
		return errCancelled
	}
	if e := passedThrough(err); e != nil {
		return e
	}
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.NotFound:
		return notFound
	case codes.InvalidArgument:
		// The provider's own explanation is meant for the caller.
		return invalidParams("%s %s: %s", t.kind, t.name, st.Message())
	case codes.DeadlineExceeded:
		d.logger.WarnContext(callCtx, "provider did not answer in time", "kind", t.kind, "name", t.name,
			"provider", route.Provider, "address", route.Address, "error", err)
		if errors.Is(context.Cause(callCtx), errToolCallTimeout) {
			return mcpjson.Errorf(mcpjson.CodeInternal, "%s %s timed out: provider %s did not answer within %s",
				t.kind, t.name, route.Provider, d.settings.ToolCallTimeout).Classed(mcpjson.ClassTimeout)
		}
		return mcpjson.Errorf(mcpjson.CodeInternal, "%s %s timed out: provider %s did not answer in time",
			t.kind, t.name, route.Provider).Classed(mcpjson.ClassTimeout)
	case codes.Unavailable, codes.Canceled, codes.ResourceExhausted, codes.Unknown:
		d.logger.WarnContext(callCtx, "provider did not answer", "kind", t.kind, "name", t.name,
			"provider", route.Provider, "address", route.Address, "error", err)
		return providerUnavailable(t, route)
	default:
		d.logger.WarnContext(callCtx, "provider failed", "kind", t.kind, "name", t.name,
			"provider", route.Provider, "error", err)
		return mcpjson.Errorf(mcpjson.CodeInternal, "%s %s failed: provider %s returned an error", t.kind, t.name, route.Provider)
	}
}

// passedThrough is the JSON-RPC error a provider's failure carries for the client
// (kit/rpcstatus), when its code is one a provider may answer with: -32021, the caller
// did not declare a capability the request needs (a federated upstream checks the
// capabilities the federation passes in the request's _meta). Its data is kept when it
// is a JSON object. Nil for any other failure, which the gRPC code decides.
func passedThrough(err error) error {
	code, msg, data, ok := rpcstatus.JSONRPC(err)
	if !ok || code != mcpproto.CodeMissingClientCapability {
		return nil
	}
	e := &mcpjson.Error{Code: mcpjson.CodeMissingClientCapability, Message: msg}
	if mcpjson.IsObject(data) {
		e.Data = data
	}
	return e
}

func (d *Dispatcher) unreachable(callCtx context.Context, t target, route catalogue.Route, err error) error {
	d.logger.WarnContext(callCtx, "no connection to provider", "kind", t.kind, "name", t.name,
		"provider", route.Provider, "address", route.Address, "error", err)
	return providerUnavailable(t, route)
}

func inputNotSupported(t target) error {
	return mcpjson.Errorf(mcpjson.CodeInternal, "%s %s needs client input, which only an MCP client can give: call it through /mcp", t.kind, t.name).
		Classed(mcpjson.ClassNeedsInput)
}

func providerUnavailable(t target, route catalogue.Route) error {
	return mcpjson.Errorf(mcpjson.CodeInternal, "%s %s is unavailable: provider %s did not answer", t.kind, t.name, route.Provider).
		Classed(mcpjson.ClassUnavailable)
}

func invalidResult(t target) error {
	return mcpjson.Errorf(mcpjson.CodeInternal, "%s %s returned an invalid result", t.kind, t.name)
}

func unknownTool(name string) error {
	return mcpjson.Errorf(mcpjson.CodeInvalidParams, "Unknown tool: %s", name).Classed(mcpjson.ClassNotFound)
}

func unknownPrompt(name string) error {
	return mcpjson.Errorf(mcpjson.CodeInvalidParams, "Unknown prompt: %s", name).Classed(mcpjson.ClassNotFound)
}

// resourceNotFound is -32002 for the stateful generation and -32602 for the
// stateless one, which must not emit -32002.
func resourceNotFound(req *Request, uri string) error {
	code := mcpjson.CodeResourceNotFound
	if req.stateless() {
		code = mcpjson.CodeInvalidParams
	}
	return (&mcpjson.Error{Code: code, Message: fmt.Sprintf("Resource not found: %s", uri), Class: mcpjson.ClassNotFound}).WithData(map[string]string{"uri": uri})
}
