package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"

	"github.com/mcpmesh/mcpmesh/sdk/provider/content"
)

// ToolCall is one invocation of a tool as a RawTool handler sees it. Progress, Log,
// Request and InputResponse work on the handler's context.
type ToolCall struct {
	// Name is the tool's name.
	Name string
	// Arguments is the JSON object of arguments; empty or "null" means none. The mesh
	// has validated it against the input schema.
	Arguments json.RawMessage
}

// Outcome ends a RawTool call: exactly one of Result and InputRequired is set.
type Outcome struct {
	Result        *mcpv1.ToolResult
	InputRequired *mcpv1.InputRequired
}

// ToolHandler runs a raw tool. A returned *InputRequired or *ToolError becomes the
// outcome it stands for; any other error fails the call (see ErrNotFound).
type ToolHandler func(ctx context.Context, call *ToolCall) (Outcome, error)

// toolFeature is a catalogue entry with its handler.
type toolFeature struct {
	def *mcpv1.Tool
	run ToolHandler
	err error // from building the entry, reported by New or Add
}

func (t *toolFeature) addTo(c *catalogue) error {
	if t.err != nil {
		return t.err
	}
	return c.addTool(t)
}

// RawTool offers a tool from its catalogue entry (schemas as JSON) and a handler that
// decodes the arguments itself: for hand-written schemas and exact control over results.
func RawTool(def *mcpv1.Tool, run ToolHandler) Feature {
	t := &toolFeature{def: def, run: run}
	switch {
	case def.GetName() == "":
		t.err = errors.New("tool: a name is required")
	case run == nil:
		t.err = fmt.Errorf("tool %s: a handler is required", def.GetName())
	case len(def.GetInputSchema()) == 0:
		t.err = fmt.Errorf("tool %s: an input schema is required", def.GetName())
	}
	return t
}

// Result is what a typed tool may return for full control of the result: content
// blocks (content.Text, content.Image, ...), structured content, isError.
type Result struct {
	Content    []any
	Structured any
	IsError    bool
}

// TextResult returns a result with one text block.
func TextResult(text string) *Result { return &Result{Content: []any{content.Text(text)}} }

// encode turns r into the mesh's ToolResult.
func (r *Result) encode() (*mcpv1.ToolResult, error) {
	blocks := r.Content
	if blocks == nil {
		blocks = []any{}
	}
	c, err := content.Blocks(blocks...)
	if err != nil {
		return nil, err
	}
	out := &mcpv1.ToolResult{Content: c, IsError: r.IsError}
	if r.Structured != nil {
		if out.StructuredContent, err = json.Marshal(r.Structured); err != nil {
			return nil, fmt.Errorf("encode structured content: %w", err)
		}
	}
	return out, nil
}

// ToolOption sets an optional field of a tool's catalogue entry.
type ToolOption func(*mcpv1.Tool) error

// WithTitle sets the tool's human-readable title.
func WithTitle(title string) ToolOption {
	return func(t *mcpv1.Tool) error { t.Title = title; return nil }
}

// ToolAnnotations are MCP's hints about a tool's behaviour.
type ToolAnnotations struct {
	ReadOnlyHint    *bool `json:"readOnlyHint,omitempty"`
	DestructiveHint *bool `json:"destructiveHint,omitempty"`
	IdempotentHint  *bool `json:"idempotentHint,omitempty"`
	OpenWorldHint   *bool `json:"openWorldHint,omitempty"`
}

// WithAnnotations sets the tool's behaviour hints.
func WithAnnotations(a ToolAnnotations) ToolOption {
	return func(t *mcpv1.Tool) (err error) {
		t.Annotations, err = json.Marshal(a)
		return err
	}
}

// WithInputSchema replaces the derived input schema (a JSON Schema object, as JSON).
func WithInputSchema(schema json.RawMessage) ToolOption {
	return func(t *mcpv1.Tool) error { t.InputSchema = schema; return nil }
}

// WithOutputSchema replaces the derived output schema (nil: none).
func WithOutputSchema(schema json.RawMessage) ToolOption {
	return func(t *mcpv1.Tool) error { t.OutputSchema = schema; return nil }
}

// Tool offers a typed tool: the mesh validates the arguments against the JSON Schema
// derived from In, and fn receives them decoded. What fn returns becomes the result:
// a string is one text block; a *Result is taken as it is; any other value is the
// structured content (described by the schema derived from Out) and, as JSON, one text
// block for clients that ignore structured content. An error becomes what it stands for
// (*ToolError, *InputRequired, ErrNotFound...).
func Tool[In, Out any](name, description string, fn func(ctx context.Context, in In) (Out, error), opts ...ToolOption) Feature {
	def := &mcpv1.Tool{Name: name, Description: description}
	t := &toolFeature{def: def}
	if fn == nil {
		t.err = fmt.Errorf("tool %s: a handler is required", name)
		return t
	}
	var err error
	if def.InputSchema, err = inputSchema[In](); err != nil {
		t.err = fmt.Errorf("tool %s: input schema: %w", name, err)
		return t
	}
	if def.OutputSchema, err = outputSchema[Out](); err != nil {
		t.err = fmt.Errorf("tool %s: output schema: %w", name, err)
		return t
	}
	for _, o := range opts {
		if err := o(def); err != nil {
			t.err = fmt.Errorf("tool %s: %w", name, err)
			return t
		}
	}
	t.run = func(ctx context.Context, call *ToolCall) (Outcome, error) {
		var in In
		if err := DecodeArguments(call.Arguments, &in); err != nil {
			return Outcome{}, Errorf("Invalid arguments for tool %s: %s", call.Name, err)
		}
		out, err := fn(ctx, in)
		if err != nil {
			return Outcome{}, err
		}
		res, err := typedResult(out)
		if err != nil {
			return Outcome{}, fmt.Errorf("tool %s: %w", call.Name, err)
		}
		return Outcome{Result: res}, nil
	}
	return t
}

// typedResult turns a typed tool's return value into a result.
func typedResult(out any) (*mcpv1.ToolResult, error) {
	switch v := out.(type) {
	case *Result:
		if v == nil {
			return nil, errors.New("returned a nil *Result")
		}
		return v.encode()
	case string:
		return TextResult(v).encode()
	}
	structured, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return (&Result{Content: []any{content.Text(string(structured))}, Structured: json.RawMessage(structured)}).encode()
}
