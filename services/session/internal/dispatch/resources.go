package dispatch

import (
	"context"
	"encoding/json"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

type readResourceParams struct {
	URI  string          `json:"uri"`
	Meta json.RawMessage `json:"_meta"`
	retryParams
}

func (d *Dispatcher) readResource(ctx context.Context, req *Request) ([]byte, error) {
	var p readResourceParams
	if err := decodeParams(req.Method, req.Params, &p); err != nil {
		return nil, err
	}
	if err := requireString(req.Method, "uri", p.URI); err != nil {
		return nil, err
	}
	cc, err := d.newCallContext(req, p.Meta)
	if err != nil {
		return nil, err
	}
	snap := d.catalogue()
	if snap == nil {
		return nil, errCatalogueNotLoaded
	}
	entry, ok := snap.Resource(p.URI)
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
	resp, err := client.ReadResource(providerCtx, &providerv1.ReadResourceRequest{Uri: p.URI, Context: cc.rc})
	if err != nil {
		return nil, d.providerFailure(callCtx, t, entry.Route, err, resourceNotFound(req, p.URI))
	}
	if ir := resp.GetInputRequired(); ir != nil {
		return d.inputRequired(callCtx, req, cc, t, p.URI, ir)
	}
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
	d.cacheHints(req, o)
	return o.Bytes(), nil
}
