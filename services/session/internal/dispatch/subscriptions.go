package dispatch

import (
	"context"
	"encoding/json"
	"errors"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/session/internal/fanout"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"github.com/mcpmesh/mcpmesh/services/session/internal/store"
)

// metaSubscriptionID marks every message of a subscriptions/listen stream.
const metaSubscriptionID = mcpproto.MetaSubscriptionID

type subscribeParams struct {
	URI string `json:"uri"`
}

// subscribe handles resources/subscribe and resources/unsubscribe (stateful only: the
// stateless generation has subscriptions/listen instead).
func (d *Dispatcher) subscribe(ctx context.Context, req *Request, on bool) ([]byte, error) {
	if req.Session == nil {
		return nil, methodNotFound(req.Method)
	}
	var p subscribeParams
	if err := decodeParams(req.Method, req.Params, &p); err != nil {
		return nil, err
	}
	if err := requireString(req.Method, "uri", p.URI); err != nil {
		return nil, err
	}
	if !on {
		if err := d.store.Unsubscribe(ctx, req.Session.ID, p.URI); err != nil {
			return nil, err
		}
		return d.result(req, 2).Bytes(), nil
	}
	snap := d.catalogue()
	if snap == nil {
		return nil, errCatalogueNotLoaded
	}
	if _, ok := snap.Resource(p.URI); !ok {
		return nil, resourceNotFound(req, p.URI)
	}
	err := d.store.Subscribe(ctx, req.Session.ID, p.URI)
	if errors.Is(err, store.ErrTooManySubscriptions) {
		return nil, invalidParams("resources/subscribe: this session already has %d subscriptions; unsubscribe from some first", store.MaxSubscriptions)
	}
	if err != nil {
		return nil, err
	}
	return d.result(req, 2).Bytes(), nil
}

// listenParams are the params of subscriptions/listen.
type listenParams struct {
	Notifications *struct {
		ToolsListChanged      bool     `json:"toolsListChanged"`
		PromptsListChanged    bool     `json:"promptsListChanged"`
		ResourcesListChanged  bool     `json:"resourcesListChanged"`
		ResourceSubscriptions []string `json:"resourceSubscriptions"`
	} `json:"notifications"`
}

// maxListenResources bounds the URIs of one subscriptions/listen request.
const maxListenResources = store.MaxSubscriptions

// listen handles subscriptions/listen (2026-07-28): an acknowledgment, then the
// notifications the filter selects, until the client closes the stream. When the
// service stops, the request ends with a completion result (graceful closure).
func (d *Dispatcher) listen(ctx context.Context, req *Request, emit Emit) ([]byte, error) {
	if !req.stateless() || d.listeners == nil {
		return nil, methodNotFound(req.Method)
	}
	var p listenParams
	if err := decodeParams(req.Method, req.Params, &p); err != nil {
		return nil, err
	}
	if p.Notifications == nil {
		return nil, invalidParams("subscriptions/listen: params.notifications is required (for example {\"toolsListChanged\":true})")
	}
	n := p.Notifications
	if len(n.ResourceSubscriptions) > maxListenResources {
		return nil, invalidParams("subscriptions/listen: params.notifications.resourceSubscriptions has more than %d URIs", maxListenResources)
	}
	filter := fanout.Filter{Lists: map[string]bool{}, Resources: make(map[string]bool, len(n.ResourceSubscriptions))}
	filter.Lists[fanout.Tools] = n.ToolsListChanged
	filter.Lists[fanout.Prompts] = n.PromptsListChanged
	filter.Lists[fanout.Resources] = n.ResourcesListChanged
	for _, uri := range n.ResourceSubscriptions {
		if uri == "" {
			return nil, invalidParams("subscriptions/listen: params.notifications.resourceSubscriptions must hold non-empty URIs")
		}
		filter.Resources[uri] = true
	}
	listener, stop := d.listeners.Listen(filter)
	defer stop()

	subID := req.RequestID
	ack := mcpjson.NewObject(nil).
		Raw("_meta", mcpjson.NewObject(nil).Raw(metaSubscriptionID, subID).Bytes()).
		Raw("notifications", acknowledged(n.ToolsListChanged, n.PromptsListChanged, n.ResourcesListChanged, n.ResourceSubscriptions))
	if err := emit(notification("notifications/subscriptions/acknowledged", ack.Bytes())); err != nil {
		return nil, err
	}
	for {
		select {
		case <-ctx.Done():
			return nil, errCancelled
		case notice := <-listener.C():
			if err := emit(listenNotification(subID, notice)); err != nil {
				return nil, err
			}
		case <-listener.Done():
			if listener.Lagged() {
				return nil, mcpjson.Errorf(mcpjson.CodeInternal, "subscriptions/listen: the client fell too far behind the notifications; listen again and re-list")
			}
			meta := mcpjson.NewObject(nil).Raw(metaSubscriptionID, subID).Bytes()
			return d.result(req, 64).Raw("_meta", meta).Bytes(), nil
		}
	}
}

// acknowledged renders the filter the server honours: every type the client asked
// for (all are supported), in the request's shape.
func acknowledged(tools, prompts, resources bool, uris []string) []byte {
	o := mcpjson.NewObject(nil)
	if tools {
		o.Bool("toolsListChanged", true)
	}
	if prompts {
		o.Bool("promptsListChanged", true)
	}
	if resources {
		o.Bool("resourcesListChanged", true)
	}
	if len(uris) > 0 {
		raw, _ := json.Marshal(uris) // strings always marshal
		o.Raw("resourceSubscriptions", raw)
	}
	return o.Bytes()
}

// listenNotification renders a notice for a subscriptions/listen stream.
func listenNotification(subID []byte, n fanout.Notice) *sessionv1.HandleResponse {
	meta := mcpjson.NewObject(nil).Raw(metaSubscriptionID, subID).Bytes()
	o := mcpjson.NewObject(make([]byte, 0, len(meta)+len(n.URI)+32)).Raw("_meta", meta)
	if n.URI != "" {
		o.String("uri", n.URI)
	}
	method, _ := ChangeNotification(n)
	return notification(method, o.Bytes())
}

// ChangeNotification renders a notice as the MCP notification it stands for (params
// without _meta).
func ChangeNotification(n fanout.Notice) (method string, params []byte) {
	if n.URI != "" {
		return "notifications/resources/updated", mcpjson.NewObject(nil).String("uri", n.URI).Bytes()
	}
	return "notifications/" + n.List + "/list_changed", []byte("{}")
}

func notification(method string, params []byte) *sessionv1.HandleResponse {
	return &sessionv1.HandleResponse{Event: &sessionv1.HandleResponse_Notification{Notification: &sessionv1.Notification{
		Method: method, Params: params,
	}}}
}
