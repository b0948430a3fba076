package everything

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image/png"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"

	"github.com/mcpmesh/mcpmesh/services/everything/internal/tools"
)

func checkPNG(t *testing.T, b64 string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("image data is not base64: %v", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("image is not a PNG: %v", err)
	}
	if cfg.Width == 0 || cfg.Height == 0 {
		t.Fatalf("empty PNG: %+v", cfg)
	}
}

func checkWAV(t *testing.T, b64 string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("audio data is not base64: %v", err)
	}
	if len(raw) <= 44 || string(raw[0:4]) != "RIFF" || string(raw[8:12]) != "WAVE" || string(raw[12:16]) != "fmt " || string(raw[36:40]) != "data" {
		t.Fatalf("audio is not a RIFF/WAVE file: % x", raw[:min(len(raw), 44)])
	}
}

func TestCallToolResults(t *testing.T) {
	c, _ := serve(t)
	tests := []struct {
		name  string
		tool  string
		args  string
		check func(t *testing.T, res *mcpv1.ToolResult, blocks []block)
	}{
		{"echo", "echo", `{"message":"hello, world"}`, func(t *testing.T, _ *mcpv1.ToolResult, b []block) {
			if len(b) != 1 || b[0].Type != "text" || b[0].Text != "Echo: hello, world" {
				t.Errorf("got %+v", b)
			}
		}},
		{"echo escapes JSON", "echo", `{"message":"quote \" and <tag> and \u00e9"}`, func(t *testing.T, _ *mcpv1.ToolResult, b []block) {
			if b[0].Text != "Echo: quote \" and <tag> and é" {
				t.Errorf("got %q", b[0].Text)
			}
		}},
		{"add", "add", `{"a":1,"b":2.5}`, func(t *testing.T, res *mcpv1.ToolResult, b []block) {
			if string(res.GetStructuredContent()) != `{"sum":3.5}` {
				t.Errorf("structured content %s", res.GetStructuredContent())
			}
			if len(b) != 1 || b[0].Text != `{"sum":3.5}` {
				t.Errorf("text %+v", b)
			}
		}},
		{"get-image", "get-image", ``, func(t *testing.T, _ *mcpv1.ToolResult, b []block) {
			if b[0].Type != "image" || b[0].MimeType != "image/png" {
				t.Fatalf("got %+v", b[0])
			}
			checkPNG(t, b[0].Data)
		}},
		{"test_image_content", "test_image_content", `{}`, func(t *testing.T, _ *mcpv1.ToolResult, b []block) {
			checkPNG(t, b[0].Data)
		}},
		{"get-audio", "get-audio", `{}`, func(t *testing.T, _ *mcpv1.ToolResult, b []block) {
			if b[0].Type != "audio" || b[0].MimeType != "audio/wav" {
				t.Fatalf("got %+v", b[0])
			}
			checkWAV(t, b[0].Data)
		}},
		{"test_audio_content", "test_audio_content", `null`, func(t *testing.T, _ *mcpv1.ToolResult, b []block) {
			checkWAV(t, b[0].Data)
		}},
		{"get-resource", "get-resource", `{}`, func(t *testing.T, _ *mcpv1.ToolResult, b []block) {
			if b[0].Type != "resource" || b[0].Resource == nil || b[0].Resource.URI != "everything://static/1" ||
				b[0].Resource.MimeType != "text/plain" || b[0].Resource.Text == "" {
				t.Errorf("got %+v", b[0])
			}
		}},
		{"test_embedded_resource", "test_embedded_resource", `{}`, func(t *testing.T, _ *mcpv1.ToolResult, b []block) {
			if b[0].Resource == nil || b[0].Resource.URI != "test://embedded-resource" || b[0].Resource.Text != "This is an embedded resource content." {
				t.Errorf("got %+v", b[0])
			}
		}},
		{"get-resource-links", "get-resource-links", `{}`, func(t *testing.T, _ *mcpv1.ToolResult, b []block) {
			links := 0
			for _, blk := range b {
				if blk.Type == "resource_link" {
					links++
					if blk.URI == "" || blk.Name == "" {
						t.Errorf("incomplete link %+v", blk)
					}
				}
			}
			if links == 0 {
				t.Errorf("no resource_link blocks in %+v", b)
			}
		}},
		{"test_multiple_content_types", "test_multiple_content_types", `{}`, func(t *testing.T, _ *mcpv1.ToolResult, b []block) {
			var types []string
			for _, blk := range b {
				types = append(types, blk.Type)
			}
			if strings.Join(types, ",") != "text,image,resource" || b[2].Resource.Text != `{"test":"data","value":123}` {
				t.Errorf("got %+v", b)
			}
		}},
		{"get-mixed-content", "get-mixed-content", `{}`, func(t *testing.T, _ *mcpv1.ToolResult, b []block) {
			if len(b) != 4 || b[3].Type != "resource" {
				t.Errorf("got %+v", b)
			}
		}},
		{"test_simple_text", "test_simple_text", ``, func(t *testing.T, _ *mcpv1.ToolResult, b []block) {
			if b[0].Text != "This is a simple text response for testing." {
				t.Errorf("got %+v", b)
			}
		}},
		{"fail", "fail", `{}`, func(t *testing.T, res *mcpv1.ToolResult, b []block) {
			if !res.GetIsError() || b[0].Text == "" {
				t.Errorf("want is_error with text, got %v %+v", res.GetIsError(), b)
			}
		}},
		{"test_error_handling", "test_error_handling", `{}`, func(t *testing.T, res *mcpv1.ToolResult, b []block) {
			if !res.GetIsError() || b[0].Text != "This tool intentionally returns an error for testing" {
				t.Errorf("got %v %+v", res.GetIsError(), b)
			}
		}},
		{"json_schema_2020_12_tool", "json_schema_2020_12_tool", `{"name":"Ada","address":{"street":"1 Main","city":"Town"},"contactMethod":"phone","phone":"555"}`, func(t *testing.T, res *mcpv1.ToolResult, b []block) {
			if res.GetIsError() || !strings.Contains(b[0].Text, "Ada") || !strings.Contains(b[0].Text, "Town") || !strings.Contains(b[0].Text, `phone "555"`) {
				t.Errorf("got %+v", b)
			}
		}},
		{"test_reconnection", "test_reconnection", `{}`, func(t *testing.T, res *mcpv1.ToolResult, b []block) {
			if res.GetIsError() || b[0].Text == "" {
				t.Errorf("got %+v", b)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := callTool(t, c, &providerv1.CallToolRequest{Name: tt.tool, Arguments: []byte(tt.args)})
			if err != nil {
				t.Fatalf("CallTool: %v", err)
			}
			if len(events) != 1 {
				t.Fatalf("want only the result event, got %d", len(events))
			}
			res := lastResult(t, events)
			tt.check(t, res, decodeBlocks(t, res.GetContent()))
		})
	}
}

func TestCallToolBadArguments(t *testing.T) {
	c, _ := serve(t)
	tests := []struct {
		tool, args, want string
	}{
		{"echo", `{`, "not valid JSON"},
		{"echo", `{"message":5}`, `argument "message" must be a string, not number`},
		{"echo", `{}`, `argument "message" is required`},
		{"echo", `[1,2]`, "must be a JSON object"},
		{"echo", `"text"`, "must be a JSON object"},
		{"add", `{"a":"x","b":1}`, `argument "a" must be a number, not string`},
		{"add", `{"a":1}`, `argument "b" is required`},
		{"add", `{"a":1e308,"b":1e308}`, "too large"},
		{"slow", `{"duration_ms":99999}`, `"duration_ms" must be between 0 and 30000`},
		{"slow", `{"steps":0}`, `"steps" must be between 1 and 100`},
		{"slow", `{"steps":1.5}`, `argument "steps" must be an integer`},
		{"long-task", `{"duration_ms":600001}`, `"duration_ms" must be between 0 and 600000`},
		{"get-image", `{`, "not valid JSON"},
		{"json_schema_2020_12_tool", `{"extra":1}`, `unknown field "extra"`},
		{"test_sampling", `{}`, `argument "prompt" is required`},
		{"test_elicitation", `{"message":true}`, `argument "message" must be a string`},
	}
	for _, tt := range tests {
		t.Run(tt.tool+" "+tt.args, func(t *testing.T) {
			events, err := callTool(t, c, &providerv1.CallToolRequest{Name: tt.tool, Arguments: []byte(tt.args)})
			if err != nil {
				t.Fatalf("bad arguments must be a tool error, not a gRPC error: %v", err)
			}
			res := lastResult(t, events)
			b := decodeBlocks(t, res.GetContent())
			if !res.GetIsError() || len(b) != 1 || !strings.Contains(b[0].Text, tt.want) {
				t.Errorf("want is_error containing %q, got %v %+v", tt.want, res.GetIsError(), b)
			}
		})
	}
}

func TestCallToolUnknown(t *testing.T) {
	c, _ := serve(t)
	_, err := callTool(t, c, &providerv1.CallToolRequest{Name: "no-such-tool"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("want NotFound, got %v", err)
	}
}

func TestCatalogueToolsAreWellFormedAndCallable(t *testing.T) {
	c, _ := serve(t)
	desc, err := c.Describe(context.Background(), &providerv1.DescribeRequest{})
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if desc.GetName() != "everything" || desc.GetVersion() == "" || desc.GetInstructions() == "" {
		t.Errorf("describe header: %q %q %q", desc.GetName(), desc.GetVersion(), desc.GetInstructions())
	}
	// Arguments that make every tool finish quickly; the rest take none or are happy with {}.
	args := map[string]string{
		"echo": `{"message":"x"}`, "add": `{"a":1,"b":2}`,
		"slow": `{"duration_ms":0,"steps":1}`, "long-running-operation": `{"duration_ms":0,"steps":1}`,
		"long-task": `{"duration_ms":0,"steps":1}`,
		"sample":    `{"prompt":"p"}`, "test_sampling": `{"prompt":"p"}`,
		"elicit": `{"message":"m"}`, "test_elicitation": `{"message":"m"}`,
		"greet": `{"name":"Ada"}`, "slow_compute": `{"seconds":0}`, "confirm_delete": `{"filename":"f"}`,
		"test_custom_headers": `{"region":"eu","priority":1,"query":"q"}`,
	}
	// Tools that fail on purpose, with the gRPC error they end with.
	failing := map[string]codes.Code{"protocol_error_job": codes.Internal}
	seen := map[string]bool{}
	for _, tool := range desc.GetCatalogue().GetTools() {
		seen[tool.GetName()] = true
		var schema struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(tool.GetInputSchema(), &schema); err != nil || schema.Type != "object" {
			t.Errorf("%s: input schema must be an object schema: %s", tool.GetName(), tool.GetInputSchema())
		}
		if tool.GetTitle() == "" || tool.GetDescription() == "" {
			t.Errorf("%s: missing title or description", tool.GetName())
		}
		if len(tool.GetOutputSchema()) > 0 && !json.Valid(tool.GetOutputSchema()) {
			t.Errorf("%s: invalid output schema", tool.GetName())
		}
		if len(tool.GetAnnotations()) > 0 && !json.Valid(tool.GetAnnotations()) {
			t.Errorf("%s: invalid annotations", tool.GetName())
		}
		a, ok := args[tool.GetName()]
		if !ok {
			a = `{}`
		}
		events, err := callTool(t, c, &providerv1.CallToolRequest{Name: tool.GetName(), Arguments: []byte(a)})
		if code, ok := failing[tool.GetName()]; ok {
			if status.Code(err) != code {
				t.Errorf("%s: got %v, want %v", tool.GetName(), err, code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tool.GetName(), err)
			continue
		}
		if len(events) == 0 || (events[len(events)-1].GetResult() == nil && events[len(events)-1].GetInputRequired() == nil) {
			t.Errorf("%s: stream did not end with an outcome", tool.GetName())
		}
	}
	for _, name := range []string{
		"echo", "add", "slow", "long-running-operation", "long-task", "get-image", "get-audio", "get-resource", "fail", "log",
		"test_simple_text", "test_image_content", "test_audio_content", "test_embedded_resource",
		"test_multiple_content_types", "test_tool_with_logging", "test_tool_with_progress", "test_error_handling",
		"test_sampling", "test_elicitation", "test_elicitation_sep1034_defaults", "test_elicitation_sep1330_enums",
		"json_schema_2020_12_tool", "test_reconnection",
	} {
		if !seen[name] {
			t.Errorf("tool %s missing from the catalogue", name)
		}
	}
}

func TestJSONSchema2020KeywordsSurvive(t *testing.T) {
	c, _ := serve(t)
	desc, err := c.Describe(context.Background(), &providerv1.DescribeRequest{})
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	for _, tool := range desc.GetCatalogue().GetTools() {
		if tool.GetName() != "json_schema_2020_12_tool" {
			continue
		}
		var s struct {
			Schema string `json:"$schema"`
			Defs   map[string]struct {
				Anchor string `json:"$anchor"`
			} `json:"$defs"`
			AdditionalProperties *bool             `json:"additionalProperties"`
			AllOf                []json.RawMessage `json:"allOf"`
			If, Then, Else       json.RawMessage
		}
		if err := json.Unmarshal(tool.GetInputSchema(), &s); err != nil {
			t.Fatal(err)
		}
		if s.Schema != "https://json-schema.org/draft/2020-12/schema" || s.Defs["address"].Anchor != "addressDef" ||
			s.AdditionalProperties == nil || *s.AdditionalProperties || len(s.AllOf) != 1 ||
			s.If == nil || s.Then == nil || s.Else == nil {
			t.Errorf("schema lacks the 2020-12 keywords the conformance suite checks: %s", tool.GetInputSchema())
		}
		return
	}
	t.Fatal("json_schema_2020_12_tool not found")
}

func TestProgress(t *testing.T) {
	c, _ := serve(t)
	tests := []struct {
		name      string
		tool      string
		args      string
		requested bool
		want      []float64
		wantTotal float64
	}{
		{"slow five steps", "slow", `{"duration_ms":50,"steps":5}`, true, []float64{1, 2, 3, 4, 5}, 5},
		{"long-running-operation", "long-running-operation", `{"duration_ms":20,"steps":2}`, true, []float64{1, 2}, 2},
		{"long-task", "long-task", `{"duration_ms":30,"steps":3}`, true, []float64{1, 2, 3}, 3},
		{"conformance", "test_tool_with_progress", `{}`, true, []float64{0, 50, 100}, 100},
		{"not requested", "slow", `{"duration_ms":10,"steps":3}`, false, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := callTool(t, c, &providerv1.CallToolRequest{
				Name: tt.tool, Arguments: []byte(tt.args),
				Context: &mcpv1.RequestContext{ProgressRequested: tt.requested},
			})
			if err != nil {
				t.Fatalf("CallTool: %v", err)
			}
			res := lastResult(t, events)
			if res.GetIsError() {
				t.Fatalf("tool error: %s", res.GetContent())
			}
			var got []float64
			for _, ev := range events[:len(events)-1] {
				p := ev.GetProgress()
				if p == nil {
					t.Fatalf("unexpected event before the result: %v", ev)
				}
				if p.GetTotal() != tt.wantTotal || p.GetMessage() == "" {
					t.Errorf("progress %v: want total %v and a message", p, tt.wantTotal)
				}
				got = append(got, p.GetProgress())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("progress %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("progress %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestSlowStopsOnCancellation runs the handlers directly: a long call must return
// context.Canceled as soon as its context ends (the test would hang otherwise).
func TestSlowStopsOnCancellation(t *testing.T) {
	p, err := New(DefaultConfig(), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ tool, args string }{
		{"slow", `{"duration_ms":30000,"steps":100}`},
		{"long-task", `{"duration_ms":600000,"steps":1000}`},
	} {
		t.Run(tt.tool, func(t *testing.T) {
			tool, ok := p.tools.Lookup(tt.tool)
			if !ok {
				t.Fatalf("%s not found", tt.tool)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			em := &recordingEmitter{onProgress: cancel}
			_, err = tool.Run(ctx, &tools.Call{Name: tt.tool, Arguments: []byte(tt.args), Emit: em})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("want context.Canceled, got %v", err)
			}
			if len(em.progress) != 1 {
				t.Fatalf("want exactly the one progress event before cancellation, got %v", em.progress)
			}
		})
	}
}

// TestLongTaskIsMarkedForTasks: the long-running task tools say clients may (or must)
// run them as tasks; other tools say nothing.
func TestLongTaskIsMarkedForTasks(t *testing.T) {
	c, _ := serve(t)
	desc, err := c.Describe(context.Background(), &providerv1.DescribeRequest{})
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	const optional, required = `{"taskSupport":"optional"}`, `{"taskSupport":"required"}`
	tasks := map[string]string{
		"long-task": optional, "slow_compute": optional, "protocol_error_job": optional,
		"confirm_delete": optional, "multi_input": optional,
		"failing_job": required, "test_tool_with_task": required,
	}
	for _, tool := range desc.GetCatalogue().GetTools() {
		want := tasks[tool.GetName()]
		if got := string(tool.GetExecution()); got != want {
			t.Errorf("%s: execution %q, want %q", tool.GetName(), got, want)
		}
	}
}

func TestSlowCancelledOverGRPC(t *testing.T) {
	c, _ := serve(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := c.CallTool(ctx, &providerv1.CallToolRequest{
		Name: "slow", Arguments: []byte(`{"duration_ms":30000,"steps":100}`),
		Context: &mcpv1.RequestContext{ProgressRequested: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || first.GetProgress() == nil {
		t.Fatalf("want a first progress event, got %v, %v", first, err)
	}
	cancel()
	for {
		_, err = stream.Recv()
		if err != nil {
			break
		}
	}
	if status.Code(err) != codes.Canceled {
		t.Fatalf("want Canceled, got %v", err)
	}
	// The server's cleanup (GracefulStop) waits for the handler: it returns at once only
	// when the handler honoured the cancellation.
}

func TestLogFiltering(t *testing.T) {
	c, _ := serve(t)
	tests := []struct {
		tool, level string
		want        []string
	}{
		{"log", "debug", []string{"debug", "info", "warning", "error"}},
		{"log", "info", []string{"info", "warning", "error"}},
		{"log", "warning", []string{"warning", "error"}},
		{"log", "critical", nil},
		{"log", "", nil},
		{"log", "verbose", nil},
		{"test_tool_with_logging", "debug", []string{"info", "info", "info"}},
		{"test_tool_with_logging", "error", nil},
	}
	for _, tt := range tests {
		t.Run(tt.tool+"@"+tt.level, func(t *testing.T) {
			events, err := callTool(t, c, &providerv1.CallToolRequest{
				Name: tt.tool, Context: &mcpv1.RequestContext{LogLevel: tt.level},
			})
			if err != nil {
				t.Fatalf("CallTool: %v", err)
			}
			lastResult(t, events)
			var got []string
			for _, ev := range events[:len(events)-1] {
				l := ev.GetLog()
				if l == nil {
					t.Fatalf("unexpected event %v", ev)
				}
				var msg string
				if err := json.Unmarshal(l.GetData(), &msg); err != nil || msg == "" || l.GetLogger() == "" {
					t.Errorf("log data must be a non-empty JSON string with a logger: %s %q", l.GetData(), l.GetLogger())
				}
				got = append(got, l.GetLevel())
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("levels %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInProcessChannel(t *testing.T) {
	// The same provider served through kit's in-process channel, as -target=all does.
	p, err := New(DefaultConfig(), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	srv := newInProcessServer(p)
	defer srv.Shutdown(context.Background()) // stops the server's stream workers
	c := providerv1.NewProviderServiceClient(srv.InProcess())
	events, err := callTool(t, c, &providerv1.CallToolRequest{Name: "echo", Arguments: []byte(`{"message":"in"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if b := decodeBlocks(t, lastResult(t, events).GetContent()); b[0].Text != "Echo: in" {
		t.Errorf("got %+v", b)
	}
}
