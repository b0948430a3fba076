package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"google.golang.org/grpc"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/jsonenc"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/kit/paramheader"
	"github.com/mcpmesh/mcpmesh/services/kit/streamend"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
)

type callToolParams struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Meta      json.RawMessage `json:"_meta"`
	Task      json.RawMessage `json:"task"`
	retryParams
}

func (d *Dispatcher) callTool(ctx context.Context, req *Request, emit Emit) ([]byte, error) {
	var p callToolParams
	cc, snap, err := d.begin(req, &p)
	if err != nil {
		return nil, err
	}
	args, err := argumentsObject(req.Method, p.Arguments)
	if err != nil {
		return nil, err
	}
	entry, ok := snap.Tool(p.Name)
	entry, ok = d.visible(ctx, policy.KindTool, p.Name, entry, ok)
	if err := d.authorize(ctx, req, policy.KindTool, p.Name, entryIf(entry, ok), args); err != nil {
		return nil, err
	}
	if !ok {
		return nil, unknownTool(p.Name)
	}
	t := target{kind: "tool", name: p.Name}
	// Arguments are checked before any provider work (and before a requestState is
	// accepted, so a bad retry says what is wrong with its arguments first).
	schemas := d.schemas.get(ctx, d.logger, snap.Revision, entry)
	if err := checkParamHeaders(req, schemas, args); err != nil {
		return nil, err
	}
	if err := d.checkArguments(schemas, p.Name, args); err != nil {
		return d.argumentsRejected(req, t, err)
	}
	if err := d.applyRetry(req, cc, p.Name, &p.retryParams); err != nil {
		return nil, err
	}
	if task, ttl, err := d.asTask(req, cc, entry, p.Name, p.Task); err != nil {
		return nil, err
	} else if task {
		return d.startToolTask(ctx, req, ttl, toolTask{req: *req, entry: entry.Route, target: t, name: p.Name, args: args, cc: cc, schemas: schemas})
	}

	callCtx, providerCtx, done := d.startCall(ctx, req)
	defer done()
	client, err := d.provider(entry.Route)
	if err != nil {
		return nil, d.unreachable(callCtx, t, entry.Route, err)
	}
	call := func() (*mcpv1.ToolResult, *mcpv1.InputRequired, error) {
		return d.runTool(callCtx, providerCtx, client, entry.Route, t, p.Name, args, cc, schemas, emit)
	}
	return withClientInput(d, callCtx, req, cc, t, p.Name, emit, call, func(r *mcpv1.ToolResult) ([]byte, error) {
		return d.toolResult(req, t, r)
	})
}

// runTool makes one provider call and relays its progress and log events: it ends
// with a checked result, or the provider's input_required.
func (d *Dispatcher) runTool(callCtx, providerCtx context.Context, client providerv1.ProviderServiceClient, route catalogue.Route,
	t target, name string, args []byte, cc *callContext, schemas *toolSchemas, emit Emit) (*mcpv1.ToolResult, *mcpv1.InputRequired, error) {
	stream, err := client.CallTool(providerCtx, &providerv1.CallToolRequest{Name: route.Name, Arguments: args, Context: cc.rc})
	if err != nil {
		return nil, nil, d.providerFailure(callCtx, t, route, err, unknownTool(name))
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				d.logger.WarnContext(callCtx, "provider ended a tool call without a result", "tool", name, "provider", route.Provider)
				return nil, nil, invalidResult(t)
			}
			return nil, nil, d.providerFailure(callCtx, t, route, err, unknownTool(name))
		}
		switch e := ev.GetEvent().(type) {
		case *providerv1.CallToolResponse_Progress:
			if cc.progressToken == nil {
				continue
			}
			if err := emit(progressNotification(cc.progressToken, e.Progress)); err != nil {
				return nil, nil, err
			}
		case *providerv1.CallToolResponse_Log:
			if !mcpjson.LogAllowed(e.Log.GetLevel(), cc.logLevel) {
				continue
			}
			if err := emit(logNotification(e.Log)); err != nil {
				return nil, nil, err
			}
		case *providerv1.CallToolResponse_Result:
			d.readEnd(callCtx, stream, route)
			// Tool errors (isError) need not match the output schema.
			if !e.Result.GetIsError() {
				if err := d.checkStructured(callCtx, schemas, t, route, e.Result.GetStructuredContent()); err != nil {
					return nil, nil, err
				}
			}
			return e.Result, nil, nil
		case *providerv1.CallToolResponse_InputRequired:
			d.readEnd(callCtx, stream, route)
			return nil, e.InputRequired, nil
		}
	}
}

// readEnd reads the end of a tool call's stream once its last event (the result or
// input_required) has arrived, so that the call ends as the provider ended it rather
// than as CANCELLED by the session leaving (kit/streamend). A provider that sends more
// breaks the stream's contract: logged, and the stream is left (the call's context
// ends it).
func (d *Dispatcher) readEnd(ctx context.Context, stream grpc.ServerStreamingClient[providerv1.CallToolResponse], route catalogue.Route) {
	if err := streamend.Read(stream.Recv); err != nil && ctx.Err() == nil {
		d.logger.DebugContext(ctx, "the provider's tool call stream did not end after its last event", "provider", route.Provider, "error", err)
	}
}

func (d *Dispatcher) toolResult(req *Request, t target, r *mcpv1.ToolResult) ([]byte, error) {
	content := r.GetContent()
	switch mcpjson.Kind(content) {
	case 0:
		content = []byte("[]")
	case '[':
		if !json.Valid(content) {
			return nil, invalidResult(t)
		}
	default:
		return nil, invalidResult(t)
	}
	o := d.result(req, len(content)+len(r.GetStructuredContent())+64).Raw("content", content)
	if sc := r.GetStructuredContent(); len(sc) > 0 && mcpversion.AtLeast(req.ProtocolVersion, mcpversion.V20250618) {
		// Before 2026 structuredContent must be an object; the stateless generation
		// allows any JSON value.
		if json.Valid(sc) && (req.stateless() || mcpjson.IsObject(sc)) {
			o.Raw("structuredContent", sc)
		}
	}
	if r.GetIsError() {
		o.Bool("isError", true)
	}
	if m := r.GetMeta(); mcpjson.IsObject(m) && json.Valid(m) {
		o.Raw("_meta", m)
	}
	return o.Bytes(), nil
}

func progressNotification(token json.RawMessage, p *mcpv1.Progress) *sessionv1.HandleResponse {
	o := mcpjson.NewObject(make([]byte, 0, 96)).Raw("progressToken", token).Float("progress", p.GetProgress())
	if p.GetTotal() != 0 {
		o.Float("total", p.GetTotal())
	}
	o.StringIf("message", p.GetMessage())
	return &sessionv1.HandleResponse{Event: &sessionv1.HandleResponse_Notification{Notification: &sessionv1.Notification{
		Method: "notifications/progress", Params: o.Bytes(),
	}}}
}

func logNotification(l *mcpv1.LogMessage) *sessionv1.HandleResponse {
	data := l.GetData()
	if len(data) == 0 {
		data = []byte("null")
	} else if !json.Valid(data) {
		data = jsonenc.AppendString(nil, string(data))
	}
	o := mcpjson.NewObject(make([]byte, 0, len(data)+64)).String("level", l.GetLevel()).StringIf("logger", l.GetLogger()).Raw("data", data)
	return &sessionv1.HandleResponse{Event: &sessionv1.HandleResponse_Notification{Notification: &sessionv1.Notification{
		Method: "notifications/message", Params: o.Bytes(),
	}}}
}

// checkParamHeaders compares the Mcp-Param-* headers of a stateless tools/call with the
// arguments its tool annotates with x-mcp-header (SEP-2243): -32020 (HTTP 400) when a
// header is missing, malformed or different from the body.
func checkParamHeaders(req *Request, schemas *toolSchemas, args []byte) error {
	if !req.stateless() || schemas == nil || len(schemas.headers) == 0 {
		return nil
	}
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(args, &obj) // an object: argumentsObject checked it
	if msg := paramheader.Check(schemas.headers, obj, req.ParamHeaders); msg != "" {
		return &mcpjson.Error{Code: mcpjson.CodeHeaderMismatch, Message: msg}
	}
	return nil
}
