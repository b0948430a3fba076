package catalogue

import (
	"encoding/json"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// defaultInputSchema stands in for a missing or malformed input schema: MCP requires
// an object schema on every tool.
var defaultInputSchema = []byte(`{"type":"object"}`)

// rawOf returns b when it is valid JSON whose kind is want ('{' or '['), else nil, so
// one provider's bad bytes cannot corrupt a whole listing.
func rawOf(b []byte, want byte) []byte {
	if len(b) == 0 || mcpjson.Kind(b) != want || !json.Valid(b) {
		return nil
	}
	return b
}

func renderTool(exposed string, t *mcpv1.Tool, c Class) []byte {
	o := mcpjson.NewObject(make([]byte, 0, 256)).String("name", exposed)
	if c.hasTitleAndMeta() {
		o.StringIf("title", t.GetTitle())
	}
	o.StringIf("description", t.GetDescription())
	schema := rawOf(t.GetInputSchema(), '{')
	if schema == nil {
		schema = defaultInputSchema
	}
	o.Raw("inputSchema", schema)
	if c.hasTitleAndMeta() {
		o.RawIf("outputSchema", rawOf(t.GetOutputSchema(), '{'))
	}
	o.RawIf("annotations", rawOf(t.GetAnnotations(), '{'))
	if c.hasIcons() {
		o.RawIf("icons", rawOf(t.GetIcons(), '['))
	}
	if c.hasTitleAndMeta() {
		o.RawIf("_meta", rawOf(t.GetMeta(), '{'))
	}
	if c.hasExecution() {
		o.RawIf("execution", rawOf(t.GetExecution(), '{'))
	}
	return o.Bytes()
}

func renderResource(r *mcpv1.Resource, c Class) []byte {
	o := mcpjson.NewObject(make([]byte, 0, 160)).String("uri", r.GetUri()).String("name", r.GetName())
	if c.hasTitleAndMeta() {
		o.StringIf("title", r.GetTitle())
	}
	o.StringIf("description", r.GetDescription()).StringIf("mimeType", r.GetMimeType())
	if r.GetSize() > 0 {
		o.Int("size", r.GetSize())
	}
	o.RawIf("annotations", rawOf(r.GetAnnotations(), '{'))
	if c.hasIcons() {
		o.RawIf("icons", rawOf(r.GetIcons(), '['))
	}
	if c.hasTitleAndMeta() {
		o.RawIf("_meta", rawOf(r.GetMeta(), '{'))
	}
	return o.Bytes()
}

func renderTemplate(t *mcpv1.ResourceTemplate, c Class) []byte {
	o := mcpjson.NewObject(make([]byte, 0, 160)).String("uriTemplate", t.GetUriTemplate()).String("name", t.GetName())
	if c.hasTitleAndMeta() {
		o.StringIf("title", t.GetTitle())
	}
	o.StringIf("description", t.GetDescription()).StringIf("mimeType", t.GetMimeType())
	o.RawIf("annotations", rawOf(t.GetAnnotations(), '{'))
	if c.hasIcons() {
		o.RawIf("icons", rawOf(t.GetIcons(), '['))
	}
	if c.hasTitleAndMeta() {
		o.RawIf("_meta", rawOf(t.GetMeta(), '{'))
	}
	return o.Bytes()
}

func renderPrompt(exposed string, p *mcpv1.Prompt, c Class) []byte {
	o := mcpjson.NewObject(make([]byte, 0, 160)).String("name", exposed)
	if c.hasTitleAndMeta() {
		o.StringIf("title", p.GetTitle())
	}
	o.StringIf("description", p.GetDescription())
	if args := p.GetArguments(); len(args) > 0 {
		list := make([]byte, 0, 64*len(args))
		list = append(list, '[')
		for i, a := range args {
			if i > 0 {
				list = append(list, ',')
			}
			ao := mcpjson.NewObject(nil).String("name", a.GetName())
			if c.hasTitleAndMeta() {
				ao.StringIf("title", a.GetTitle())
			}
			ao.StringIf("description", a.GetDescription())
			if a.GetRequired() {
				ao.Bool("required", true)
			}
			list = append(list, ao.Bytes()...)
		}
		o.Raw("arguments", append(list, ']'))
	}
	if c.hasIcons() {
		o.RawIf("icons", rawOf(p.GetIcons(), '['))
	}
	if c.hasTitleAndMeta() {
		o.RawIf("_meta", rawOf(p.GetMeta(), '{'))
	}
	return o.Bytes()
}
