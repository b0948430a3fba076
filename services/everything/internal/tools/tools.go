// Package tools holds the everything provider's tools: their catalogue entries and the
// handlers that run them. Handlers report bad arguments as tool results with isError
// (MCP treats input validation failures as tool errors), and return Go errors only for
// cancellation and genuine failures.
package tools

import (
	"context"
	"fmt"
	"slices"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	"github.com/mcpmesh/mcpmesh/sdk/provider"

	"github.com/mcpmesh/mcpmesh/services/everything/internal/media"
)

// Call is one invocation of a tool.
type Call struct {
	// Name is the tool's name, for messages.
	Name string
	// Arguments is the JSON object of arguments; empty or "null" means none.
	Arguments []byte
	// Context is the caller's request context; it may be nil.
	Context *mcpv1.RequestContext
	// Emit sends progress and log events on the call's stream.
	Emit Emitter
}

// Outcome ends a call: exactly one of Result and InputRequired is set.
type Outcome = provider.Outcome

// Handler runs a tool.
type Handler func(ctx context.Context, call *Call) (Outcome, error)

// Tool is a catalogue entry with its handler.
type Tool struct {
	Def *mcpv1.Tool
	Run Handler
}

// Feature offers the tool through the provider SDK.
func (t Tool) Feature() provider.Feature {
	return provider.RawTool(t.Def, func(ctx context.Context, call *provider.ToolCall) (Outcome, error) {
		return t.Run(ctx, &Call{Name: call.Name, Arguments: call.Arguments, Context: provider.Request(ctx), Emit: ContextEmitter{}})
	})
}

// Set is the provider's tools, by name and in catalogue order.
type Set struct {
	byName map[string]Tool
	defs   []*mcpv1.Tool
}

// NewSet builds every tool. assets supplies the image and audio samples; linked are the
// resources the get-resource-links tool points to; hooks change the provider.
func NewSet(assets media.Assets, linked []*mcpv1.Resource, hooks Hooks) (*Set, error) {
	list, err := catalogue(assets, linked, hooks)
	if err != nil {
		return nil, err
	}
	s := &Set{byName: make(map[string]Tool, len(list))}
	for _, t := range list {
		if _, dup := s.byName[t.Def.GetName()]; dup {
			return nil, fmt.Errorf("tool %q defined twice", t.Def.GetName())
		}
		s.byName[t.Def.GetName()] = t
		s.defs = append(s.defs, t.Def)
	}
	return s, nil
}

// Lookup finds a tool by name.
func (s *Set) Lookup(name string) (Tool, bool) {
	t, ok := s.byName[name]
	return t, ok
}

// Feature offers the tool called name; nil when there is none.
func (s *Set) Feature(name string) provider.Feature {
	t, ok := s.byName[name]
	if !ok {
		return nil
	}
	return t.Feature()
}

// Features offers every tool but those named in hidden, in catalogue order.
func (s *Set) Features(hidden ...string) []provider.Feature {
	var out []provider.Feature
	for _, def := range s.defs {
		if !slices.Contains(hidden, def.GetName()) {
			out = append(out, s.byName[def.GetName()].Feature())
		}
	}
	return out
}

// result wraps content in a successful outcome.
func result(content []byte) Outcome {
	return Outcome{Result: &mcpv1.ToolResult{Content: content}}
}

// textResult is a successful outcome with one text block.
func textResult(text string) (Outcome, error) {
	c, err := contentText(text)
	if err != nil {
		return Outcome{}, err
	}
	return result(c), nil
}

// errorResult is an isError outcome with one text block explaining the failure.
func errorResult(text string) (Outcome, error) {
	c, err := contentText(text)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Result: &mcpv1.ToolResult{Content: c, IsError: true}}, nil
}
