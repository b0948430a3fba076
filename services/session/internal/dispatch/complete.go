package dispatch

import (
	"context"
	"encoding/json"
	"github.com/mcpmesh/mcpmesh/services/kit/jsonenc"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
)

// maxCompletionValues is the most values a CompleteResult may carry.
const maxCompletionValues = 100

type completeParams struct {
	Ref struct {
		Type string `json:"type"`
		Name string `json:"name"`
		URI  string `json:"uri"`
	} `json:"ref"`
	Argument struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"argument"`
	Context struct {
		Arguments map[string]string `json:"arguments"`
	} `json:"context"`
	Meta json.RawMessage `json:"_meta"`
}

func (d *Dispatcher) complete(ctx context.Context, req *Request) ([]byte, error) {
	var p completeParams
	cc, snap, err := d.begin(req, &p)
	if err != nil {
		return nil, err
	}
	var (
		entry    *catalogue.Entry
		ok       bool
		ref      []byte
		t        target
		notFound error
	)
	switch p.Ref.Type {
	case "ref/prompt":
		t = target{kind: "completion for prompt", name: p.Ref.Name}
		notFound = unknownPrompt(p.Ref.Name)
		if entry, ok = snap.Prompt(p.Ref.Name); ok {
			// The provider knows the prompt by its own name.
			ref = mcpjson.NewObject(nil).String("type", "ref/prompt").String("name", entry.Route.Name).Bytes()
		}
	case "ref/resource":
		t = target{kind: "completion for resource", name: p.Ref.URI}
		notFound = resourceNotFound(req, p.Ref.URI)
		if entry, ok = snap.Template(p.Ref.URI); !ok {
			entry, ok = snap.Resource(p.Ref.URI)
		}
		ref = mcpjson.NewObject(nil).String("type", "ref/resource").String("uri", p.Ref.URI).Bytes()
	default:
		return nil, invalidParams("completion/complete: params.ref.type must be ref/prompt or ref/resource")
	}
	// Completing an argument reveals what the capability offers: it needs the same
	// permission as using it.
	kind, name := policy.KindPrompt, p.Ref.Name
	if p.Ref.Type == "ref/resource" {
		kind, name = policy.KindResource, p.Ref.URI
	}
	entry, ok = d.visible(ctx, kind, name, entry, ok)
	if err := d.authorize(ctx, req, kind, name, entryIf(entry, ok), promptArguments(p.Context.Arguments)); err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound
	}
	callCtx, providerCtx, done := d.startCall(ctx, req)
	defer done()
	client, err := d.provider(entry.Route)
	if err != nil {
		return nil, d.unreachable(callCtx, t, entry.Route, err)
	}
	resp, err := client.Complete(providerCtx, &providerv1.CompleteRequest{
		Ref: ref, ArgumentName: p.Argument.Name, ArgumentValue: p.Argument.Value,
		ContextArguments: p.Context.Arguments, Context: cc.rc,
	})
	if err != nil {
		return nil, d.providerFailure(callCtx, t, entry.Route, err, notFound)
	}
	values, hasMore := resp.GetValues(), resp.GetHasMore()
	if len(values) > maxCompletionValues {
		values, hasMore = values[:maxCompletionValues], true
	}
	list := make([]byte, 0, 16*len(values)+2)
	list = append(list, '[')
	for i, v := range values {
		if i > 0 {
			list = append(list, ',')
		}
		list = jsonenc.AppendString(list, v)
	}
	list = append(list, ']')
	completion := mcpjson.NewObject(make([]byte, 0, len(list)+48)).Raw("values", list)
	if resp.GetTotal() > 0 {
		completion.Int("total", int64(resp.GetTotal()))
	}
	completion.Bool("hasMore", hasMore)
	return d.result(req, len(list)+96).Raw("completion", completion.Bytes()).Bytes(), nil
}
