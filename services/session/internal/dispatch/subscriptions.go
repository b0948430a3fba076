package dispatch

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"strconv"

	sessionv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/session/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpproto"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/fanout"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"
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
	entry, ok := snap.Resource(p.URI)
	entry, ok = d.visible(ctx, policy.KindResource, p.URI, entry, ok)
	// Updates of a resource tell about it: subscribing needs the permission to read it.
	if err := d.authorize(ctx, req, policy.KindResource, p.URI, entryIf(entry, ok), nil); err != nil {
		return nil, err
	}
	if !ok {
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
		// TaskIDs follows tasks of the tasks extension (mcpmesh's filter member: the
		// extension leaves it open): notifications/tasks on each change of their status.
		TaskIDs []string `json:"taskIds"`
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
	// Updates of a resource tell about it: following one needs the permission to read
	// it, as resources/subscribe does (and answers alike for a refused and an unknown URI).
	if len(n.ResourceSubscriptions) > 0 {
		snap := d.catalogue()
		for _, uri := range n.ResourceSubscriptions {
			var entry *catalogue.Entry
			if snap != nil {
				e, ok := snap.Resource(uri)
				entry = entryIf(d.visible(ctx, policy.KindResource, uri, e, ok))
			}
			if err := d.authorize(ctx, req, policy.KindResource, uri, entry, nil); err != nil {
				return nil, err
			}
		}
	}
	if len(n.TaskIDs) > maxListenResources {
		return nil, invalidParams("subscriptions/listen: params.notifications.taskIds has more than %d ids", maxListenResources)
	}
	var taskIDs []string
	if d.tasks != nil && len(n.TaskIDs) > 0 {
		filter.Tasks = make(map[string]bool, len(n.TaskIDs))
		for _, id := range n.TaskIDs {
			filter.Tasks[id] = true
		}
		taskIDs = n.TaskIDs
	}
	listener, stop := d.listeners.Listen(filter)
	defer stop()

	subID := req.RequestID
	ack := mcpjson.NewObject(nil).
		Raw("_meta", mcpjson.NewObject(nil).Raw(metaSubscriptionID, subID).Bytes()).
		Raw("notifications", acknowledged(n.ToolsListChanged, n.PromptsListChanged, n.ResourcesListChanged, n.ResourceSubscriptions, taskIDs))
	if err := emit(notification("notifications/subscriptions/acknowledged", ack.Bytes())); err != nil {
		return nil, err
	}
	// The status each followed task was last reported in: a change is heard once from
	// this replica and once more through the database, and is sent once.
	reported := map[string]string{}
	for {
		select {
		case <-ctx.Done():
			return nil, errCancelled
		case notice := <-listener.C():
			ev := listenNotification(subID, notice)
			if notice.Task != "" {
				if ev = d.taskNotification(ctx, subID, notice.Task, reported); ev == nil {
					continue
				}
			}
			if err := emit(ev); err != nil {
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
func acknowledged(tools, prompts, resources bool, uris, taskIDs []string) []byte {
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
	if len(taskIDs) > 0 {
		raw, _ := json.Marshal(taskIDs) // strings always marshal
		o.Raw("taskIds", raw)
	}
	return o.Bytes()
}

// taskNotification renders notifications/tasks for a followed task whose status
// changed since the last report: the DetailedTask of tasks/get (with the result, error
// or pending inputRequests inlined). nil when there is nothing new to say, or the task
// is gone, belongs to a stateful session (whose GET stream has its own notices) or to
// another principal than the listener's (whose task is never found, as in findTask).
func (d *Dispatcher) taskNotification(ctx context.Context, subID []byte, id string, reported map[string]string) *sessionv1.HandleResponse {
	t, err := d.tasks.Store().Get(ctx, id)
	if err != nil || t.SessionID != "" || subtle.ConstantTimeCompare([]byte(t.Owner), []byte(OwnerOf(ctx))) != 1 {
		return nil
	}
	state := string(t.Status) + "/" + strconv.FormatInt(t.UpdatedUnixMs, 10)
	if reported[id] == state {
		return nil
	}
	reported[id] = state
	meta := mcpjson.NewObject(nil).Raw(metaSubscriptionID, subID).Bytes()
	params := mcpjson.NewObject(make([]byte, 0, 256+len(t.Result)+len(t.InputRequests))).Raw("_meta", meta)
	return notification("notifications/tasks", renderDetail(renderTask(params, &t, true), &t).Bytes())
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
