package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"
	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"

	"github.com/mcpmesh/mcpmesh/sdk/provider/content"
)

type addIn struct {
	A float64 `json:"a" jsonschema:"the first addend"`
	B float64 `json:"b,omitempty" jsonschema:"the second addend, 0 when left out"`
}

type addOut struct {
	Sum float64 `json:"sum"`
}

func add(_ context.Context, in addIn) (addOut, error) { return addOut{Sum: in.A + in.B}, nil }

// TestTypedToolSchemas: the schemas come from the Go types: properties by json name,
// required unless omitempty, descriptions from the jsonschema tag.
func TestTypedToolSchemas(t *testing.T) {
	c, _ := serve(t, Options{Version: "1.2.3"}, Tool("add", "Adds two numbers.", add, WithTitle("Add")))
	d, err := c.Describe(context.Background(), &providerv1.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if d.GetName() != "test" || d.GetVersion() != "1.2.3" || len(d.GetCatalogue().GetTools()) != 1 {
		t.Fatalf("describe: %v", d)
	}
	tool := d.GetCatalogue().GetTools()[0]
	if tool.GetTitle() != "Add" || tool.GetDescription() != "Adds two numbers." {
		t.Errorf("tool entry: %v", tool)
	}
	var in struct {
		Type       string
		Required   []string
		Properties map[string]struct{ Type, Description string }
	}
	if err := json.Unmarshal(tool.GetInputSchema(), &in); err != nil {
		t.Fatal(err)
	}
	if in.Type != "object" || fmt.Sprint(in.Required) != "[a]" || in.Properties["a"].Type != "number" ||
		in.Properties["a"].Description != "the first addend" || in.Properties["b"].Type != "number" {
		t.Errorf("input schema: %s", tool.GetInputSchema())
	}
	if !strings.Contains(string(tool.GetOutputSchema()), `"sum"`) {
		t.Errorf("output schema: %s", tool.GetOutputSchema())
	}
}

func TestTypedToolResults(t *testing.T) {
	c, _ := serve(t, Options{},
		Tool("add", "", add),
		Tool("greet", "", func(_ context.Context, in struct {
			Name string `json:"name"`
		}) (string, error) {
			return "Hello, " + in.Name, nil
		}),
		Tool("refuse", "", func(context.Context, struct{}) (*Result, error) {
			return nil, Errorf("cannot do that: %s", "quota")
		}),
		Tool("broken", "", func(context.Context, struct{}) (*Result, error) {
			return nil, errors.New("database password rejected")
		}),
		Tool("missing", "", func(context.Context, struct{}) (*Result, error) {
			return nil, fmt.Errorf("%w: no such item", ErrNotFound)
		}),
	)
	tests := []struct {
		name, tool, args string
		wantContent      string // substring of the content
		wantStructured   string
		wantIsError      bool
		wantCode         codes.Code
	}{
		{"structured", "add", `{"a":1,"b":2}`, `"text":"{\"sum\":3}"`, `{"sum":3}`, false, codes.OK},
		{"string is text", "greet", `{"name":"Ada"}`, `[{"type":"text","text":"Hello, Ada"}]`, "", false, codes.OK},
		{"bad arguments are a tool error", "add", `{"a":"one"}`, `Invalid arguments for tool add: argument \"a\" must be a number, not string`, "", true, codes.OK},
		{"ToolError is a tool error", "refuse", `{}`, `cannot do that: quota`, "", true, codes.OK},
		{"other errors are masked", "broken", `{}`, "", "", false, codes.Internal},
		{"ErrNotFound", "missing", `{}`, "", "", false, codes.NotFound},
		{"unknown tool", "nope", `{}`, "", "", false, codes.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := callTool(context.Background(), c, &providerv1.CallToolRequest{Name: tt.tool, Arguments: []byte(tt.args)})
			if status.Code(err) != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", status.Code(err), err, tt.wantCode)
			}
			if tt.wantCode != codes.OK {
				if strings.Contains(err.Error(), "password") {
					t.Errorf("internal error leaked: %v", err)
				}
				return
			}
			res := events[len(events)-1].GetResult()
			if !strings.Contains(string(res.GetContent()), tt.wantContent) || string(res.GetStructuredContent()) != tt.wantStructured || res.GetIsError() != tt.wantIsError {
				t.Errorf("result %v", res)
			}
		})
	}
}

// TestInputRequired: a tool asks the client, then runs again with the answer and its state.
func TestInputRequired(t *testing.T) {
	type state struct{ Round int }
	c, _ := serve(t, Options{}, Tool("confirm", "", func(ctx context.Context, _ struct{}) (string, error) {
		raw, ok := InputResponse(ctx, "ok")
		if !ok {
			return "", &InputRequired{Requests: map[string]InputRequest{"ok": Elicit("Sure?", map[string]any{"type": "object"})}, State: state{Round: 1}}
		}
		var s state
		if !RequestState(ctx, &s) {
			return "", errors.New("no state")
		}
		return fmt.Sprintf("round %d answered %s", s.Round, raw), nil
	}))
	events, err := callTool(context.Background(), c, &providerv1.CallToolRequest{Name: "confirm"})
	if err != nil {
		t.Fatal(err)
	}
	ir := events[len(events)-1].GetInputRequired()
	if ir == nil || !strings.Contains(string(ir.GetInputRequests()["ok"]), `"method":"elicitation/create"`) || string(ir.GetRequestState()) != `{"Round":1}` {
		t.Fatalf("want input_required, got %v", events)
	}
	events, err = callTool(context.Background(), c, &providerv1.CallToolRequest{Name: "confirm", Context: &mcpv1.RequestContext{
		InputResponses: map[string][]byte{"ok": []byte(`{"action":"accept"}`)}, RequestState: ir.GetRequestState(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(events[len(events)-1].GetResult().GetContent()); !strings.Contains(got, `round 1 answered {\"action\":\"accept\"}`) {
		t.Errorf("second round: %s", got)
	}
}

// TestProgressAndLog: events reach the stream only when the client asked for them.
func TestProgressAndLog(t *testing.T) {
	c, _ := serve(t, Options{Name: "steps"}, Tool("work", "", func(ctx context.Context, _ struct{}) (string, error) {
		for i := range 2 {
			if err := Progress(ctx, float64(i+1), 2, "step"); err != nil {
				return "", err
			}
		}
		if err := Log(ctx, LevelDebug, "hidden below info"); err != nil {
			return "", err
		}
		if err := Log(ctx, LevelWarning, map[string]int{"left": 0}); err != nil {
			return "", err
		}
		return "done", nil
	}))
	events, err := callTool(context.Background(), c, &providerv1.CallToolRequest{Name: "work", Context: &mcpv1.RequestContext{ProgressRequested: true, LogLevel: "info"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		switch {
		case ev.GetProgress() != nil:
			got = append(got, fmt.Sprintf("progress %g/%g", ev.GetProgress().GetProgress(), ev.GetProgress().GetTotal()))
		case ev.GetLog() != nil:
			got = append(got, fmt.Sprintf("log %s %s %s", ev.GetLog().GetLevel(), ev.GetLog().GetLogger(), ev.GetLog().GetData()))
		case ev.GetResult() != nil:
			got = append(got, "result")
		}
	}
	if want := `[progress 1/2 progress 2/2 log warning steps {"left":0} result]`; fmt.Sprint(got) != want {
		t.Errorf("events %v, want %s", got, want)
	}
	events, err = callTool(context.Background(), c, &providerv1.CallToolRequest{Name: "work"})
	if err != nil || len(events) != 1 {
		t.Errorf("without progress or log level want only the result, got %v, %v", events, err)
	}
}

func TestNewRejectsBadFeatures(t *testing.T) {
	noop := func(context.Context, struct{}) (string, error) { return "", nil }
	for name, tc := range map[string]struct {
		opts     Options
		features []Feature
	}{
		"bad name":                  {Options{Name: "Bad Name"}, nil},
		"duplicate tool":            {Options{Name: "p"}, []Feature{Tool("t", "", noop), Tool("t", "", noop)}},
		"non-object input":          {Options{Name: "p"}, []Feature{Tool("t", "", func(context.Context, int) (string, error) { return "", nil })}},
		"non-object output":         {Options{Name: "p"}, []Feature{Tool("t", "", func(context.Context, struct{}) (int, error) { return 0, nil })}},
		"raw without schema":        {Options{Name: "p"}, []Feature{RawTool(&mcpv1.Tool{Name: "t"}, func(context.Context, *ToolCall) (Outcome, error) { return Outcome{}, nil })}},
		"template without variable": {Options{Name: "p"}, []Feature{ResourceTemplate("x://a", "a", func(context.Context, string, map[string]string) ([]content.ResourceContents, error) { return nil, nil })}},
	} {
		if _, err := New(tc.opts, tc.features...); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}
