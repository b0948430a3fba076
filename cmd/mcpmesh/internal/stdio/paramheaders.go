package stdio

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/mcpmesh/mcpmesh/services/kit/paramheader"
)

// headerParamPrefix starts the headers that mirror annotated tool arguments.
const headerParamPrefix = paramheader.Prefix

// paramHeaders remembers, from the 2026-07-28 tools/list answers the client received,
// which tool arguments carry an x-mcp-header annotation, so that a later tools/call
// mirrors them into Mcp-Param-* headers as that generation's HTTP clients must.
type paramHeaders struct {
	mu     sync.Mutex
	byTool map[string][]paramheader.Binding
}

// learn reads the tools of a tools/list result; it returns the tools whose annotations
// are invalid (they get no headers).
func (p *paramHeaders) learn(result json.RawMessage) (invalid []string) {
	var r struct {
		Tools []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		} `json:"tools"`
	}
	if json.Unmarshal(result, &r) != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byTool == nil {
		p.byTool = map[string][]paramheader.Binding{}
	}
	for _, tool := range r.Tools {
		bindings, ok := paramheader.Bindings(tool.InputSchema)
		if !ok {
			invalid = append(invalid, tool.Name)
		}
		if len(bindings) == 0 {
			delete(p.byTool, tool.Name)
			continue
		}
		p.byTool[tool.Name] = bindings
	}
	return invalid
}

// apply sets the Mcp-Param-* headers of a tools/call with these arguments.
func (p *paramHeaders) apply(h http.Header, tool string, arguments json.RawMessage) {
	p.mu.Lock()
	bindings := p.byTool[tool]
	p.mu.Unlock()
	if len(bindings) == 0 || len(arguments) == 0 {
		return
	}
	var args map[string]json.RawMessage
	if json.Unmarshal(arguments, &args) != nil {
		return
	}
	for _, b := range bindings {
		if v, found := b.Value(args); found {
			h.Set(headerParamPrefix+b.Header, paramheader.Encode(v))
		}
	}
}
