package dispatch

import (
	"context"
	"encoding/json"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
)

type getPromptParams struct {
	Name      string            `json:"name"`
	Arguments map[string]string `json:"arguments"`
	Meta      json.RawMessage   `json:"_meta"`
	retryParams
}

func (d *Dispatcher) getPrompt(ctx context.Context, req *Request, emit Emit) ([]byte, error) {
	var p getPromptParams
	cc, snap, err := d.begin(req, &p)
	if err != nil {
		return nil, err
	}
	entry, ok := snap.Prompt(p.Name)
	entry, ok = d.visible(ctx, policy.KindPrompt, p.Name, entry, ok)
	if err := d.authorize(ctx, req, policy.KindPrompt, p.Name, entryIf(entry, ok), promptArguments(p.Arguments)); err != nil {
		return nil, err
	}
	if !ok {
		return nil, unknownPrompt(p.Name)
	}
	t := target{kind: "prompt", name: p.Name}
	if err := d.applyRetry(req, cc, p.Name, &p.retryParams); err != nil {
		return nil, err
	}
	callCtx, providerCtx, done := d.startCall(ctx, req)
	defer done()
	client, err := d.provider(entry.Route)
	if err != nil {
		return nil, d.unreachable(callCtx, t, entry.Route, err)
	}
	call := func() (*providerv1.GetPromptResponse, *mcpv1.InputRequired, error) {
		resp, err := client.GetPrompt(providerCtx, &providerv1.GetPromptRequest{Name: entry.Route.Name, Arguments: p.Arguments, Context: cc.rc})
		if err != nil {
			return nil, nil, d.providerFailure(callCtx, t, entry.Route, err, unknownPrompt(p.Name))
		}
		return resp, resp.GetInputRequired(), nil
	}
	return withClientInput(d, callCtx, req, cc, t, p.Name, emit, call, func(resp *providerv1.GetPromptResponse) ([]byte, error) {
		return d.promptResult(req, t, resp)
	})
}

func (d *Dispatcher) promptResult(req *Request, t target, resp *providerv1.GetPromptResponse) ([]byte, error) {
	messages := resp.GetMessages()
	if len(messages) == 0 {
		messages = []byte("[]")
	}
	if mcpjson.Kind(messages) != '[' || !json.Valid(messages) {
		return nil, invalidResult(t)
	}
	o := d.result(req, len(messages)+128).StringIf("description", resp.GetDescription()).Raw("messages", messages)
	if m := resp.GetMeta(); mcpjson.IsObject(m) && json.Valid(m) {
		o.Raw("_meta", m)
	}
	return o.Bytes(), nil
}
