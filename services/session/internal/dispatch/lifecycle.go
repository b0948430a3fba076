package dispatch

import (
	"context"
	"encoding/json"

	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// serverCapabilities is what mcpmesh offers, in every generation: list_changed for
// every list and resource subscriptions (resources/subscribe in the stateful
// generation, subscriptions/listen in the stateless one). With tasks enabled,
// 2025-11-25 sessions also get the tasks capability and server/discover the tasks
// extension.
var serverCapabilities = []byte(`{"tools":{"listChanged":true},"resources":{"subscribe":true,"listChanged":true},"prompts":{"listChanged":true},"logging":{},"completions":{}}`)

var (
	capabilitiesWithTasks     = []byte(`{"tools":{"listChanged":true},"resources":{"subscribe":true,"listChanged":true},"prompts":{"listChanged":true},"logging":{},"completions":{},"tasks":{"list":{},"cancel":{},"requests":{"tools":{"call":{}}}}}`)
	capabilitiesWithExtension = []byte(`{"tools":{"listChanged":true},"resources":{"subscribe":true,"listChanged":true},"prompts":{"listChanged":true},"logging":{},"completions":{},"extensions":{"` + extensionTasks + `":{}}}`)
)

// capabilities returns the capabilities for a version: the tasks capability exists
// only in 2025-11-25, the tasks extension only in the stateless generation.
func (d *Dispatcher) capabilities(version string) []byte {
	switch {
	case d.tasks == nil:
		return serverCapabilities
	case version == mcpversion.V20251125:
		return capabilitiesWithTasks
	case mcpversion.IsStateless(version):
		return capabilitiesWithExtension
	}
	return serverCapabilities
}

// ServerCapabilities returns the capabilities object (callers must not modify it).
func ServerCapabilities() []byte { return serverCapabilities }

// serverInfo renders the Implementation object for version.
func (d *Dispatcher) serverInfo(version string) []byte {
	o := mcpjson.NewObject(make([]byte, 0, 64)).String("name", "mcpmesh")
	if catalogue.ClassOf(version) >= catalogue.Class20250618 {
		o.String("title", "mcpmesh")
	}
	return o.String("version", d.settings.ServerVersion).Bytes()
}

func (d *Dispatcher) instructions() string {
	if snap := d.catalogue(); snap != nil {
		return snap.Instructions
	}
	return ""
}

// InitializeResult renders the InitializeResult for a negotiated version.
func (d *Dispatcher) InitializeResult(version string) []byte {
	return mcpjson.NewObject(make([]byte, 0, 512)).
		String("protocolVersion", version).
		Raw("capabilities", d.capabilities(version)).
		Raw("serverInfo", d.serverInfo(version)).
		StringIf("instructions", d.instructions()).
		Bytes()
}

func (d *Dispatcher) discover(req *Request) ([]byte, error) {
	if !req.stateless() {
		return nil, methodNotFound(req.Method)
	}
	versions, _ := json.Marshal(mcpversion.All)
	meta := mcpjson.NewObject(nil).Raw(metaServerInfo, d.serverInfo(req.ProtocolVersion)).Bytes()
	o := d.result(req, 512).
		Raw("supportedVersions", versions).
		Raw("capabilities", d.capabilities(req.ProtocolVersion)).
		StringIf("instructions", d.instructions()).
		Raw("_meta", meta)
	d.cacheHints(context.Background(), req, o, false)
	return o.Bytes(), nil
}

func (d *Dispatcher) setLevel(ctx context.Context, req *Request) ([]byte, error) {
	if req.Session == nil {
		// The stateless generation sends the level in every request's _meta.
		return nil, methodNotFound(req.Method)
	}
	var p struct {
		Level json.RawMessage `json:"level"`
	}
	if err := decodeParams(req.Method, req.Params, &p); err != nil {
		return nil, err
	}
	var level string
	if mcpjson.Kind(p.Level) != '"' || json.Unmarshal(p.Level, &level) != nil {
		return nil, invalidParams("logging/setLevel: params.level is required and must be a string")
	}
	if _, ok := mcpjson.LogSeverity(level); !ok {
		return nil, invalidParams("logging/setLevel: unknown level %q; use debug, info, notice, warning, error, critical, alert or emergency", level)
	}
	if err := d.store.SetLogLevel(ctx, req.Session.ID, level); err != nil {
		return nil, err
	}
	return d.result(req, 32).Bytes(), nil
}

// notify handles a notification. Notifications have no answer, so problems are only
// logged.
func (d *Dispatcher) notify(ctx context.Context, req *Request) {
	if req.Session == nil {
		// The stateless generation defines no client notifications over HTTP; a closed
		// stream is the cancellation.
		return
	}
	switch req.Method {
	case "notifications/initialized":
		if err := d.store.MarkInitialized(ctx, req.Session.ID); err != nil {
			d.logger.DebugContext(ctx, "mark session initialized", "error", err)
		}
	case "notifications/cancelled":
		var p struct {
			RequestID json.RawMessage `json:"requestId"`
		}
		if decodeParams(req.Method, req.Params, &p) != nil {
			return
		}
		d.cancelHereOrOnPeers(req.Session.ID, p.RequestID)
	}
}
