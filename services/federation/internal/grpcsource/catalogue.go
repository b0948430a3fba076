package grpcsource

import (
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/descriptors"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/protoschema"
)

// tool is one method served as a tool.
type tool struct {
	method protoreflect.MethodDescriptor
	// path is the method's gRPC path, "/pkg.Service/Method".
	path string
	// structured tells whether the response is a JSON object, returned as
	// structuredContent (a stream's aggregate always is).
	structured bool
	def        *mcpv1.Tool
}

// catalogue is one reading of the descriptors turned into tools.
type catalogue struct {
	set   *descriptors.Set
	tools map[string]*tool
	defs  []*mcpv1.Tool
	// skipped are allowed methods that are not tools, with the reason.
	skipped []descriptors.Skipped
}

// prefixSeparator joins a source's prefix and a tool's name, as the federation's
// upstream MCP servers' prefixes do.
const prefixSeparator = "__"

// buildCatalogue names the methods (behind prefix, when set) and derives their
// schemas.
func buildCatalogue(set *descriptors.Set, prefix string) *catalogue {
	c := &catalogue{set: set, tools: map[string]*tool{}, skipped: set.Skipped}
	// A tool is named Service.Method, unless two allowed services share the short
	// name: then every method of theirs goes by its full name.
	services := map[protoreflect.Name]map[protoreflect.FullName]bool{}
	for _, m := range set.Methods {
		svc := m.Parent()
		if services[svc.Name()] == nil {
			services[svc.Name()] = map[protoreflect.FullName]bool{}
		}
		services[svc.Name()][svc.FullName()] = true
	}
	for _, m := range set.Methods {
		svc := m.Parent()
		name := string(svc.Name()) + "." + string(m.Name())
		if len(services[svc.Name()]) > 1 {
			name = string(m.FullName())
		}
		if prefix != "" {
			name = prefix + prefixSeparator + name
		}
		t, err := newTool(name, m)
		if err != nil {
			c.skipped = append(c.skipped, descriptors.Skipped{Method: string(m.FullName()), Reason: err.Error()})
			continue
		}
		c.tools[name] = t
		c.defs = append(c.defs, t.def)
	}
	return c
}

// newTool derives a method's tool definition.
func newTool(name string, m protoreflect.MethodDescriptor) (*tool, error) {
	input, err := protoschema.ForMessage(m.Input(), protoschema.Input)
	if err != nil {
		return nil, fmt.Errorf("the request cannot be tool arguments: %w", err)
	}
	t := &tool{method: m, path: fmt.Sprintf("/%s/%s", m.Parent().FullName(), m.Name())}
	var output map[string]any
	switch {
	case m.IsStreamingServer():
		output, t.structured = protoschema.ForStream(m.Output()), true
	case protoschema.IsObject(m.Output()):
		if output, err = protoschema.ForMessage(m.Output(), protoschema.Output); err != nil {
			return nil, err
		}
		t.structured = true
	}
	t.def = &mcpv1.Tool{Name: name, Description: description(m, t.path)}
	if t.def.InputSchema, err = json.Marshal(input); err != nil {
		return nil, fmt.Errorf("encode input schema: %w", err)
	}
	if output != nil {
		if t.def.OutputSchema, err = json.Marshal(output); err != nil {
			return nil, fmt.Errorf("encode output schema: %w", err)
		}
	}
	if a := annotations(m); a != nil {
		if t.def.Annotations, err = json.Marshal(a); err != nil {
			return nil, fmt.Errorf("encode annotations: %w", err)
		}
	}
	return t, nil
}

// description is the method's comment and what the tool does with the method.
func description(m protoreflect.MethodDescriptor, path string) string {
	var b strings.Builder
	if c := protoschema.Comment(m); c != "" {
		b.WriteString(c)
		b.WriteString("\n\n")
	}
	fmt.Fprintf(&b, "Calls the gRPC method %s.", path)
	if m.IsStreamingServer() {
		b.WriteString(" The method streams its response: each message is reported as progress, and the result lists every message.")
	}
	return b.String()
}

// annotations are the tool hints the method's idempotency_level option gives.
func annotations(m protoreflect.MethodDescriptor) map[string]any {
	opts, ok := m.Options().(*descriptorpb.MethodOptions)
	if !ok {
		return nil
	}
	switch opts.GetIdempotencyLevel() {
	case descriptorpb.MethodOptions_NO_SIDE_EFFECTS:
		return map[string]any{"readOnlyHint": true}
	case descriptorpb.MethodOptions_IDEMPOTENT:
		return map[string]any{"readOnlyHint": false, "idempotentHint": true}
	}
	return nil
}
