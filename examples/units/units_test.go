package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpmesh/mcpmesh/examples/internal/meshtest"
)

func TestMain(m *testing.M) { meshtest.Main(m) }

// TestUnitsThroughTheMesh: the provider registers with a running mesh and an MCP
// client calls its typed tools, sees their derived schemas and their tool errors.
func TestUnitsThroughTheMesh(t *testing.T) {
	mesh := meshtest.Start(t)
	srv, err := newProvider(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mesh.Serve(t, srv)
	tool := mesh.WaitForTool(t, "convert_length")
	schema, _ := json.Marshal(tool.InputSchema)
	var in struct {
		Required   []string
		Properties map[string]struct{ Description string }
	}
	if err := json.Unmarshal(schema, &in); err != nil || fmt.Sprint(in.Required) != "[value from to]" ||
		in.Properties["from"].Description == "" || tool.OutputSchema == nil {
		t.Errorf("convert_length schemas: %s, output %v", schema, tool.OutputSchema)
	}
	mesh.WaitForTool(t, "convert_temperature")
	session := mesh.Connect(t, nil)

	tests := []struct {
		tool      string
		args      map[string]any
		want      string // the structured content, or (a part of) the error text
		wantIsErr bool
	}{
		{"convert_length", map[string]any{"value": 3, "from": "mi", "to": "km"}, `{"unit":"km","value":4.828032}`, false},
		{"convert_temperature", map[string]any{"value": 100, "from": "C", "to": "F"}, `{"unit":"F","value":212}`, false},
		{"convert_length", map[string]any{"value": 1, "from": "cubit", "to": "m"}, "unknown unit: use one of cm, ft, in, km, m, mi, mm, yd", true},
		{"convert_temperature", map[string]any{"value": -500, "from": "C", "to": "K"}, "-500 C is below absolute zero", true},
		// The mesh validates arguments against the derived schema before the call.
		{"convert_length", map[string]any{"value": "three", "from": "m", "to": "km"}, "/value: got string, want number", true},
	}
	for _, tt := range tests {
		res, err := session.CallTool(t.Context(), &mcp.CallToolParams{Name: tt.tool, Arguments: tt.args})
		if err != nil {
			t.Fatalf("%s %v: %v", tt.tool, tt.args, err)
		}
		got := ""
		if tt.wantIsErr {
			if text, ok := res.Content[0].(*mcp.TextContent); ok {
				got = text.Text
			}
		} else {
			b, _ := json.Marshal(res.StructuredContent)
			got = string(b)
		}
		if res.IsError != tt.wantIsErr || !strings.Contains(got, tt.want) {
			t.Errorf("%s %v: isError=%v %s, want isError=%v %s", tt.tool, tt.args, res.IsError, got, tt.wantIsErr, tt.want)
		}
	}
}
