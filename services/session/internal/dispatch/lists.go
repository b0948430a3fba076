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

// list serves one page of a catalogue listing: mostly copying pre-rendered bytes.
// Entries the principal may not use are left out (listable); the page still holds up
// to PageSize entries and its cursor continues after the last one shown.
func (d *Dispatcher) list(ctx context.Context, req *Request, entries func(*catalogue.Snapshot) []catalogue.Entry, member string, kind policy.Kind) ([]byte, error) {
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
	after, err := mcpjson.DecodeCursor(cursor)
	if err != nil {
		return nil, invalidParams("%s: invalid cursor; use a nextCursor from an earlier response or none", req.Method)
	}

	var page []catalogue.Entry
	more := false
	if snap := d.catalogue(); snap != nil {
		if p := d.policy(); p.Empty() {
			page, more = catalogue.Page(entries(snap), after, d.settings.PageSize)
		} else {
			who, _ := principal.FromContext(ctx)
			page, more = catalogue.FilteredPage(entries(snap), after, d.settings.PageSize, d.listable(p, who, kind))
		}
	}
	class := catalogue.ClassOf(req.ProtocolVersion)
	size := 128
	for i := range page {
		size += len(page[i].Render(class)) + 1
	}
	o := d.result(req, size).Array(member, len(page), func(i int) []byte { return page[i].Render(class) })
	if more {
		o.String("nextCursor", mcpjson.EncodeCursor(page[len(page)-1].Key))
	}
	d.cacheHints(req, o)
	return o.Bytes(), nil
}
