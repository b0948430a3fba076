package dispatch

import (
	"context"
	"encoding/json"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
)

type readResourceParams struct {
	URI  string          `json:"uri"`
	Meta json.RawMessage `json:"_meta"`
	retryParams
}

func (d *Dispatcher) readResource(ctx context.Context, req *Request, emit Emit) ([]byte, error) {
	var p readResourceParams
	cc, snap, err := d.begin(req, &p)
	if err != nil {
		return nil, err
	}
	entry, ok := snap.Resource(p.URI)
	entry, ok = d.visible(ctx, policy.KindResource, p.URI, entry, ok)
	if err := d.authorize(ctx, req, policy.KindResource, p.URI, entryIf(entry, ok), nil); err != nil {
		return nil, err
	}
	if !ok {
		return nil, resourceNotFound(req, p.URI)
	}
	t := target{kind: "resource", name: p.URI}
	if err := d.applyRetry(req, cc, p.URI, &p.retryParams); err != nil {
		return nil, err
	}
	callCtx, providerCtx, done := d.startCall(ctx, req)
	defer done()
	client, err := d.provider(entry.Route)
	if err != nil {
		return nil, d.unreachable(callCtx, t, entry.Route, err)
	}
	call := func() (*providerv1.ReadResourceResponse, *mcpv1.InputRequired, error) {
		resp, err := client.ReadResource(providerCtx, &providerv1.ReadResourceRequest{Uri: p.URI, Context: cc.rc})
		if err != nil {
			return nil, nil, d.providerFailure(callCtx, t, entry.Route, err, resourceNotFound(req, p.URI))
		}
		return resp, resp.GetInputRequired(), nil
	}
	return withClientInput(d, callCtx, req, cc, t, p.URI, emit, call, func(resp *providerv1.ReadResourceResponse) ([]byte, error) {
		return d.resourceResult(callCtx, req, t, resp)
	})
}

func (d *Dispatcher) resourceResult(ctx context.Context, req *Request, t target, resp *providerv1.ReadResourceResponse) ([]byte, error) {
	contents := resp.GetContents()
	if len(contents) == 0 {
		contents = []byte("[]")
	}
	if mcpjson.Kind(contents) != '[' || !json.Valid(contents) {
		return nil, invalidResult(t)
	}
	o := d.result(req, len(contents)+96).Raw("contents", contents)
	if m := resp.GetMeta(); mcpjson.IsObject(m) && json.Valid(m) {
		o.Raw("_meta", m)
	}
	d.cacheHints(ctx, req, o, true)
	return o.Bytes(), nil
}
