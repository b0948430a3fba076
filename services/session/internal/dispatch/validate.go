package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	"github.com/mcpmesh/mcpmesh/services/kit/mcpversion"
	"github.com/mcpmesh/mcpmesh/services/kit/paramheader"
	"github.com/mcpmesh/mcpmesh/services/session/internal/catalogue"
	"github.com/mcpmesh/mcpmesh/services/session/internal/mcpjson"
)

// schemaURL names the one resource of each compiler; $ref resolves within it.
const schemaURL = "urn:mcpmesh:tool-schema"

// errNoLoader refuses every $ref outside the schema: a registry entry must never make
// the session read files or fetch URLs.
var errNoLoader = errors.New("references outside the schema are not resolved")

type noLoader struct{}

func (noLoader) Load(string) (any, error) { return nil, errNoLoader }

// toolSchemas are one tool's compiled schemas, compiled on first use. A nil schema
// means "do not validate": absent, or failed to compile (logged once).
type toolSchemas struct {
	once   sync.Once
	input  *jsonschema.Schema
	output *jsonschema.Schema
	// headers are the arguments the tool mirrors into Mcp-Param-* headers (x-mcp-header,
	// 2026-07-28); nil for most tools, and for a tool whose annotations are invalid.
	headers []paramheader.Binding
}

// schemaCache holds the compiled schemas of the current catalogue revision, by exposed
// tool name. Another revision replaces the whole cache, so a changed tool is
// recompiled and removed tools are forgotten.
type schemaCache struct {
	mu       sync.RWMutex
	revision int64
	tools    map[string]*toolSchemas
}

// get returns the compiled schemas of a tool in snapshot revision rev.
func (c *schemaCache) get(ctx context.Context, logger *slog.Logger, rev int64, e *catalogue.Entry) *toolSchemas {
	if e.InputSchema == nil && e.OutputSchema == nil {
		return nil
	}
	c.mu.RLock()
	ts := c.tools[e.Key]
	current := c.revision == rev && c.tools != nil
	c.mu.RUnlock()
	if ts == nil || !current {
		c.mu.Lock()
		// Any other revision starts a new cache: revisions normally grow, but a
		// restarted in-memory registry starts again from 1. (A request still holding the
		// previous snapshot during a change costs one extra compilation.)
		if rev != c.revision || c.tools == nil {
			c.revision, c.tools = rev, map[string]*toolSchemas{}
		}
		if ts = c.tools[e.Key]; ts == nil {
			ts = &toolSchemas{}
			c.tools[e.Key] = ts
		}
		c.mu.Unlock()
	}
	ts.once.Do(func() {
		ts.input = compileOrLog(ctx, logger, e, "inputSchema", e.InputSchema)
		ts.output = compileOrLog(ctx, logger, e, "outputSchema", e.OutputSchema)
		var ok bool
		if ts.headers, ok = paramheader.Bindings(e.InputSchema); !ok {
			// Clients must drop such a tool; the session does not check its headers.
			logger.WarnContext(ctx, "tool schema has invalid x-mcp-header annotations; its Mcp-Param headers are not checked",
				"tool", e.Key, "provider", e.Route.Provider)
		}
	})
	return ts
}

func compileOrLog(ctx context.Context, logger *slog.Logger, e *catalogue.Entry, member string, raw []byte) *jsonschema.Schema {
	if raw == nil {
		return nil
	}
	s, err := compileSchema(raw)
	if err != nil {
		// The registry's data must never block a tool: call it without validation.
		logger.WarnContext(ctx, "tool schema does not compile; calls are not validated against it",
			"tool", e.Key, "provider", e.Route.Provider, "member", member, "error", err)
		return nil
	}
	return s
}

// compileSchema compiles one schema: JSON Schema 2020-12 unless $schema names another
// draft, $ref resolved only within the document.
func compileSchema(raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("add schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return s, nil
}

// violation is the first failing keyword of a validation.
type violation struct {
	Path    string `json:"instancePath"`
	Keyword string `json:"keyword,omitempty"`
	detail  string
}

// validateJSON checks raw JSON against s; nil when it conforms.
func validateJSON(s *jsonschema.Schema, raw []byte) *violation {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return &violation{Path: "", detail: "not valid JSON"}
	}
	err = s.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &violation{detail: err.Error()}
	}
	// The first leaf is the most specific failure (the root only says "validation failed").
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	v := &violation{Path: instancePath(ve.InstanceLocation), detail: ve.ErrorKind.LocalizedString(messagePrinter)}
	if kw := ve.ErrorKind.KeywordPath(); len(kw) > 0 {
		v.Keyword = kw[len(kw)-1]
	}
	return v
}

// messagePrinter renders the validator's messages in English.
var messagePrinter = message.NewPrinter(language.English)

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// instancePath renders a JSON Pointer ("" is the whole value).
func instancePath(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(pointerEscaper.Replace(t))
	}
	return b.String()
}

func (v *violation) where() string {
	if v.Path == "" {
		return "(root)"
	}
	return v.Path
}

// invalidArguments is -32602 with the failing path and keyword (the error that
// argumentsRejected turns into a tool result where the client's version asks for one).
func invalidArguments(tool string, v *violation) error {
	msg := fmt.Sprintf("invalid arguments for tool %s: %s: %s", tool, v.where(), v.detail)
	if v.Keyword != "" {
		msg += " (keyword " + v.Keyword + ")"
	}
	return (&mcpjson.Error{Code: mcpjson.CodeInvalidParams, Message: msg}).WithData(v)
}

// argumentsRejected answers a call whose arguments do not match the tool's input
// schema. From 2025-11-25 on, the specification makes input validation errors tool
// execution errors (a result with isError, SEP-1303) so that a model can correct its
// call; earlier versions keep the -32602 protocol error, and so does a caller that is
// not an MCP client (REST answers it with HTTP 400). The message is the same in every
// case, and no provider work has started.
func (d *Dispatcher) argumentsRejected(req *Request, t target, err error) ([]byte, error) {
	var rpcErr *mcpjson.Error
	if req.NoClient || !mcpversion.AtLeast(req.ProtocolVersion, mcpversion.V20251125) || !errors.As(err, &rpcErr) {
		return nil, err
	}
	content, merr := json.Marshal([]textContent{{Type: "text", Text: rpcErr.Message}})
	if merr != nil {
		return nil, fmt.Errorf("encode the argument error of tool %s: %w", t.name, merr)
	}
	return d.toolResult(req, t, &mcpv1.ToolResult{Content: content, IsError: true})
}

// textContent is a text content block.
type textContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// checkArguments validates a call's arguments against the tool's input schema.
func (d *Dispatcher) checkArguments(ts *toolSchemas, tool string, args []byte) error {
	if ts == nil || ts.input == nil {
		return nil
	}
	if v := validateJSON(ts.input, args); v != nil {
		return invalidArguments(tool, v)
	}
	return nil
}

// checkStructured validates a result's structuredContent against the tool's output
// schema. Non-conforming content is the provider's bug: the client gets -32603 and
// the detail goes to the log.
func (d *Dispatcher) checkStructured(ctx context.Context, ts *toolSchemas, t target, route catalogue.Route, sc []byte) error {
	if ts == nil || ts.output == nil || len(sc) == 0 {
		return nil
	}
	v := validateJSON(ts.output, sc)
	if v == nil {
		return nil
	}
	d.logger.WarnContext(ctx, "tool returned structured content that does not match its outputSchema",
		"tool", t.name, "provider", route.Provider, "instance_path", v.Path, "keyword", v.Keyword, "detail", v.detail)
	return mcpjson.Errorf(mcpjson.CodeInternal, "tool %s returned structured content that does not match its outputSchema", t.name)
}
