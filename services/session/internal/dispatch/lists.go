package dispatch

import (
	"context"
	"encoding/json"

	"github.com/mcpmesh/mcpmesh/services/kit/principal"
	"github.com/mcpmesh/mcpmesh/services/session/internal/policy"

	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

type listParams struct {
	Cursor json.RawMessage `json:"cursor"`
}

// Listing names one of the four catalogue listings.
type Listing int

// The catalogue listings, each served by an MCP method (tools/list,
// resources/list, resources/templates/list, prompts/list) and by a unary List RPC.
const (
	ListTools Listing = iota
	ListResources
	ListResourceTemplates
	ListPrompts
)

// listings describes each Listing: the MCP method, the member of its result, the
// policy kind that filters it and the snapshot's entries.
var listings = [...]struct {
	method  string
	member  string
	kind    policy.Kind
	entries func(*catalogue.Snapshot) []catalogue.Entry
}{
	ListTools:             {"tools/list", "tools", policy.KindTool, func(s *catalogue.Snapshot) []catalogue.Entry { return s.Tools }},
	ListResources:         {"resources/list", "resources", policy.KindResource, func(s *catalogue.Snapshot) []catalogue.Entry { return s.Resources }},
	ListResourceTemplates: {"resources/templates/list", "resourceTemplates", policy.KindResource, func(s *catalogue.Snapshot) []catalogue.Entry { return s.Templates }},
	ListPrompts:           {"prompts/list", "prompts", policy.KindPrompt, func(s *catalogue.Snapshot) []catalogue.Entry { return s.Prompts }},
}

// Method is the MCP method that serves l.
func (l Listing) Method() string { return listings[l].method }

// list serves one page of a catalogue listing: mostly copying pre-rendered bytes.
func (d *Dispatcher) list(ctx context.Context, req *Request, l Listing) ([]byte, error) {
	var p listParams
	if err := decodeParams(req.Method, req.Params, &p); err != nil {
		return nil, err
	}
	cursor := ""
	switch mcpjson.Kind(p.Cursor) {
	case 0, 'n':
	case '"':
		if json.Unmarshal(p.Cursor, &cursor) != nil {
			return nil, invalidParams("%s: params.cursor is not a valid string", req.Method)
		}
	default:
		return nil, invalidParams("%s: params.cursor must be a string", req.Method)
	}
	page, next, err := d.Page(ctx, l, cursor, 0)
	if err != nil {
		return nil, err
	}
	class := catalogue.ClassOf(req.ProtocolVersion)
	size := 128
	for i := range page {
		size += len(page[i].Render(class)) + 1
	}
	o := d.result(req, size).Array(listings[l].member, len(page), func(i int) []byte { return page[i].Render(class) })
	if next != "" {
		o.String("nextCursor", next)
	}
	d.cacheHints(ctx, req, o, true)
	return o.Bytes(), nil
}

// Page is the one place that cuts listings, for the MCP methods and the REST API
// alike: the page of l after cursor (an MCP cursor, "" for the first page) and the
// cursor of the next page ("" on the last). Entries the principal of ctx may not use
// are left out (listable), and so is what the request's virtual server does not select; the page still holds up to size entries (0 or more than
// session.page_size: session.page_size) and its cursor continues after the last one
// shown. A bad cursor is a *mcpjson.Error (invalid params).
func (d *Dispatcher) Page(ctx context.Context, l Listing, cursor string, size int) ([]catalogue.Entry, string, error) {
	after, err := mcpjson.DecodeCursor(cursor)
	if err != nil {
		return nil, "", invalidParams("%s: invalid cursor; use a nextCursor from an earlier response or none", l.Method())
	}
	if size <= 0 || size > d.settings.PageSize {
		size = d.settings.PageSize
	}
	snap := d.catalogue()
	if snap == nil {
		return nil, "", nil
	}
	var (
		page []catalogue.Entry
		more bool
	)
	if p, v := d.policy(), d.view(ctx); p.Empty() && v == nil {
		page, more = catalogue.Page(listings[l].entries(snap), after, size)
	} else {
		who, _ := principal.FromContext(ctx)
		page, more = catalogue.FilteredPage(listings[l].entries(snap), after, size, d.listable(p, v, who, listings[l].kind))
	}
	if !more || len(page) == 0 {
		return page, "", nil
	}
	return page, mcpjson.EncodeCursor(page[len(page)-1].Key), nil
}
