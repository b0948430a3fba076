package stdio

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// headerParamPrefix starts the headers that mirror annotated tool arguments.
const headerParamPrefix = "Mcp-Param-"

// paramBinding mirrors the tool argument at path into the header Mcp-Param-<header>.
type paramBinding struct {
	path   []string
	header string
}

// paramHeaders remembers, from the 2026-07-28 tools/list answers the client received,
// which tool arguments carry an x-mcp-header annotation, so that a later tools/call
// mirrors them into Mcp-Param-* headers as that generation's HTTP clients must.
type paramHeaders struct {
	mu     sync.Mutex
	byTool map[string][]paramBinding
}

// learn reads the tools of a tools/list result.
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
		p.byTool = map[string][]paramBinding{}
	}
	for _, tool := range r.Tools {
		bindings, ok := bindingsOf(tool.InputSchema)
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

// schemaNode is the part of a JSON Schema that x-mcp-header annotations live in.
type schemaNode struct {
	Type       json.RawMessage            `json:"type"`
	XMCPHeader json.RawMessage            `json:"x-mcp-header"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// bindingsOf collects the annotations reachable from the schema root through
// "properties" only. ok is false when an annotation is not a valid header name,
// repeats another one (case-insensitively) or sits on a property whose type is not
// string, integer or boolean: such a tool gets no bindings at all.
func bindingsOf(schema json.RawMessage) (bindings []paramBinding, ok bool) {
	var root schemaNode
	if len(schema) == 0 || json.Unmarshal(schema, &root) != nil {
		return nil, true
	}
	ok = true
	seen := map[string]bool{}
	var walk func(props map[string]json.RawMessage, prefix []string)
	walk = func(props map[string]json.RawMessage, prefix []string) {
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			var n schemaNode
			if json.Unmarshal(props[name], &n) != nil {
				continue
			}
			path := append(slices.Clone(prefix), name)
			if len(n.XMCPHeader) > 0 {
				header, isString := jsonString(n.XMCPHeader)
				key := strings.ToLower(header)
				if !isString || header == "" || !validHeaderName(header) || seen[key] || !headerType(n.Type) {
					ok = false
				} else {
					seen[key] = true
					bindings = append(bindings, paramBinding{path: path, header: header})
				}
			}
			walk(n.Properties, path)
		}
	}
	walk(root.Properties, nil)
	if !ok {
		return nil, false
	}
	return bindings, true
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
		if raw, found := lookupArgument(args, b.path); found {
			if v, ok := headerScalar(raw); ok {
				h.Set(headerParamPrefix+b.header, encodeHeaderValue(v))
			}
		}
	}
}

func lookupArgument(args map[string]json.RawMessage, path []string) (json.RawMessage, bool) {
	cur, ok := args[path[0]]
	for _, part := range path[1:] {
		if !ok {
			return nil, false
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(cur, &obj) != nil {
			return nil, false
		}
		cur, ok = obj[part]
	}
	return cur, ok
}

// headerScalar renders a string, integer or boolean argument as the spec says; other
// values (numbers with fractions, null, objects, arrays) are not mirrored.
func headerScalar(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return "", false
	case raw[0] == '"':
		return jsonString(raw)
	case string(raw) == "true" || string(raw) == "false":
		return string(raw), true
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		if bytes.ContainsAny(raw, ".eE") {
			return "", false
		}
		return string(raw), true
	}
	return "", false
}

// headerType reports whether a property of this JSON Schema type may be mirrored.
func headerType(t json.RawMessage) bool {
	if len(t) == 0 {
		return true // untyped: the value decides at call time
	}
	s, ok := jsonString(t)
	return ok && (s == "string" || s == "integer" || s == "boolean")
}
